import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DecryptionError, Encryption, encryptionKeyId, InvalidEncryptionKeyError, parseEncryptionKey } from './encryption';

const hexKey = () => randomBytes(32).toString('hex');

/** The message of the error `fn` throws (fails the test when it throws none). */
function thrownMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('Encryption', () => {
  it('round-trips text, including unicode and the empty string', () => {
    const enc = new Encryption(hexKey());
    for (const plain of ['{"accessToken":"pat-na1-0123"}', 'zażółć gęślą jaźń 🚀', '']) {
      expect(enc.decrypt(enc.encrypt(plain))).toBe(plain);
    }
  });

  it('writes v1.<keyId>.<iv>.<tag>.<ciphertext> with a fresh IV each time and no plaintext', () => {
    const key = hexKey();
    const enc = new Encryption(key);
    const a = enc.encrypt('pat-na1-secret-token');
    const b = enc.encrypt('pat-na1-secret-token');
    expect(a).not.toBe(b);
    const parts = a.split('.');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe('v1');
    expect(parts[1]).toBe(encryptionKeyId(Buffer.from(key, 'hex')));
    expect(parts[1]).toBe(enc.keyId);
    expect(Buffer.from(parts[2], 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[3], 'base64url')).toHaveLength(16);
    expect(parts.slice(2).every((p) => /^[A-Za-z0-9_-]+$/.test(p))).toBe(true);
    expect(a).not.toContain('secret');
    expect(Buffer.from(parts[4], 'base64url').toString('utf8')).not.toContain('secret');
  });

  it('rejects a changed ciphertext, tag or IV, or a truncated value, with a DecryptionError that quotes nothing secret', () => {
    const key = hexKey();
    const enc = new Encryption(key);
    const token = enc.encrypt('pat-na1-secret-token');
    const parts = token.split('.');
    const flip = (part: string) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0] ^= 1;
      return bytes.toString('base64url');
    };
    const tampered = [
      [parts[0], parts[1], parts[2], parts[3], flip(parts[4])],
      [parts[0], parts[1], parts[2], flip(parts[3]), parts[4]],
      [parts[0], parts[1], flip(parts[2]), parts[3], parts[4]],
      [parts[0], parts[1], parts[2], parts[3], parts[4].slice(0, -2)],
    ].map((p) => p.join('.'));
    for (const t of tampered) {
      expect(() => enc.decrypt(t)).toThrow(DecryptionError);
      const message = thrownMessage(() => enc.decrypt(t));
      expect(message).toMatch(/integrity check/);
      expect(message).not.toContain(key);
      expect(message).not.toContain('secret');
    }
  });

  it('rejects values that are not its format', () => {
    const enc = new Encryption(hexKey());
    for (const bad of ['', 'plain text', 'v2.abcdef01.a.b.c', 'v1.zz.a.b.c', 'v1.abcdef01.!!.b.c', 'v1.abcdef01.AAAA.AAAA.AAAA']) {
      expect(() => enc.decrypt(bad)).toThrow(DecryptionError);
    }
  });

  it('reads values written under the previous key during a rotation and says they need re-encryption', () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const before = new Encryption(oldKey);
    const written = before.encrypt('{"apiToken":"zd-123"}');
    expect(before.needsReencryption(written)).toBe(false);

    const during = new Encryption(newKey, oldKey);
    expect(during.decrypt(written)).toBe('{"apiToken":"zd-123"}');
    expect(during.needsReencryption(written)).toBe(true);
    const rewritten = during.encrypt(during.decrypt(written));
    expect(during.needsReencryption(rewritten)).toBe(false);
    expect(rewritten.split('.')[1]).toBe(during.keyId);

    // Once the previous key is dropped, only rewritten values remain readable.
    const after = new Encryption(newKey);
    expect(after.decrypt(rewritten)).toBe('{"apiToken":"zd-123"}');
    expect(() => after.decrypt(written)).toThrow(DecryptionError);
  });

  it('refuses a value written under a key it does not hold, naming key ids only', () => {
    const otherKey = hexKey();
    const written = new Encryption(otherKey).encrypt('x');
    const currentKey = hexKey();
    const enc = new Encryption(currentKey);
    expect(() => enc.decrypt(written)).toThrow(DecryptionError);
    const message = thrownMessage(() => enc.decrypt(written));
    expect(message).toContain(written.split('.')[1]);
    expect(message).toMatch(/no previous key/);
    expect(message).not.toContain(otherKey);
    expect(message).not.toContain(currentKey);
    expect(enc.needsReencryption(written)).toBe(false);
  });

  it('fails the integrity check when a different key claims the same id', () => {
    const written = new Encryption(hexKey()).encrypt('x');
    const [v, , iv, tag, ct] = written.split('.');
    const enc = new Encryption(hexKey());
    expect(() => enc.decrypt([v, enc.keyId, iv, tag, ct].join('.'))).toThrow(/integrity check/);
  });
});

describe('parseEncryptionKey', () => {
  const bytes = randomBytes(32);

  it('accepts 64 hex characters, base64 (padded or not) and base64url of 32 bytes, all with one key id', () => {
    const forms = [bytes.toString('hex'), bytes.toString('hex').toUpperCase(), bytes.toString('base64'), bytes.toString('base64').replace(/=$/, ''), bytes.toString('base64url'), `  ${bytes.toString('hex')}\n`];
    for (const form of forms) expect(parseEncryptionKey(form).equals(bytes)).toBe(true);
    const ids = new Set(forms.map((f) => new Encryption(f).keyId));
    expect(ids.size).toBe(1);
  });

  it('rejects keys of the wrong size or alphabet without quoting them', () => {
    const bad = [randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), randomBytes(48).toString('base64'), 'not a key at all', 'g'.repeat(64), ''];
    for (const key of bad) {
      expect(() => parseEncryptionKey(key)).toThrow(InvalidEncryptionKeyError);
    }
    expect(() => new Encryption('short-secret-value')).toThrow(/must be 32 bytes/);
    expect(() => new Encryption(bytes.toString('hex'), 'short-secret-value')).toThrow(/previous encryption key must be 32 bytes/);
    expect(thrownMessage(() => new Encryption('short-secret-value'))).not.toContain('short-secret-value');
  });

  it('decrypts with a key given in another form of the same bytes', () => {
    const token = new Encryption(bytes.toString('hex')).encrypt('same key');
    expect(new Encryption(bytes.toString('base64')).decrypt(token)).toBe('same key');
  });
});
