import { Inject, Injectable } from '@nestjs/common';
import type { OperationObject } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { isDatabaseUnavailable } from '../common/errors';
import { LOGGER } from '../common/logger';
import { ThrottledLog } from '../common/throttled-log';
import { MetricsService, type WebhookOutcome } from '../health/metrics.service';
import { verifyMetaSignature } from './webhook-signature';
import { WebhookIngestService } from './webhook-ingest.service';

export const WEBHOOK_PATH = '/webhooks/whatsapp';

/** How much of an oversized body is read (and discarded) so the client sees the 413. */
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
const DRAIN_MAX_MS = 5_000;

const STATUS_OF: Record<WebhookOutcome, number> = {
  stored: 200,
  duplicate: 200,
  quarantined: 200,
  status: 200,
  empty: 200,
  unauthorized: 401,
  unconfigured: 401,
  too_large: 413,
  unavailable: 503,
  error: 500,
};

const ANSWER: Partial<Record<WebhookOutcome, string>> = {
  unauthorized: 'invalid or missing X-Hub-Signature-256',
  unconfigured: 'WHATSAPP_APP_SECRET is not configured on this service: no webhook can be verified',
  too_large: 'body too large',
  unavailable: 'temporarily unavailable, retry later',
  error: 'internal error',
};

const DESCRIPTION_OF: Record<number, string> = {
  200: 'Stored after commit (also a duplicate, a delivery status, or a payload quarantined for an operator)',
  401: 'Missing or invalid X-Hub-Signature-256 (or WHATSAPP_APP_SECRET not configured): nothing stored',
  413: 'Body over WHATSAPP_WEBHOOK_BODY_LIMIT',
  500: 'Internal error: nothing stored, Meta delivers again',
  503: 'The database cannot be reached: nothing stored, Meta delivers again after Retry-After',
};

/**
 * The API docs' entry for POST /webhooks/whatsapp, which Nest's router never sees (see below), so
 * src/http-pipeline.ts adds it to the document. The statuses are the receiver's own (STATUS_OF).
 */
export function webhookReceiverOperation(schemas: { ack: string; error: string }): OperationObject {
  const ref = (name: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } });
  const statuses = [...new Set(Object.values(STATUS_OF))].sort();
  return {
    tags: ['webhooks'],
    summary: "Meta's WhatsApp notifications (messages, statuses), signed with the app secret over the raw body",
    operationId: 'WhatsAppWebhook_receive',
    parameters: [{ name: 'X-Hub-Signature-256', in: 'header', required: true, description: 'sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>', schema: { type: 'string' } }],
    requestBody: { required: true, description: "A WhatsApp Business Account notification, as Meta sends it", content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } } },
    responses: Object.fromEntries(
      statuses.map((status) => [
        String(status),
        {
          description: DESCRIPTION_OF[status],
          content: ref(status === 200 ? schemas.ack : schemas.error),
          ...(status === 503 ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } } : {}),
        },
      ]),
    ),
    security: [],
  };
}

/**
 * POST /webhooks/whatsapp — Meta's notifications, the service's hottest path.
 *
 * Received by a plain Node request handler that runs before Express (src/http-pipeline.ts installs
 * it on the HTTP server): Express's per-request set-up, router and body parser cost more CPU than
 * the rest of the work together (~80 µs of ~150 µs per delivery, measured with the ingest
 * benchmark's CPU-per-message figure), and Meta can send thousands per second. So this reads the
 * body itself (refusing one over the limit with 413 before it is buffered whole), checks the
 * signature, and maps the outcome to HTTP; the rules stay in WebhookIngestService:
 * bad signature → 401 (nothing stored); stored, duplicate or quarantined → 200 after commit;
 * database unreachable → 503 with Retry-After, so Meta delivers again. Every answer is counted
 * and timed (metrics). Everything else, the GET handshake included, goes on to Express.
 */
@Injectable()
export class WhatsAppWebhookReceiver {
  private readonly unsignedLog: ThrottledLog;

  constructor(
    private readonly ingest: WebhookIngestService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.unsignedLog = new ThrottledLog(logger, 60_000);
  }

  /** True when the request is a webhook delivery (and is now being answered here). */
  accepts(req: IncomingMessage): boolean {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    return path === WEBHOOK_PATH || path === `${WEBHOOK_PATH}/`;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const endTimer = this.metrics.ackLatency.startTimer();
    const answer = (outcome: WebhookOutcome) => {
      const status = STATUS_OF[outcome];
      const message = ANSWER[outcome];
      const body = message ? JSON.stringify({ statusCode: status, message }) : '{"received":true}';
      const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };
      if (outcome === 'unavailable') headers['retry-after'] = 5;
      res.writeHead(status, headers).end(body);
      endTimer();
      this.metrics.webhooks.inc({ outcome });
    };

    const limit = this.config.whatsapp.webhookBodyLimit;
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    // An oversized body is refused at once, but many HTTP clients read the answer only once they
    // have sent the whole body: a socket closed under them gives EPIPE instead of the 413. So the
    // connection stays open while the rest is read and discarded (never buffered), up to a bound in
    // bytes and time; past it the socket is closed, as nothing ordinary sends that much.
    const refuse = () => {
      refused = true;
      chunks.length = 0;
      answer('too_large');
      let drained = 0;
      const cut = () => req.socket.destroy();
      const timer = setTimeout(cut, DRAIN_MAX_MS);
      req.on('data', (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > DRAIN_MAX_BYTES) cut();
      });
      req.once('end', () => clearTimeout(timer));
      req.once('close', () => clearTimeout(timer));
      req.resume();
    };
    if (Number(req.headers['content-length'] ?? 0) > limit) return refuse();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (refused) return;
      // A chunked body without Content-Length: refused as soon as it passes the limit.
      if (size > limit) return refuse();
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) void this.receive(Buffer.concat(chunks, size), req.headers['x-hub-signature-256'], answer);
    });
    req.on('error', () => undefined); // a client that went away; nothing was stored
  }

  private async receive(raw: Buffer, signature: string | string[] | undefined, answer: (o: WebhookOutcome) => void): Promise<void> {
    if (this.config.whatsapp.appSecrets.length === 0) {
      // Not the sender's fault: say so, to the sender and (once per interval) to the operator.
      this.unsignedLog.warn('no-secret', undefined, 'webhook refused: WHATSAPP_APP_SECRET is not configured, so no signature can be checked');
      return answer('unconfigured');
    }
    if (!verifyMetaSignature(raw, Array.isArray(signature) ? signature[0] : signature, this.config.whatsapp.appSecrets)) {
      return answer('unauthorized');
    }
    try {
      const result = await this.ingest.ingest(raw);
      answer(result.outcome);
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        this.logger.warn({ err: error }, 'database unavailable; answering 503 so Meta retries');
        return answer('unavailable');
      }
      // Anything else is a fault of ours: 500 makes Meta deliver again later, and nothing was stored.
      this.logger.error({ err: error }, 'webhook ingest failed');
      answer('error');
    }
  }
}
