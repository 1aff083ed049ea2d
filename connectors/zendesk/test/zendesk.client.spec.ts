/**
 * toConnectorError: every Zendesk failure → one ConnectorError kind (no I/O).
 */
import { describe, expect, it } from '@jest/globals';
import { toConnectorError, type ZendeskFailure } from '../zendesk.client';

const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });
const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });

describe('toConnectorError', () => {
  it.each<[string, Partial<ZendeskFailure>, string, number | undefined]>([
    ['401', { status: 401, body: { error: "Couldn't authenticate you" } }, 'auth', undefined],
    ['403', { status: 403 }, 'auth', undefined],
    ['429 + Retry-After: 7', { status: 429, headers: headers({ 'retry-after': '7' }) }, 'rate_limited', 7000],
    ['429 without Retry-After', { status: 429 }, 'rate_limited', undefined],
    ['404', { status: 404, body: { error: 'RecordNotFound', description: 'Not found' } }, 'not_found', undefined],
    ['409 (concurrent ticket update)', { status: 409 }, 'transient', undefined],
    ['422 RecordInvalid', { status: 422, body: { error: 'RecordInvalid', details: { requester: [{ description: 'Requester: is invalid' }] } } }, 'invalid_request', undefined],
    ['422 DuplicateValue', { status: 422, body: { error: 'RecordInvalid', details: { external_id: [{ description: 'has already been taken', error: 'DuplicateValue' }] } } }, 'conflict', undefined],
    ['400', { status: 400 }, 'invalid_request', undefined],
    ['413', { status: 413 }, 'invalid_request', undefined],
    ['500', { status: 500 }, 'transient', undefined],
    ['502 (returned, not thrown, by node-zendesk)', { status: 502 }, 'transient', undefined],
    ['408', { status: 408 }, 'transient', undefined],
    ['418', { status: 418 }, 'permanent', undefined],
    ['timeout', { cause: timeout }, 'transient', undefined],
    ['connection refused', { cause: refused }, 'transient', undefined],
    ['unreadable 200 body', { status: 200, cause: new SyntaxError('Unexpected token <') }, 'transient', undefined],
    ['a bug of ours', { cause: new RangeError('bad') }, 'permanent', undefined],
  ])('%s → %s', (_name, failure, kind, retryAfterMs) => {
    const error = toConnectorError({ operation: 'tickets.update', ...failure });
    expect(error).toMatchObject({ kind, retryAfterMs });
    expect(error.message).toContain('Zendesk tickets.update');
  });

  it('names invalid fields, never their values', () => {
    const error = toConnectorError({
      operation: 'users.create_or_update',
      status: 422,
      body: { error: 'RecordInvalid', details: { phone: [{ description: 'Phone: +48601234567 is invalid' }] } },
    });
    expect(error.message).toContain('[phone]');
    expect(error.message).not.toContain('+48601234567');
  });
});
