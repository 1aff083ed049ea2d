/**
 * HubSpot → threadbridge webhooks: the v3 request signature, and the custom channel (and channel
 * account) the set-up registers so HubSpot posts agent replies to threadbridge. Pure: no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { HubspotChannelAccountInput, HubspotCustomChannelInput } from './hubspot.types';

export const SIGNATURE_V3_HEADER = 'x-hubspot-signature-v3';
export const REQUEST_TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';

/** Requests signed longer ago than this are refused (HubSpot's own validator uses 5 minutes). */
export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;
/** Tolerated clock skew for timestamps in the future. */
export const MAX_SIGNATURE_SKEW_MS = 60_000;

/**
 * Characters HubSpot decodes in the URI before signing (its request-validation guide lists
 * exactly these); every other escape stays as sent.
 */
const DECODED_IN_URI: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/** The URI as HubSpot signs it: the full URL with the characters above decoded. */
export function signedUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (escape) => DECODED_IN_URI[escape.toUpperCase()]);
}

/** `base64(HMAC-SHA256(appSecret, METHOD + URI + body + timestamp))`: HubSpot's v3 signature. */
export function signHubspotV3(secret: string, method: string, uri: string, rawBody: Buffer | string, timestamp: string): string {
  return createHmac('sha256', secret).update(method.toUpperCase()).update(uri).update(rawBody).update(timestamp).digest('base64');
}

export interface V3SignatureCheck {
  secret: string | undefined;
  signature: string | undefined;
  /** X-HubSpot-Request-Timestamp: epoch milliseconds. */
  timestamp: string | undefined;
  method: string;
  /** The full URL HubSpot called (scheme, host, path, query). */
  url: string;
  rawBody: Buffer;
  receivedAt: Date;
}

/**
 * Checks a request's v3 signature in constant time, and that it was signed within the last five
 * minutes (and not more than a minute ahead). The URI is tried as HubSpot signs it and, when that
 * differs, as received. False when anything is missing.
 */
export function verifyHubspotV3Signature(check: V3SignatureCheck): boolean {
  const { secret, signature, timestamp } = check;
  if (!secret || !signature || !timestamp || !/^\d{1,16}$/.test(timestamp.trim())) return false;
  const age = check.receivedAt.getTime() - Number(timestamp.trim());
  if (age > MAX_SIGNATURE_AGE_MS || age < -MAX_SIGNATURE_SKEW_MS) return false;

  const given = Buffer.from(signature.trim(), 'utf8');
  const uris = [...new Set([signedUri(check.url), check.url])];
  let valid = false;
  for (const uri of uris) {
    const expected = Buffer.from(signHubspotV3(secret, check.method, uri, check.rawBody, timestamp.trim()), 'utf8');
    // timingSafeEqual throws on different lengths; the length of a base64 HMAC is not a secret.
    if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}

// ---------------------------------------------------------------------------------------------
// The custom channel

export const CHANNEL_NAME = 'WhatsApp (threadbridge)';

/**
 * WhatsApp's limits, as the channel's capabilities: one file per message (WhatsApp sends one
 * media item per message), 16 MB (its audio/video ceiling; images are capped lower by Meta),
 * 4,096 characters of plain text. Threads follow our integrationThreadId (one per WhatsApp
 * conversation). Agents may not start conversations: outside the customer's 24-hour window
 * WhatsApp needs an approved template, which threadbridge's reply rules decide, not the inbox.
 */
export const CHANNEL_CAPABILITIES = {
  deliveryIdentifierTypes: ['HS_PHONE_NUMBER'],
  richText: [],
  threadingModel: 'INTEGRATION_THREAD_ID',
  allowInlineImages: false,
  allowOutgoingMessages: true,
  allowConversationStart: false,
  outgoingAttachmentTypes: ['FILE'],
  allowedFileAttachmentMimeTypes: ['image/jpeg', 'image/png', 'audio/ogg', 'audio/mpeg', 'audio/mp4', 'audio/aac', 'video/mp4', 'video/3gpp', 'application/pdf', 'text/plain'],
  maxFileAttachmentCount: 1,
  maxFileAttachmentSizeBytes: 16_000_000,
  maxTotalFileAttachmentSizeBytes: 16_000_000,
  maxTextLength: 4096,
} as const;

/** The channel registration: HubSpot posts agents' messages in it to `webhookUrl`. */
export function toCustomChannelInput(webhookUrl: string): HubspotCustomChannelInput {
  return {
    name: CHANNEL_NAME,
    webhookUrl,
    capabilities: { ...CHANNEL_CAPABILITIES },
    channelDescription: 'WhatsApp conversations synced by threadbridge: replies sent from the inbox go to the customer on WhatsApp.',
  };
}

/** The channel account: this portal's inbox, addressed by our WhatsApp business number. */
export function toChannelAccountInput(inboxId: string, deliveryIdentifier: string): HubspotChannelAccountInput {
  return {
    name: `WhatsApp ${deliveryIdentifier}`,
    inboxId,
    deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: deliveryIdentifier },
    authorized: true,
  };
}
