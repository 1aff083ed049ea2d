import { backoffDelayMs } from '../../tasks/backoff';

/** What the sender does about a failed call to the Cloud API, decided from Meta's answer alone. */
export type SendFailureDecision =
  /** The message can never go as it is: mark it failed with Meta's code; no retry. */
  | { action: 'permanent'; reason: string }
  /** Try this message again after `delayMs` (the attempt counts towards the limit). */
  | { action: 'retry'; delayMs: number; reason: string }
  /** Too many messages to this customer: this message (and those queued after it) wait. */
  | { action: 'recipient_backoff'; delayMs: number; reason: string }
  /** The business number is over its throughput: no worker sends from it for `delayMs`. */
  | { action: 'number_backoff'; delayMs: number; reason: string }
  /** The access token was refused: retry much later (an operator must renew it); logged as an error. */
  | { action: 'auth'; delayMs: number; reason: string };

export interface SendFailure {
  httpStatus?: number;
  /** Meta's error code, when the body carried one. */
  code?: number;
  retryAfterMs?: number;
  message: string;
}

/** Sends given up after this many transient failures (5xx, timeouts). */
export const MAX_SEND_ATTEMPTS = 8;
/** Meta allows about one message every 6 seconds to one customer once a burst is spent. */
export const PAIR_LIMIT_DELAY_MS = 6_000;
export const AUTH_RETRY_MS = 5 * 60_000;

/** Meta codes that mean the message itself can never be delivered as it is. */
const PERMANENT_CODES: Record<number, string> = {
  131047: 'outside the 24-hour window: only an approved template can be sent',
  131026: 'undeliverable: not a WhatsApp user, an outdated app, or the business is blocked',
  131049: "not delivered to keep WhatsApp's ecosystem healthy (per-user marketing limit)",
  131051: 'unsupported message type',
  132000: 'template parameters do not match the template',
  132001: 'the template does not exist in this language',
};

/** App, account or number throughput limits. */
const THROUGHPUT_CODES = new Set([130429, 4, 80007]);

/**
 * The error policy of WhatsApp sends:
 * 131047 / 131026 (and other refusals of the message itself) → permanent;
 * 131056 (pair rate limit) → later, for that recipient only (~6 s);
 * 130429, 4, 80007 or HTTP 429 → back off the whole business number;
 * 5xx, timeouts, no answer → retry with full-jitter backoff, up to MAX_SEND_ATTEMPTS;
 * 190 / HTTP 401 → retry later (the token must be renewed);
 * any other 4xx → permanent (the request is wrong; retrying cannot help).
 * @param attempts attempts of this message so far, this one included
 */
export function decideSendFailure(failure: SendFailure, attempts: number, random = Math.random): SendFailureDecision {
  const { code, httpStatus } = failure;
  const label = code !== undefined ? `(#${code}) ${failure.message}` : failure.message;
  if (code !== undefined && PERMANENT_CODES[code]) return { action: 'permanent', reason: `${PERMANENT_CODES[code]} — ${label}` };
  if (code === 131056) return { action: 'recipient_backoff', delayMs: Math.max(PAIR_LIMIT_DELAY_MS, failure.retryAfterMs ?? 0), reason: label };
  if ((code !== undefined && THROUGHPUT_CODES.has(code)) || httpStatus === 429) {
    return { action: 'number_backoff', delayMs: failure.retryAfterMs ?? Math.max(1000, backoffDelayMs(attempts, 2000, 60_000, random)), reason: label };
  }
  if (code === 190 || httpStatus === 401) return { action: 'auth', delayMs: AUTH_RETRY_MS, reason: label };
  if (httpStatus === undefined || httpStatus >= 500 || code === 131000) {
    if (attempts >= MAX_SEND_ATTEMPTS) return { action: 'permanent', reason: `gave up after ${attempts} attempts: ${label}` };
    return { action: 'retry', delayMs: failure.retryAfterMs ?? Math.max(500, backoffDelayMs(attempts, 1000, 5 * 60_000, random)), reason: label };
  }
  return { action: 'permanent', reason: `WhatsApp refused the request: ${label}` };
}
