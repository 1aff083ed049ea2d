/**
 * npm run bench:sync — WhatsApp → HubSpot under HubSpot's rate limit.
 *
 * threadbridge runs in its own process on real PostgreSQL + Redis (production drivers); a fake
 * HubSpot limited to 190 requests / 10 s answers every call after 50 ms. Two phases:
 *  1. backlog: 2,000 messages over 200 conversations arrive as fast as the webhook takes them;
 *     printed: wall time until HubSpot holds them all, HubSpot calls per message, achieved request
 *     rate ÷ allowed rate while the backlog exists, 429s, duplicates;
 *  2. a backlog HubSpot's limit governs: 300 photos (one Files upload each, so about one call per
 *     message): achieved request rate ÷ allowed rate while the backlog exists, 429s, duplicates;
 *  3. light load: 10 messages/s for 20 s; printed: p50/p95 delay from the webhook to HubSpot.
 * In phase 1 batching makes the calls so few that the budget never binds; phase 2 measures how
 * fully the budget is used when it does.
 */
import axios from 'axios';
import { Client } from 'pg';
import { startHubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { randomBytes } from 'node:crypto';
import { anImageMessageWebhook, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { benchRedisUrl, databaseUrl, startBenchService, stopChild } from './bench-utils';
import { allowFakes } from '../setup/test-env';

const SECRET = 'bench-app-secret';
const ADMIN = 'bench-admin-key-0123456789';
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 200);
const PER_CONVERSATION = Number(process.env.BENCH_MESSAGES_PER_CONVERSATION ?? 10);
const LIMIT = { max: 190, intervalMs: 10_000 };
const LATENCY_MS = 50;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const REDIS_URL = benchRedisUrl(12);

async function main(): Promise<void> {
  const hubspot = await startHubspotFake({ accessTokens: ['bench-token'], rateLimit: LIMIT, latencyMs: LATENCY_MS });
  const meta = await startMetaGraphFake({ accessToken: 'bench-whatsapp-token' });
  const dbName = 'threadbridge_bench_sync';
  const service = await startBenchService({
    database: dbName,
    redisUrl: REDIS_URL,
    dataDir: '.data/bench-sync',
    env: {
      WHATSAPP_APP_SECRET: SECRET,
      ADMIN_API_KEY: ADMIN,
      ENCRYPTION_KEY: 'b'.repeat(64),
      WHATSAPP_API_URL: meta.url,
      WHATSAPP_ACCESS_TOKEN: 'bench-whatsapp-token',
      // The fakes are on loopback, which the egress policy refuses unless named.
      EGRESS_ALLOW: allowFakes(meta, hubspot),
    },
  });
  const base = service.url;
  const api = axios.create({ baseURL: base, headers: { authorization: `Bearer ${ADMIN}` }, validateStatus: () => true });
  const created = await api.post('/api/v1/connections', {
    connectorId: 'hubspot',
    name: 'HubSpot bench',
    credentials: { accessToken: 'bench-token', baseUrl: hubspot.url },
    settings: { budget: { requests: LIMIT.max, perMs: LIMIT.intervalMs } },
  });
  if (created.status !== 201) throw new Error(`connection: ${created.status} ${JSON.stringify(created.data)}`);
  hubspot.clearRequests();

  const db = new Client({ connectionString: databaseUrl(dbName) });
  await db.connect();
  const send = (waId: string, text: string, ts: number) =>
    postMetaWebhook(`${base}/webhooks/whatsapp`, aTextMessageWebhook({ waId, name: `Customer ${waId.slice(-3)}`, wamid: nextWamid(waId), text, timestamp: ts }), SECRET);

  // ---- Phase 1: backlog ----------------------------------------------------------------------
  const total = CONVERSATIONS * PER_CONVERSATION;
  console.log(`bench:sync — ${total} messages over ${CONVERSATIONS} conversations → fake HubSpot (${LIMIT.max} req / ${LIMIT.intervalMs / 1000} s, ${LATENCY_MS} ms latency)`);
  const started = Date.now();
  const t0 = Math.floor(started / 1000) - 3600;
  const customers = Array.from({ length: CONVERSATIONS }, (_, i) => `4479${String(10_000_000 + i)}`);
  for (let round = 0; round < PER_CONVERSATION; round++) {
    const batch = customers.map((waId) => send(waId, `message ${round + 1} of ${PER_CONVERSATION}`, t0 + round));
    for (const r of await Promise.all(batch)) if (r.status !== 200) throw new Error(`webhook answered ${r.status}`);
  }
  const ingested = Date.now();
  const deadline = Date.now() + 10 * 60_000;
  while (hubspot.communications().length < total) {
    if (Date.now() > deadline) throw new Error(`only ${hubspot.communications().length} of ${total} reached HubSpot`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const done = Date.now();
  const calls = hubspot.requests().filter((r) => r.at >= started && r.at <= done);
  const rateLimited = calls.filter((r) => r.status === 429).length;
  const backlogSeconds = (done - started) / 1000;
  const allowedPerSecond = LIMIT.max / (LIMIT.intervalMs / 1000);
  const byMessage = new Map<string, number>();
  for (const c of hubspot.communications()) byMessage.set(c.properties.threadbridge_message_uid, (byMessage.get(c.properties.threadbridge_message_uid) ?? 0) + 1);
  const duplicates = [...byMessage.values()].reduce((sum, n) => sum + (n - 1), 0);

  // ---- Phase 2: a backlog the rate limit governs ----------------------------------------------
  const photos = 300;
  const photoStart = Date.now();
  await Promise.all(
    Array.from({ length: photos }, (_, i) => {
      const waId = customers[i % 100];
      const { id: mediaId, sha256Base64 } = meta.addMedia(randomBytes(2048), 'image/jpeg');
      return postMetaWebhook(`${base}/webhooks/whatsapp`, anImageMessageWebhook({ waId, wamid: nextWamid(waId), mediaId, sha256: sha256Base64, caption: `photo ${i}` }), SECRET);
    }),
  );
  while (hubspot.communications().length < total + photos) {
    if (Date.now() > deadline) throw new Error('photos did not all arrive');
    await new Promise((r) => setTimeout(r, 50));
  }
  const photoDone = Date.now();
  const photoCalls = hubspot.requests().filter((r) => r.at >= photoStart && r.at <= photoDone);
  const photoSeconds = (photoDone - photoStart) / 1000;
  const photo429 = photoCalls.filter((r) => r.status === 429).length;

  // ---- Phase 3: light load -------------------------------------------------------------------
  const lightCount = 200;
  const sentAt = new Map<string, number>();
  const light = customers.slice(0, 50);
  for (let i = 0; i < lightCount; i++) {
    const waId = light[i % light.length];
    const wamid = nextWamid(waId);
    sentAt.set(wamid, Date.now());
    const res = await postMetaWebhook(`${base}/webhooks/whatsapp`, aTextMessageWebhook({ waId, wamid, text: `light ${i}`, timestamp: Math.floor(Date.now() / 1000) }), SECRET);
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
    await new Promise((r) => setTimeout(r, 100)); // 10 messages/s
  }
  while (hubspot.communications().length < total + photos + lightCount) {
    if (Date.now() > deadline) throw new Error('light-load messages did not all arrive');
    await new Promise((r) => setTimeout(r, 50));
  }
  const ids = (await db.query(`SELECT id, wamid FROM messages WHERE wamid = ANY($1)`, [[...sentAt.keys()]])).rows as { id: string; wamid: string }[];
  const createdAt = new Map(hubspot.communications().map((c) => [c.properties.threadbridge_message_uid, c.createdAt.getTime()]));
  const delays = ids.map((r) => createdAt.get(r.id)! - sentAt.get(r.wamid)!);

  await db.end();
  await stopChild(service.child);
  await hubspot.close();
  await meta.close();
  const finalCounts = new Map<string, number>();
  for (const c of hubspot.communications()) finalCounts.set(c.properties.threadbridge_message_uid, (finalCounts.get(c.properties.threadbridge_message_uid) ?? 0) + 1);
  const allDuplicates = [...finalCounts.values()].reduce((sum, n) => sum + (n - 1), 0);

  const callsPerMessage = calls.length / total;
  const achieved = calls.length / backlogSeconds;
  console.log(`\nbacklog of ${total} messages`);
  console.log(`  webhooks accepted in        ${((ingested - started) / 1000).toFixed(1)} s`);
  console.log(`  wall time to HubSpot        ${backlogSeconds.toFixed(1)} s`);
  console.log(`  HubSpot calls               ${calls.length} = ${callsPerMessage.toFixed(3)} per message (target ≤ 0.1)`);
  console.log(`  request rate while backlog  ${achieved.toFixed(1)}/s of ${allowedPerSecond}/s allowed = ${(achieved / allowedPerSecond).toFixed(2)} utilisation (target ≥ 0.8)`);
  console.log(`  429 answers                 ${rateLimited} = ${((100 * rateLimited) / Math.max(1, calls.length)).toFixed(1)}% of calls (target ≤ 1%)`);
  console.log(`  duplicates                  ${duplicates} (target 0)`);
  console.log(`\nbacklog governed by the rate limit: ${photos} photos (one upload each)`);
  console.log(`  wall time to HubSpot        ${photoSeconds.toFixed(1)} s, ${photoCalls.length} calls`);
  console.log(`  request rate while backlog  ${(photoCalls.length / photoSeconds).toFixed(1)}/s of ${allowedPerSecond}/s allowed = ${(photoCalls.length / photoSeconds / allowedPerSecond).toFixed(2)} utilisation (target ≥ 0.8)`);
  console.log(`  429 answers                 ${photo429} = ${((100 * photo429) / Math.max(1, photoCalls.length)).toFixed(1)}% of calls (target ≤ 1%)`);
  console.log(`\nlight load: ${lightCount} messages at 10/s`);
  console.log(`  webhook → HubSpot delay     p50 ${percentile(delays, 50)} ms, p95 ${percentile(delays, 95)} ms, max ${Math.max(...delays)} ms (target p95 ≤ 1000 ms)`);
  console.log(`\nduplicates over the whole run: ${allDuplicates} (target 0)`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
