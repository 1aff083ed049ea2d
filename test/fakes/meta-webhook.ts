import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import axios from 'axios';

/**
 * Plays Meta's side of WhatsApp webhooks against our endpoint: signed notification POSTs and the
 * subscription handshake. See ../shared/VENDOR-APIS.md §1.2-1.4.
 */

/**
 * The `X-Hub-Signature-256` value Meta sends: `sha256=` + lowercase hex HMAC-SHA256 of the raw body,
 * keyed with the app secret.
 * @param rawBody the exact bytes that go on the wire (a string is taken as UTF-8)
 * @param appSecret the Meta app secret
 */
export function signMetaWebhook(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/** Options for `postMetaWebhook`. */
export interface PostMetaWebhookOptions {
  /** Send this header value instead of the correct signature (for rejection tests). */
  signature?: string;
  /** Send no `X-Hub-Signature-256` header at all. */
  omitSignature?: boolean;
  /** Extra headers, sent after the defaults. */
  headers?: Record<string, string>;
  /**
   * Re-deliver on any non-200 answer (or network error), as Meta does, up to this many extra attempts.
   * Default 0. Meta's real schedule spans days; tests pass a short `backoffMs`.
   */
  retries?: number;
  /** First retry delay, doubled after each attempt. Default 100 ms. */
  backoffMs?: number;
  /** Per-attempt timeout. Default 10 s. */
  timeoutMs?: number;
}

/** What the endpoint answered (the last attempt when retrying). */
export interface MetaWebhookResult {
  status: number;
  /** Parsed JSON when the answer was JSON, the text otherwise. */
  body: unknown;
  /** Number of deliveries made (1 + retries used). */
  attempts: number;
  /** The exact bytes that were signed and sent. */
  rawBody: Buffer;
}

function parseBody(text: string, contentType: unknown): unknown {
  if (typeof contentType === 'string' && contentType.includes('json') && text !== '') {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * POSTs a webhook notification the way Meta does: the payload is serialised once, and the signature
 * is computed over exactly those bytes (re-serialising would change e.g. emoji escapes and break it).
 * Non-2xx answers are returned, never thrown; a network error is thrown only when no retries remain.
 * @param targetUrl our webhook URL
 * @param payload an envelope object (e.g. from test/factories/whatsapp-webhook.factory) or a pre-serialised string
 * @param appSecret the app secret the receiver verifies with
 */
export async function postMetaWebhook(
  targetUrl: string,
  payload: object | string,
  appSecret: string,
  opts: PostMetaWebhookOptions = {},
): Promise<MetaWebhookResult> {
  const rawBody = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'facebookexternalua' };
  if (!opts.omitSignature) headers['x-hub-signature-256'] = opts.signature ?? signMetaWebhook(rawBody, appSecret);
  Object.assign(headers, opts.headers);

  const retries = opts.retries ?? 0;
  let wait = opts.backoffMs ?? 100;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await axios.post<string>(targetUrl, rawBody, {
        headers,
        timeout: opts.timeoutMs ?? 10_000,
        responseType: 'text',
        // Send the buffer untouched and hand back the raw text: no JSON round trips in either direction.
        transformRequest: [(data: unknown) => data],
        transformResponse: [(data: unknown) => data],
        validateStatus: () => true,
      });
      const result = { status: response.status, body: parseBody(response.data ?? '', response.headers['content-type']), attempts: attempt, rawBody };
      // Meta treats anything but 200 as a failed delivery.
      if (response.status === 200 || attempt > retries) return result;
    } catch (error) {
      if (attempt > retries) throw error;
    }
    await delay(wait);
    wait *= 2;
  }
}

/** Options for `verifyHandshake`. */
export interface VerifyHandshakeOptions {
  /** `hub.mode` to send. Default 'subscribe'. */
  mode?: string;
  /** `hub.challenge` to send. Default a random numeric string, as Meta uses. */
  challenge?: string;
}

/**
 * Performs Meta's subscription check: `GET <url>?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
 * @returns true when the endpoint answered 200 with exactly the challenge as its body.
 */
export async function verifyHandshake(
  targetUrl: string,
  verifyToken: string,
  opts: VerifyHandshakeOptions = {},
): Promise<boolean> {
  const challenge = opts.challenge ?? String(randomBytes(4).readUInt32BE() + 1_000_000_000);
  const url = new URL(targetUrl);
  url.searchParams.set('hub.mode', opts.mode ?? 'subscribe');
  url.searchParams.set('hub.verify_token', verifyToken);
  url.searchParams.set('hub.challenge', challenge);
  const response = await axios.get<string>(url.toString(), {
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    timeout: 10_000,
  });
  return response.status === 200 && String(response.data) === challenge;
}
