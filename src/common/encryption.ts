import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encryption of secrets at rest (connection credentials): AES-256-GCM with a random 12-byte IV.
 *
 * A value is `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). The key id (first 8 hex of
 * sha256 of the key bytes) says which key wrote it, so during a rotation the service reads values
 * written under the previous key and rewrites them under the current one. The version and key id
 * are authenticated too (GCM additional data): changing any part makes decryption fail.
 */

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A value that cannot be decrypted: tampered, truncated, not ours, or written under an unknown key. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

/** A key that is not 32 bytes given as 64 hex characters or base64. The key itself is never quoted. */
export class InvalidEncryptionKeyError extends Error {
  constructor(which: string) {
    super(`${which} must be 32 bytes given as 64 hex characters or base64`);
    this.name = 'InvalidEncryptionKeyError';
  }
}

interface Key {
  id: string;
  bytes: Buffer;
}

/** Reads a key given as 64 hex characters, or as base64 / base64url of 32 bytes. */
export function parseEncryptionKey(value: string, which = 'the encryption key'): Buffer {
  const text = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === 32) return bytes;
  }
  throw new InvalidEncryptionKeyError(which);
}

/** The id written into every value: first 8 hex characters of sha256 of the key bytes. */
export function encryptionKeyId(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 8);
}

export class Encryption {
  private readonly current: Key;
  private readonly previous?: Key;

  /** `currentKey` encrypts; `previousKey` (during a rotation) only decrypts. */
  constructor(currentKey: string, previousKey?: string) {
    const current = parseEncryptionKey(currentKey, 'the encryption key');
    this.current = { id: encryptionKeyId(current), bytes: current };
    if (previousKey) {
      const previous = parseEncryptionKey(previousKey, 'the previous encryption key');
      this.previous = { id: encryptionKeyId(previous), bytes: previous };
    }
  }

  /** The id of the key new values are written under. */
  get keyId(): string {
    return this.current.id;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.bytes, iv);
    cipher.setAAD(Buffer.from(`${VERSION}.${this.current.id}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.current.id, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** The plaintext, or a DecryptionError saying why not (never quoting the value or a key). */
  decrypt(token: string): string {
    const parts = parse(token);
    const key = this.keyFor(parts.keyId);
    if (!key) {
      throw new DecryptionError(
        `the value was encrypted under key ${parts.keyId}, which is neither the current key (${this.current.id})` +
          (this.previous ? ` nor the previous one (${this.previous.id})` : ' and no previous key is configured'),
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, parts.iv);
      decipher.setAAD(Buffer.from(`${VERSION}.${parts.keyId}`));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      // GCM says only "unable to authenticate": the value or its key was changed.
      throw new DecryptionError(`the value failed its integrity check under key ${key.id} (tampered, truncated, or a different key with the same id)`);
    }
  }

  /** True when the value was written under the previous key and should be rewritten under the current one. */
  needsReencryption(token: string): boolean {
    const keyId = token.split('.')[1];
    return keyId !== this.current.id && this.previous !== undefined && keyId === this.previous.id;
  }

  private keyFor(id: string): Key | undefined {
    if (id === this.current.id) return this.current;
    if (this.previous && id === this.previous.id) return this.previous;
    return undefined;
  }
}

function parse(token: string): { keyId: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const parts = typeof token === 'string' ? token.split('.') : [];
  const b64url = /^[A-Za-z0-9_-]*$/;
  if (parts.length !== 5 || parts[0] !== VERSION || !/^[0-9a-f]{8}$/.test(parts[1]) || !parts.slice(2).every((p) => b64url.test(p))) {
    throw new DecryptionError('the value is not one this service encrypted (expected v1.<keyId>.<iv>.<tag>.<ciphertext>)');
  }
  const iv = Buffer.from(parts[2], 'base64url');
  const tag = Buffer.from(parts[3], 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError('the value is truncated or malformed');
  return { keyId: parts[1], iv, tag, ciphertext: Buffer.from(parts[4], 'base64url') };
}
