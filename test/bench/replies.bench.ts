/**
 * npm run bench:replies — Zendesk agent replies → WhatsApp, and WhatsApp chat bursts → Zendesk.
 *
 * threadbridge runs in its own process on real PostgreSQL + Redis (production drivers), with
 * WHATSAPP_THROUGHPUT_PER_SECOND = 40 (BENCH_THROUGHPUT); a fake Meta answers every call after
 * 50 ms and enforces that throughput (130429) and the pair limit (45 per 6 s per customer, 131056);
 * a fake Zendesk (the connector paces itself at 400 requests a minute) delivers signed trigger
 * webhooks for agent comments. 100 customers wrote within the hour; their chats are Zendesk tickets (the
 * customers are known to Zendesk by external_id, so the set-up stays inside a minute of budget).
 *  1. below the cap: 500 agent replies over the 100 tickets at half the throughput; printed:
 *     p50/p95 delay from the webhook POST to the fake Meta receiving the send;
 *  2. above the cap: 500 more in five rounds of 100 concurrent webhooks; printed: the most sends
 *     arriving at Meta in any 1-second window (every attempt counted) vs the throughput, 130429s;
 *  3. duplicates: sends per reply > 1, over both phases (and a warm-up of 10 replies before them);
 *  4. a chat burst: 100 customers new to Zendesk (and to threadbridge) each send 10 WhatsApp
 *     messages within about a second; printed: requests the fake Zendesk received per inbound
 *     message (close messages share one comment), and the requests each new customer cost before
 *     its ticket was created (users lookups and creation, read from the fake's request log).
 * It prints; it asserts no timing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import axios from 'axios';
import { Client } from 'pg';
import { startZendeskFake, type FakeRequestLog } from '../../connectors/zendesk/test/zendesk.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { benchRedisUrl, databaseUrl, startBenchService, stopChild } from './bench-utils';
import { peakInWindow } from '../setup/time-windows';
import { allowFakes } from '../setup/test-env';

const SECRET = 'bench-app-secret';
const ADMIN = 'bench-admin-key-0123456789';
const ZENDESK_SECRET = 'bench-zendesk-signing-secret';
const META_TOKEN = 'bench-whatsapp-token';
const THROUGHPUT = Number(process.env.BENCH_THROUGHPUT ?? 40);
const CUSTOMERS = 100;
const REPLIES_PER_CUSTOMER = 5;
const REPLIES = CUSTOMERS * REPLIES_PER_CUSTOMER;
const CHAT_BURST = 10;
const LATENCY_MS = 50;
const DEADLINE_MS = 10 * 60_000;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};


async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const REDIS_URL = benchRedisUrl(13);

async function main(): Promise<void> {
  const meta = await startMetaGraphFake({ accessToken: META_TOKEN, enforceWindow: true, throughputPerSecond: THROUGHPUT, pairLimit: { count: 45, perMs: 6000 }, latencyMs: LATENCY_MS });
  // An Enterprise account (700 a minute) behind the connector's own budget of 400: the set-up's
  // 400 calls in a minute then never meet a 429 whose 60-s Retry-After would spill into the phases.
  const zendesk = await startZendeskFake({ latencyMs: LATENCY_MS, requestsPerMinute: 700 });
  const dbName = 'threadbridge_bench_replies';
  const service = await startBenchService({
    database: dbName,
    redisUrl: REDIS_URL,
    dataDir: '.data/bench-replies',
    env: {
      WHATSAPP_APP_SECRET: SECRET,
      ADMIN_API_KEY: ADMIN,
      ENCRYPTION_KEY: 'c'.repeat(64),
      WHATSAPP_API_URL: meta.url,
      WHATSAPP_ACCESS_TOKEN: META_TOKEN,
      WHATSAPP_THROUGHPUT_PER_SECOND: String(THROUGHPUT),
      // The fakes are on loopback, which the egress policy refuses unless named.
      EGRESS_ALLOW: allowFakes(meta, zendesk),
    },
  });
  const base = service.url;
  const api = axios.create({ baseURL: base, headers: { authorization: `Bearer ${ADMIN}` }, validateStatus: () => true });
  const created = await api.post('/api/v1/connections', {
    connectorId: 'zendesk',
    name: 'Zendesk bench',
    credentials: { ...zendesk.credentials({ webhookSecret: ZENDESK_SECRET }), apiUserId: String(zendesk.apiUser.id) },
  });
  if (created.status !== 201) throw new Error(`connection: ${created.status} ${JSON.stringify(created.data)}`);
  const connectionId: string = created.data.id;
  zendesk.configureWebhook({ url: `${base}/webhooks/connections/${connectionId}`, secret: ZENDESK_SECRET, mode: 'trigger' });

  const db = new Client({ connectionString: databaseUrl(dbName) });
  await db.connect();
  const idle = async () => Number((await db.query(`SELECT count(*) FROM outbox WHERE status IN ('pending', 'running') AND next_attempt_at < now() + interval '1 minute'`)).rows[0].count) === 0;

  // ---- Set-up: 100 customers wrote an hour ago; each chat becomes a ticket ------------------------
  console.log(`bench:replies — ${CUSTOMERS} Zendesk tickets, WhatsApp throughput ${THROUGHPUT}/s, fake Meta and Zendesk ${LATENCY_MS} ms latency`);
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => `4479${String(20_000_000 + i)}`);
  for (const waId of customers) zendesk.seedUser({ name: `Customer ${waId.slice(-3)}`, external_id: `whatsapp:${waId}`, phone: `+${waId}` });
  const wroteAt = Math.floor(Date.now() / 1000) - 3600;
  for (const r of await Promise.all(
    customers.map((waId) => {
      meta.recordInbound(waId, new Date(wroteAt * 1000));
      return postMetaWebhook(`${base}/webhooks/whatsapp`, aTextMessageWebhook({ waId, name: `Customer ${waId.slice(-3)}`, wamid: nextWamid(waId), text: 'Where is my order?', timestamp: wroteAt }), SECRET);
    }),
  )) {
    if (r.status !== 200) throw new Error(`webhook answered ${r.status}`);
  }
  const tickets = new Map<string, string>();
  await until('every chat a ticket', async () => {
    const { rows } = await db.query(
      `SELECT k.wa_id, l.remote_id FROM remote_links l JOIN conversations c ON c.id = l.local_id JOIN contacts k ON k.id = c.contact_id
       WHERE l.connection_id = $1 AND l.entity_type = 'ticket'`,
      [connectionId],
    );
    for (const row of rows) tickets.set(row.wa_id, row.remote_id);
    return tickets.size === CUSTOMERS;
  });
  await until('the chats synced', idle);

  /** Reply text → when its webhook was POSTed, to match the send at Meta. */
  const postedAt = new Map<string, number>();
  const reply = async (waId: string, text: string) => {
    const { deliveries } = await zendesk.agentComment(tickets.get(waId)!, { body: text });
    if (deliveries.length !== 1 || deliveries[0].status !== 200) throw new Error(`reply webhook: ${JSON.stringify(deliveries.map((d) => [d.status, d.error]))}`);
    postedAt.set(text, deliveries[0].at.getTime());
  };
  const sentText = (s: (typeof meta.sent)[number]) => (s.body.text as { body: string } | undefined)?.body ?? '';
  const sendAttempts = (from: number, to: number) => meta.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages') && r.at >= from && r.at <= to);
  const delaysOf = (texts: string[]) => {
    const arrived = new Map(meta.sent.map((s) => [sentText(s), s.receivedAt]));
    return texts.map((t) => arrived.get(t)! - postedAt.get(t)!);
  };

  // ---- Warm-up: a first reply to ten customers (first connections, first sends) -----------------
  const warmStart = Date.now();
  const warmTexts = customers.slice(0, 10).map((waId) => `Warm-up reply to ${waId}`);
  await Promise.all(warmTexts.map((text, i) => reply(customers[i], text)));
  await until('the warm-up sent', () => meta.sent.length >= warmTexts.length);
  await until('the warm-up settled', idle);

  // ---- Phase 1: below the cap ----------------------------------------------------------------
  const belowRate = THROUGHPUT / 2;
  const belowTexts: string[] = [];
  const belowStart = Date.now();
  const posting: Promise<void>[] = [];
  for (let i = 0; i < REPLIES; i++) {
    const waId = customers[i % CUSTOMERS];
    const text = `Reply ${Math.floor(i / CUSTOMERS) + 1} to ${waId} (spread)`;
    belowTexts.push(text);
    const due = belowStart + (i * 1000) / belowRate;
    if (due > Date.now()) await sleep(due - Date.now());
    posting.push(reply(waId, text));
  }
  await Promise.all(posting);
  const belowSent = new Set(belowTexts);
  await until('the spread replies sent', () => meta.sent.filter((s) => belowSent.has(sentText(s))).length >= REPLIES);
  await until('phase 1 settled', idle);
  const belowEnd = Date.now();
  const belowDelays = delaysOf(belowTexts);
  const belowPeak = peakInWindow(sendAttempts(belowStart, belowEnd).map((r) => r.at));

  // ---- Phase 2: above the cap (burst) ----------------------------------------------------------
  const burstTexts: string[] = [];
  const burstStart = Date.now();
  for (let n = 1; n <= REPLIES_PER_CUSTOMER; n++) {
    await Promise.all(
      customers.map((waId) => {
        const text = `Reply ${n} to ${waId} (burst)`;
        burstTexts.push(text);
        return reply(waId, text);
      }),
    );
  }
  const burstPosted = Date.now();
  const burstSent = new Set(burstTexts);
  await until('the burst sent', () => meta.sent.filter((s) => burstSent.has(sentText(s))).length >= REPLIES);
  await until('phase 2 settled', idle);
  const burstEnd = Date.now();
  const burstAttempts = sendAttempts(burstStart, burstEnd);
  const burstArrivals = meta.sent.filter((s) => burstSent.has(sentText(s))).map((s) => s.receivedAt);
  const burstSeconds = (Math.max(...burstArrivals) - Math.min(...burstArrivals)) / 1000;
  const burstDelays = delaysOf(burstTexts);

  // ---- Duplicates and refusals over both phases -------------------------------------------------
  const sendsPerReply = new Map<string, number>();
  for (const s of meta.sent) sendsPerReply.set(sentText(s), (sendsPerReply.get(sentText(s)) ?? 0) + 1);
  const allTexts = [...warmTexts, ...belowTexts, ...burstTexts];
  const duplicates = allTexts.reduce((sum, t) => sum + Math.max(0, (sendsPerReply.get(t) ?? 0) - 1), 0);
  const missing = allTexts.filter((t) => !sendsPerReply.has(t)).length;
  const refused = sendAttempts(warmStart, burstEnd).filter((r) => r.status !== 200);
  const throttled = refused.filter((r) => r.status === 429).length;

  // ---- Phase 4: a chat burst into Zendesk from customers it has never seen ---------------------
  // Not seeded in the fake and never written before: each costs a user lookup and creation.
  const newCustomers = Array.from({ length: CUSTOMERS }, (_, i) => `4479${String(30_000_000 + i)}`);
  const userOf = (waId: string) => zendesk.users().find((u) => u.external_id === `whatsapp:${waId}`);
  if (newCustomers.some((waId) => userOf(waId) || customers.includes(waId))) throw new Error('the chat burst needs customers new to Zendesk');
  const chatStart = Date.now();
  const requestsBefore = zendesk.requests.length;
  const chatTexts: { waId: string; text: string }[] = [];
  await Promise.all(
    newCustomers.map(async (waId) => {
      for (let i = 1; i <= CHAT_BURST; i++) {
        const text = `burst ${i} of ${CHAT_BURST} from ${waId}`;
        chatTexts.push({ waId, text });
        const res = await postMetaWebhook(`${base}/webhooks/whatsapp`, aTextMessageWebhook({ waId, wamid: nextWamid(waId), text, timestamp: Math.floor(Date.now() / 1000) }), SECRET);
        if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
        await sleep(100);
      }
    }),
  );
  const ticketsOf = (waId: string) => {
    const user = userOf(waId);
    return user ? zendesk.tickets().filter((t) => t.requester_id === user.id) : [];
  };
  await until('the chat burst in Zendesk', () =>
    chatTexts.every(({ waId, text }) => ticketsOf(waId).some((t) => zendesk.comments(t.id).some((c) => c.body.includes(text)))),
  );
  await until('phase 4 settled', idle);
  const chatSeconds = (Date.now() - chatStart) / 1000;
  const chatRequests = zendesk.requests.slice(requestsBefore);
  const chatUpdates = chatRequests.filter((r) => r.method === 'PUT').length;
  const chat429 = chatRequests.filter((r) => r.status === 429).length;
  const beforeTicket = newCustomers.map((waId) => contactRequestsBeforeTicket(chatRequests, waId, userOf(waId)!.id));
  const lookupKinds = new Map<string, number>();
  for (const r of beforeTicket.flat()) lookupKinds.set(r, (lookupKinds.get(r) ?? 0) + 1);

  await db.end();
  await stopChild(service.child);
  await zendesk.close();
  await meta.close();

  console.log(`\nbelow the cap: ${REPLIES} replies over ${CUSTOMERS} tickets at ${belowRate}/s`);
  console.log(`  webhook → WhatsApp send      p50 ${percentile(belowDelays, 50)} ms, p95 ${percentile(belowDelays, 95)} ms, max ${Math.max(...belowDelays)} ms (target p95 ≤ 500 ms; includes Meta's ${LATENCY_MS} ms)`);
  console.log(`  peak sends in any 1 s        ${belowPeak} of ${THROUGHPUT} allowed (offered ${belowRate}/s)`);
  console.log(`\nabove the cap: ${REPLIES} replies in 5 rounds of ${CUSTOMERS} concurrent webhooks (posted in ${((burstPosted - burstStart) / 1000).toFixed(1)} s)`);
  console.log(`  peak sends in any 1 s        ${peakInWindow(burstAttempts.map((r) => r.at))} at Meta, every attempt counted, of ${THROUGHPUT} allowed (target ≤ ${THROUGHPUT})`);
  console.log(`  average send rate            ${(REPLIES / burstSeconds).toFixed(1)}/s over ${burstSeconds.toFixed(1)} s = ${(REPLIES / burstSeconds / THROUGHPUT).toFixed(2)} of the throughput`);
  console.log(`  webhook → WhatsApp send      p50 ${percentile(burstDelays, 50)} ms, p95 ${percentile(burstDelays, 95)} ms (queued behind the cap)`);
  console.log(`\nall ${allTexts.length} replies (with a warm-up of ${warmTexts.length} before phase 1)`);
  console.log(`  duplicates                   ${duplicates} (target 0); never sent: ${missing}`);
  console.log(`  refused by Meta              ${refused.length} (130429 throughput: ${throttled}; other: ${refused.length - throttled}) (target 0)`);
  console.log(`\nchat burst: ${CUSTOMERS} customers new to Zendesk × ${CHAT_BURST} WhatsApp messages, 100 ms apart → Zendesk (comments coalesced within 2 s)`);
  console.log(`  Zendesk requests             ${chatRequests.length} = ${(chatRequests.length / chatTexts.length).toFixed(3)} per inbound message (one comment per burst would be ${(1 / CHAT_BURST).toFixed(3)})`);
  console.log(`  ticket updates (PUT)         ${chatUpdates}, 429 answers ${chat429}, all in Zendesk after ${chatSeconds.toFixed(1)} s`);
  console.log(
    `Zendesk requests per new customer before its ticket: ${Math.max(...beforeTicket.map((r) => r.length))} (target ≤ 3)` +
      ` — mean ${(beforeTicket.flat().length / beforeTicket.length).toFixed(2)} over ${beforeTicket.length} new customers; ` +
      [...lookupKinds].map(([kind, n]) => `${kind} ${n}`).join(', '),
  );
}

/**
 * The users requests (lookups, claim, creation) the fake logged for one new customer before the
 * POST /tickets that made its ticket, each named by its kind. A request belongs to the customer when
 * it names their external_id (query or body), their national number's digits (a phone search, in
 * any form) or their user id (path).
 */
function contactRequestsBeforeTicket(log: readonly FakeRequestLog[], waId: string, userId: number): string[] {
  const externalId = `whatsapp:${waId}`;
  const nationalDigits = waId.slice(2); // +44 numbers: the national significant number
  const body = (r: FakeRequestLog) => (r.body ?? {}) as { user?: { external_id?: string }; ticket?: { requester_id?: number } };
  const ticketAt = log.findIndex((r) => r.method === 'POST' && r.path === '/tickets' && body(r).ticket?.requester_id === userId && r.status === 201);
  const kinds: string[] = [];
  for (const r of log.slice(0, ticketAt < 0 ? log.length : ticketAt)) {
    if (!r.path.startsWith('/users')) continue;
    if (r.path === '/users/search' && r.query.external_id === externalId) kinds.push('external_id searches');
    else if (r.path === '/users/search' && (r.query.query ?? '').replace(/\D/g, '').includes(nationalDigits)) kinds.push('phone searches');
    else if (r.path === '/users/create_or_update' && body(r).user?.external_id === externalId) kinds.push('create_or_update');
    else if (r.path.startsWith(`/users/${userId}`)) kinds.push(`${r.method} /users/{id}…`);
  }
  return kinds;
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
