import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { verifyMetaSignature } from './webhook-signature';

const body = Buffer.from('{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"emoji":"\\ud83d\\udc4d"}');
const sign = (secret: string, bytes: Buffer = body) => `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;

describe('verifyMetaSignature', () => {
  it('accepts the signature of the exact bytes under the current secret', () => {
    expect(verifyMetaSignature(body, sign('current-secret'), ['current-secret'])).toBe(true);
  });

  it('accepts an upper-case hex digest', () => {
    expect(verifyMetaSignature(body, sign('s3cret').toUpperCase().replace('SHA256=', 'sha256='), ['s3cret'])).toBe(true);
  });

  it('rejects a missing header', () => {
    expect(verifyMetaSignature(body, undefined, ['s3cret'])).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyMetaSignature(body, sign('wrong-secret'), ['s3cret'])).toBe(false);
  });

  it('rejects when one byte of the body changed', () => {
    const tampered = Buffer.from(body);
    tampered[10] = tampered[10] ^ 1;
    expect(verifyMetaSignature(tampered, sign('s3cret'), ['s3cret'])).toBe(false);
  });

  it('rejects a body that was re-serialised (unicode escapes differ)', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
    expect(verifyMetaSignature(reserialised, sign('s3cret'), ['s3cret'])).toBe(false);
  });

  it('accepts the second secret during a rotation, and the first too', () => {
    expect(verifyMetaSignature(body, sign('new-secret'), ['old-secret', 'new-secret'])).toBe(true);
    expect(verifyMetaSignature(body, sign('old-secret'), ['old-secret', 'new-secret'])).toBe(true);
  });

  it('rejects malformed headers and an empty secret list', () => {
    expect(verifyMetaSignature(body, 'sha1=abc', ['s3cret'])).toBe(false);
    expect(verifyMetaSignature(body, 'sha256=zz', ['s3cret'])).toBe(false);
    expect(verifyMetaSignature(body, sign('s3cret'), [])).toBe(false);
  });
});
