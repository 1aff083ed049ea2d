import { randomBytes, randomInt } from 'node:crypto';

/**
 * Realistic identifiers for the fake WhatsApp Cloud API and the webhook builders.
 *
 * A real wamid is `wamid.` + base64 of a small binary record. Decoding the ids in Meta's own examples
 * (business-messaging-api_v23.0.yaml) gives
 *   1c 18 <len> <wa_id digits> 15 02 00 <dir> 18 <n> <n upper-hex chars> 00
 * where <dir> is 0x12 with 20 hex chars for messages the customer sent, and 0x11 with 18 hex chars for
 * messages the business sent. We reproduce that layout so ids look and sort like the real thing, and
 * make the hex part start with a per-process counter so two ids can never collide in one run.
 */

let wamidCounter = 0;

/** Who sent the message the wamid names. */
export type WamidDirection = 'inbound' | 'outbound';

/**
 * A unique, realistic `wamid.` id.
 * @param waId the customer's wa_id the message belongs to (digits only); defaults to Meta's sample number.
 * @param direction 'inbound' (customer → business, the default) or 'outbound' (business → customer).
 */
export function nextWamid(waId = '16505551234', direction: WamidDirection = 'inbound'): string {
  const digits = waId.replace(/\D/g, '') || '0';
  const hexLength = direction === 'inbound' ? 20 : 18;
  wamidCounter += 1;
  const counterHex = wamidCounter.toString(16).toUpperCase().padStart(8, '0');
  const hex = (counterHex + randomBytes(hexLength).toString('hex').toUpperCase()).slice(0, hexLength);
  const record = Buffer.concat([
    Buffer.from([0x1c, 0x18, digits.length]),
    Buffer.from(digits, 'ascii'),
    Buffer.from([0x15, 0x02, 0x00, direction === 'inbound' ? 0x12 : 0x11, 0x18, hexLength]),
    Buffer.from(hex, 'ascii'),
    Buffer.from([0x00]),
  ]);
  return `wamid.${record.toString('base64')}`;
}

let mediaCounter = 0;
const mediaBase = 1_000_000_000_000_000 + randomInt(0, 1_000_000) * 1_000_000;

/** A unique numeric media id shaped like Meta's (16 digits, e.g. '1003383421387256'). */
export function nextMediaId(): string {
  mediaCounter += 1;
  return String(mediaBase + mediaCounter);
}

/** A Graph `fbtrace_id`-like token (23 url-safe base64 chars, e.g. 'AXsgnV2Cm3ZMGF3dF_cfYIn'). */
export function nextFbtraceId(): string {
  return randomBytes(18).toString('base64url').slice(0, 23);
}
