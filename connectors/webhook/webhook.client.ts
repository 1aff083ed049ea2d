/**
 * Sends one signed event to the receiver and translates its answer into a ConnectorError
 * (toConnectorError): the one place that knows what a receiver's status codes mean.
 */
import { Webhook } from 'standardwebhooks';
import type { ConnectorDeps } from '../_sdk/contract';
import { ConnectorError, parseRetryAfter } from '../_sdk/errors';
import type { WebhookCredentialsDto } from './webhook.credentials';
import type { Delivery } from './webhook.types';

/** An event that could not be delivered for this long is set aside (a dead letter, replayable). */
export const GIVE_UP_AFTER_MS = 3 * 24 * 60 * 60_000;
/** How much of a refusing receiver's answer is kept as the dead letter's reason. */
const ANSWER_KEPT_CHARS = 300;
/** How much of an answer is read at all (a receiver answers a few bytes; we need no more). */
const ANSWER_READ_BYTES = 16 * 1024;

/** What a 2xx answer told us. */
export interface Delivered {
  /** The receiver's id of the contact, when its answer was `{"contactId": "…"}`. */
  contactId?: string;
}

export class WebhookClient {
  private readonly signer: Webhook;

  constructor(
    private readonly credentials: WebhookCredentialsDto,
    private readonly deps: ConnectorDeps,
  ) {
    this.signer = new Webhook(credentials.secret);
  }

  /** Standard Webhooks headers for `delivery` sent at `at`. */
  headersFor(delivery: Delivery, at: Date): Record<string, string> {
    return {
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': this.signer.sign(delivery.id, at, delivery.body),
    };
  }

  /**
   * One attempt. Resolves on 2xx; otherwise throws ConnectorError: 401/403 auth (the receiver
   * refuses our signature: the secret differs), 410 disabled, 429 or a 5xx with Retry-After
   * rate_limited, other 5xx/408/timeouts/resets transient, other answers invalid_request with the
   * answer kept. A transient failure of an event older than GIVE_UP_AFTER_MS is permanent.
   */
  async deliver(delivery: Delivery): Promise<Delivered> {
    try {
      return await this.attempt(delivery);
    } catch (error) {
      if (!(error instanceof ConnectorError) || (error.kind !== 'transient' && error.kind !== 'rate_limited')) throw error;
      const age = this.deps.clock.now().getTime() - delivery.occurredAt.getTime();
      if (age <= GIVE_UP_AFTER_MS) throw error;
      throw new ConnectorError('permanent', `not delivered for more than 3 days, given up (replay it from the dead letters): ${error.message}`, { vendorStatus: error.vendorStatus, cause: error });
    }
  }

  private async attempt(delivery: Delivery): Promise<Delivered> {
    await this.deps.budget.acquire();
    const signal = AbortSignal.timeout(this.deps.timeoutMs);
    let response: Response;
    let answer: string;
    try {
      response = await this.deps.http.fetch(this.credentials.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'threadbridge-webhooks/1', ...this.headersFor(delivery, this.deps.clock.now()) },
        body: delivery.body,
        // Standard Webhooks: a redirect is a failure, not something to follow.
        redirect: 'manual',
        signal,
      });
      answer = await readCapped(response, ANSWER_READ_BYTES);
    } catch (error) {
      throw this.networkError(error, signal);
    }
    if (response.status >= 200 && response.status < 300) return { contactId: contactIdIn(answer) };
    throw toConnectorError(response.status, response.headers.get('retry-after'), this.scrub(answer), this.deps.clock.now().getTime());
  }

  private networkError(error: unknown, signal: AbortSignal): ConnectorError {
    if (error instanceof ConnectorError) return error;
    if (signal.aborted) return new ConnectorError('transient', `the receiver did not answer within ${this.deps.timeoutMs} ms`, { cause: error });
    const code = (error as { cause?: { code?: string } })?.cause?.code;
    // An egress refusal or an unreachable host: trying later may help (DNS, a restart).
    return new ConnectorError('transient', `the receiver could not be reached${code ? ` (${code})` : ''}`, { cause: error });
  }

  /** The receiver's answer without our secret, anything like one, or a phone number. */
  private scrub(answer: string): string {
    return answer
      .split(this.credentials.secret)
      .join('[secret]')
      .replace(/whsec_[A-Za-z0-9+/=]+/g, '[secret]')
      .replace(/\+?\d[\d ()-]{6,}\d/g, '[number]')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, ANSWER_KEPT_CHARS);
  }
}

/** The ConnectorError for a receiver's non-2xx answer. `answer` is already scrubbed and short. */
export function toConnectorError(status: number, retryAfter: string | null, answer: string, now = Date.now()): ConnectorError {
  const said = answer ? `: ${answer}` : '';
  const retryAfterMs = parseRetryAfter(retryAfter, now);
  if (status === 410) return new ConnectorError('disabled', `the receiver answered 410 Gone: it asked for no more deliveries${said}`, { vendorStatus: status });
  if (status === 401 || status === 403) return new ConnectorError('auth', `the receiver refused the signature (${status}); check that it uses this connection's secret${said}`, { vendorStatus: status });
  if (status === 429 || (status >= 500 && retryAfterMs !== undefined)) return new ConnectorError('rate_limited', `the receiver asked to slow down (${status})`, { vendorStatus: status, retryAfterMs });
  if (status >= 500 || status === 408) return new ConnectorError('transient', `the receiver answered ${status}${said}`, { vendorStatus: status });
  if (status >= 300 && status < 400) return new ConnectorError('invalid_request', `the receiver answered ${status} (a redirect, which is not followed: set the connection's url to where it points)`, { vendorStatus: status });
  return new ConnectorError('invalid_request', `the receiver refused the event (${status})${said}`, { vendorStatus: status });
}

/** `{"contactId": "…"}` in a 2xx answer: the receiver's id of the contact (1–200 printable characters). */
export function contactIdIn(answer: string): string | undefined {
  if (!answer.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(answer) as { contactId?: unknown };
    const id = parsed?.contactId;
    if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
    return typeof id === 'string' && /^[\x21-\x7e]{1,200}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
