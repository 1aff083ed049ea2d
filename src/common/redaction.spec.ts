import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { redactText } from './redaction';

describe('redaction', () => {
  it.each([
    ['call +48 601 234 567 today', 'call [phone] today'],
    ['wa_id 4915112345678 failed', 'wa_id [phone] failed'],
    ['(650) 555-1234', '([phone]'],
    ['Authorization: Bearer abc.def-123', 'Authorization: Bearer [redacted]'],
    ['postgres://user:s3cret@db:5432/x', 'postgres://[redacted]@db:5432/x'],
  ])('scrubs %j', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('leaves ids that merely contain digits alone', () => {
    expect(redactText('message cb604212-99f5-4dd6-9e7d-37201e7dd042 synced')).toBe('message cb604212-99f5-4dd6-9e7d-37201e7dd042 synced');
    expect(redactText('task 12 of 400')).toBe('task 12 of 400');
  });

  it('keeps phone numbers, bodies and secrets out of structured log lines', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger({ level: 'info', redact: true, destination: sink });
    logger.info(
      { waId: '4915112345678', body: 'my card number is 4111', accessToken: 'tok-123', headers: { authorization: 'Bearer x' }, err: new Error('contact +49 151 1234 5678 exists') },
      'message stored',
    );
    const line = lines.join('');
    for (const secret of ['4915112345678', 'my card number', 'tok-123', 'Bearer x', '1234 5678']) expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
    expect(line).toContain('contact [phone] exists');
  });

  it('keeps addresses, ports, times and dates readable', () => {
    for (const text of ['connect ECONNREFUSED 127.0.0.1:5999', 'at 10.0.0.12 port 5432', 'retry at 12:30:05', 'since 2026-12-03', 'connect ECONNREFUSED ::1:6379']) {
      expect(redactText(text)).toBe(text);
    }
  });

  it('boots with LOG_REDACT=false and still keeps secrets out', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger({ level: 'info', redact: false, destination: sink });
    logger.info({ waId: '4915112345678', accessToken: 'tok-123', headers: { authorization: 'Bearer x' } }, 'message stored');
    const line = lines.join('');
    expect(line).toContain('4915112345678');
    for (const secret of ['tok-123', 'Bearer x']) expect(line).not.toContain(secret);
  });
});
