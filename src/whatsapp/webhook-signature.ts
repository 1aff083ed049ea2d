import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks Meta's X-Hub-Signature-256 header ("sha256=" + hex HMAC-SHA256 of the raw body under the
 * app secret). Accepts any of `secrets`, so a secret can be rotated without dropping webhooks.
 * The comparison is constant-time; the body must be the exact bytes received.
 */
export function verifyMetaSignature(rawBody: Buffer, header: string | undefined, secrets: string[]): boolean {
  if (!header || secrets.length === 0) return false;
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    // No early exit: every secret is compared so timing does not reveal which one matched.
    ok = timingSafeEqual(expected, given) || ok;
  }
  return ok;
}

/** The X-Hub-Signature-256 header Meta sends for `rawBody` (what the sandbox phone signs its webhooks with). */
export function metaSignature(rawBody: Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
