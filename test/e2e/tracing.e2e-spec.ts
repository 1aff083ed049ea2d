import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import type { ServiceProcessReady } from '../setup/service-process';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, tempDir, TEST_ADMIN_KEY, TEST_APP_SECRET } from '../setup/test-service';

const SERVICE = path.resolve(process.cwd(), 'dist/test/setup/service-process.js');
const TOKEN = 'tracing-hubspot-token';

/** One span as OTLP/HTTP JSON carries it, flattened with its resource's attributes. */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

type OtlpAttribute = { key: string; value: Record<string, unknown> };
const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));

/**
 * A fake OpenTelemetry collector: POST /v1/traces with OTLP/HTTP JSON (what
 * @opentelemetry/exporter-trace-otlp-http sends), answered as a collector does.
 */
async function startFakeCollector(): Promise<{ url: string; spans: ExportedSpan[]; posts: () => number; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  let posts = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts++;
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: (Omit<ExportedSpan, 'attributes' | 'resource' | 'links'> & { attributes: OtlpAttribute[]; links?: { traceId: string; spanId: string }[] })[] }[] }[];
      };
      for (const rs of body.resourceSpans) {
        const resource = attributesOf(rs.resource.attributes);
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, attributes: attributesOf(s.attributes), resource, links: s.links ?? [] });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, posts: () => posts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * One WhatsApp message is one trace: the webhook's request, the ingest's statements, the queue, the
 * task and the CRM call. The service runs in a child process: the instrumentations patch http, pg
 * and ioredis as Node loads them, which Jest's own module registry would bypass.
 */
describe('tracing', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let hubspot: HubspotFake;
  let collector: Awaited<ReturnType<typeof startFakeCollector>>;
  let child: ChildProcess | undefined;
  let connectionCreated = false;

  const start = async (extra: Record<string, string>): Promise<ServiceProcessReady> => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: tempDir(),
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      WHATSAPP_APP_SECRET: TEST_APP_SECRET,
      ENCRYPTION_KEY: 'b'.repeat(64),
      LOG_LEVEL: 'silent',
      EGRESS_ALLOW: allowFakes(hubspot),
      ...extra,
    };
    // Jest's own environment must not switch tracing on (or off) for the child.
    for (const key of Object.keys(env)) if (key.startsWith('OTEL_') && !(key in extra)) delete env[key];
    child = fork(SERVICE, [], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const running = child;
    const ready = await new Promise<ServiceProcessReady>((resolve, reject) => {
      running.once('message', (m) => resolve(m as ServiceProcessReady));
      running.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
    });
    if (!connectionCreated) {
      const created = await axios.post(
        `${ready.url}/api/v1/connections`,
        { connectorId: 'hubspot', name: 'HubSpot', credentials: { accessToken: TOKEN, baseUrl: hubspot.url } },
        { validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } },
      );
      expect(created.status).toBe(201);
      connectionCreated = true;
    }
    return ready;
  };

  /** SIGTERM, as an orchestrator stops it: the stop path exports what is buffered. */
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise((resolve) => (running.once('exit', resolve), running.kill('SIGTERM')));
  };

  /** Posts one signed text message and waits until HubSpot holds it. */
  const deliver = async (url: string, waId: string, text: string) => {
    const answer = await postMetaWebhook(`${url}/webhooks/whatsapp`, aTextMessageWebhook({ waId, wamid: nextWamid(waId), text }), TEST_APP_SECRET);
    expect(answer.status).toBe(200);
    await eventually(async () => hubspot.communications().some((c) => String(c.properties.hs_communication_body ?? '').includes(text)), 'the message in HubSpot', 20_000);
  };

  beforeAll(async () => {
    if (!fs.existsSync(SERVICE)) throw new Error(`${SERVICE} is missing: npm test compiles it first`);
    database = await createTestDatabase();
    redis = await createTestRedis();
    hubspot = await startHubspotFake({ accessTokens: [TOKEN] });
    collector = await startFakeCollector();
  });

  afterEach(stop);

  afterAll(async () => {
    await stop();
    await collector?.close();
    await hubspot?.close();
    await redis?.close();
    await database?.drop();
  });

  it('without an OTLP endpoint starts no SDK and exports nothing', async () => {
    const ready = await start({});
    expect(ready.tracing).toEqual({ started: false, sdkLoaded: false });
    await deliver(ready.url, '4915200000771', 'untraced hello');
    await stop();
    expect(collector.posts()).toBe(0);
  });

  it('puts the webhook, the ingest statements, the task and the HubSpot call in one trace', async () => {
    const ready = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '100' });
    expect(ready.tracing).toEqual({ started: true, sdkLoaded: true });
    const waId = '4915200000772';
    const text = 'traced hello';
    await deliver(ready.url, waId, text);

    const hubspotPort = Number(new URL(hubspot.url).port);
    const isHubspotCall = (s: ExportedSpan) => s.kind === 3 && s.attributes['server.port'] === hubspotPort;
    const trace = await eventually(
      async () => {
        const webhook = collector.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/webhooks/whatsapp');
        if (!webhook) return undefined;
        const inTrace = collector.spans.filter((s) => s.traceId === webhook.traceId);
        const complete = inTrace.some((s) => s.name === 'task crm-sync') && inTrace.some(isHubspotCall);
        return complete ? { webhook, inTrace } : undefined;
      },
      'the message trace at the collector',
      15_000,
    );
    const { webhook, inTrace } = trace;
    const byId = new Map(inTrace.map((s) => [s.spanId, s]));
    const descendsFrom = (span: ExportedSpan, ancestor: ExportedSpan): boolean => {
      for (let s: ExportedSpan | undefined = span; s; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined) if (s.spanId === ancestor.spanId) return true;
      return false;
    };

    expect(webhook.name).toBe('POST /webhooks/whatsapp');
    expect(webhook.resource).toMatchObject({ 'service.name': 'threadbridge', 'threadbridge.role': 'all' });
    // The ingest's statement, a child of the webhook's span (a delivery alone is a batch of one),
    // recorded as parameterised SQL.
    const ingestQueries = inTrace.filter((s) => s.parentSpanId === webhook.spanId && s.attributes['db.system.name'] === 'postgresql' && s.name.startsWith('pg.query'));
    expect(ingestQueries.length).toBeGreaterThan(0);
    for (const q of ingestQueries) expect(String(q.attributes['db.query.text'])).toMatch(/\$1/);
    // The enqueue (Redis) under the webhook too, and the task under the enqueue's context.
    expect(inTrace.some((s) => s.attributes['db.system.name'] === 'redis' && descendsFrom(s, webhook))).toBe(true);
    const task = inTrace.find((s) => s.name === 'task crm-sync')!;
    expect(descendsFrom(task, webhook)).toBe(true);
    expect(task.attributes).toMatchObject({ 'messaging.destination.name': 'crm-sync', 'threadbridge.task.outcome': 'done' });
    // The connector's call to HubSpot, a client span under the task, with the CRM's answer.
    const calls = inTrace.filter(isHubspotCall);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(descendsFrom(call, task)).toBe(true);
      expect(call.attributes['server.address']).toBe('127.0.0.1');
      expect(call.attributes['http.response.status_code']).toBeGreaterThanOrEqual(200);
    }

    // Nothing personal or secret in any span: no phone number, no message text, no token, no SQL values.
    await stop();
    const everything = JSON.stringify(collector.spans);
    for (const secret of [waId, text, TOKEN, TEST_ADMIN_KEY, TEST_APP_SECRET]) expect(everything).not.toContain(secret);
    for (const s of collector.spans) {
      expect(Object.keys(s.attributes).filter((k) => k.startsWith('http.request.header') || k === 'db.query.parameter' || k.startsWith('db.query.parameter.'))).toEqual([]);
      expect(s.attributes['pg.values']).toBeUndefined();
    }
  });
});
