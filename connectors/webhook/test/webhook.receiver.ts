/**
 * A webhook receiver for tests, on 127.0.0.1: it checks every delivery's Standard Webhooks
 * signature with its OWN HMAC code (node:crypto, not the standardwebhooks library, so a
 * misreading of the spec in one cannot hide in the other), drops repeated webhook-ids as the spec
 * asks receivers to, and can be told to fail, hang, reset the connection after taking a delivery,
 * or answer a contact id. Also the suite's ConformanceFake.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConformanceFake } from '../../_sdk/testing/conformance';

/** A delivery as it arrived. */
export interface ReceivedDelivery {
  id: string;
  timestamp: number;
  signature: string;
  raw: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> };
  /** Whether the signature verified (only verified deliveries are kept as events). */
  verified: boolean;
}

interface Scripted {
  status: number;
  retryAfterSec?: number;
  body?: unknown;
}

/** A new `whsec_` secret. */
export function aWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The Standard Webhooks v1 signature, computed here with node:crypto. */
export function signV1(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** Whether `header` (space-separated `v1,<sig>` list) holds a valid signature of `body`. */
export function verifyV1(secret: string, id: string, timestamp: string, header: string, body: string | Buffer): boolean {
  if (!/^\d+$/.test(timestamp) || id.includes('.')) return false;
  const expected = Buffer.from(signV1(secret, id, Number(timestamp), body));
  return header.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export class WebhookReceiver implements ConformanceFake {
  /** Every request, verified or not, in arrival order. */
  readonly attempts: ReceivedDelivery[] = [];
  private readonly seen = new Set<string>();
  /** Verified deliveries, each webhook-id once, in arrival order. */
  readonly events: ReceivedDelivery[] = [];
  private readonly scripted: Scripted[] = [];
  private hangMs = 0;
  private resetNext = false;
  /** Answers a 2xx with `{"contactId": …}` when this returns one. */
  contactIdFor?: (delivery: ReceivedDelivery) => string | undefined;
  /** Clock skew tolerance, as a receiver would apply it (Standard Webhooks: 5 minutes). */
  toleranceSec = 300;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    public secret: string,
  ) {}

  static async start(secret = aWebhookSecret(), path = '/hooks/threadbridge'): Promise<WebhookReceiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${path}`, secret);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void receiver.handle(req, res));
    return receiver;
  }

  /** host:port, for EGRESS_ALLOW. */
  get hostPort(): string {
    return new URL(this.url).host;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  failNext(status: number, opts: { retryAfterSec?: number; body?: unknown } = {}): void {
    this.scripted.push({ status, ...opts });
  }

  hang(ms: number): void {
    this.hangMs = ms;
  }

  requestCount(): number {
    return this.attempts.length;
  }

  /** A receiver keeps no search index: nothing to lag. */
  setSearchLag(): void {}

  resetAfterNextCreate(): void {
    this.resetNext = true;
  }

  recordsContaining(text: string): number {
    return this.events.filter((e) => e.raw.includes(text)).length;
  }

  /** The verified events of `type`, each once. */
  ofType(type: string): ReceivedDelivery[] {
    return this.events.filter((e) => e.body.type === type);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const header = (name: string) => String(req.headers[name] ?? '');
    const id = header('webhook-id');
    const timestamp = header('webhook-timestamp');
    const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= this.toleranceSec;
    const verified = req.method === 'POST' && id !== '' && fresh && verifyV1(this.secret, id, timestamp, header('webhook-signature'), raw);
    let body: ReceivedDelivery['body'];
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      body = { type: '(not json)', timestamp: '', data: {} };
    }
    const delivery: ReceivedDelivery = { id, timestamp: Number(timestamp), signature: header('webhook-signature'), raw: raw.toString('utf8'), body, verified };
    this.attempts.push(delivery);

    if (this.hangMs > 0) {
      const ms = this.hangMs;
      this.hangMs = 0;
      await new Promise((resolve) => setTimeout(resolve, ms).unref());
      if (res.destroyed) return;
    }
    const scripted = this.scripted.shift();
    if (scripted) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (scripted.retryAfterSec !== undefined) headers['retry-after'] = String(scripted.retryAfterSec);
      res.writeHead(scripted.status, headers).end(JSON.stringify(scripted.body ?? { error: `scripted ${scripted.status}` }));
      return;
    }
    if (!verified) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad signature' }));
      return;
    }
    if (!this.seen.has(id)) {
      this.seen.add(id);
      this.events.push(delivery);
    }
    if (this.resetNext) {
      // Taken and recorded, then the connection drops before any answer.
      this.resetNext = false;
      req.socket.destroy();
      return;
    }
    const contactId = this.contactIdFor?.(delivery);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(contactId ? { contactId } : { ok: true }));
  }
}
