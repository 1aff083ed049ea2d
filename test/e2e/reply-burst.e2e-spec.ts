import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';
import { peakInWindow } from '../setup/time-windows';

const api = axios.create({ validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
const ZENDESK_SECRET = 'zendesk-burst-signing-secret';
/** Low on purpose: 500 replies at 40/s need at least 12 s, so the cap, not the machine, sets the pace. */
const THROUGHPUT = 40;
const CUSTOMERS = 100;
const REPLIES_PER_CUSTOMER = 5;
const TOTAL = CUSTOMERS * REPLIES_PER_CUSTOMER;


/**
 * A burst of agent replies, end to end on Postgres + Redis: 100 customers have written within 24 h,
 * their chats are Zendesk tickets, and agents answer each ticket five times at once (500 signed
 * Zendesk webhooks). The fake Meta logs when each send arrives; WHATSAPP_THROUGHPUT_PER_SECOND is 40.
 *
 * What the product guarantees, and so what is asserted: every reply is sent exactly once, in the
 * order of its ticket, and the send attempts that reach Meta never number more than the configured
 * throughput in any 1-second window, by their arrival at Meta, with no tolerance. That holds
 * however late a send arrives, because a send holds its place in the number's budget (a window in
 * Redis) from before the call until a second after Meta's answer, and it arrives in between
 * (RequestBudgets.tryHold). A window counted only from the start let 44–50 arrive in one second
 * here, and the fake, like Meta, refused the extra ones with 130429; so the fake enforces 40/s too,
 * and every attempt must be answered 200.
 *
 * Meta's pair rate limit (about one message per 6 s to one customer, in bursts of up to 45) is
 * emulated by the fake as 45 per 6 s: five replies to one customer are a burst Meta accepts, and
 * the sender sends them one after the other without a 131056. (The sender does not pace per
 * customer ahead of time; a 131056 would hold that customer's messages back 6 s, send-failure.ts.)
 */
describe('a burst of agent replies', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let zendesk: ZendeskFake;
  let service: TestService;
  let zendeskId: string;
  const waIds = Array.from({ length: CUSTOMERS }, (_, i) => `4915710${String(i).padStart(6, '0')}`);
  const tickets = new Map<string, string>();

  const messageSends = () => meta.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages'));

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token', enforceWindow: true, throughputPerSecond: THROUGHPUT, pairLimit: { count: 45, perMs: 6000 } });
    // No account limit at the fake: the connector's own budget (400/min) paces the chats' sync.
    zendesk = await startZendeskFake({ requestsPerMinute: 0 });
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, WHATSAPP_API_URL: meta.url, WHATSAPP_THROUGHPUT_PER_SECOND: String(THROUGHPUT), EGRESS_ALLOW: allowFakes(meta, zendesk) });

    const zd = await api.post(`${service.url}/api/v1/connections`, {
      connectorId: 'zendesk',
      name: 'Zendesk support',
      credentials: { ...zendesk.credentials({ webhookSecret: ZENDESK_SECRET }), apiUserId: String(zendesk.apiUser.id) },
    });
    expect(zd.status).toBe(201);
    zendeskId = zd.data.id;
    zendesk.configureWebhook({ url: `${service.url}/webhooks/connections/${zendeskId}`, secret: ZENDESK_SECRET, mode: 'trigger' });

    // The customers are known to the helpdesk already (found by external_id, not by a dozen phone
    // searches), which keeps the chats' sync within the connector's 400 requests a minute.
    for (const waId of waIds) zendesk.seedUser({ name: `Customer ${waId.slice(-3)}`, external_id: `whatsapp:${waId}`, phone: `+${waId}` });
    // Every customer wrote an hour ago (inside the 24-hour window); each chat becomes a ticket.
    const wroteAt = Math.floor(Date.now() / 1000) - 3600;
    const answers = await Promise.all(
      waIds.map((waId) => {
        meta.recordInbound(waId, new Date(wroteAt * 1000));
        return postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ waId, name: `Customer ${waId.slice(-3)}`, wamid: nextWamid(waId), text: 'Where is my order?', timestamp: wroteAt }), TEST_APP_SECRET);
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(waIds.map(() => 200));
    const rows: { wa_id: string; remote_id: string }[] = await eventually(
      async () => {
        const found = await service.db.query(
          `SELECT k.wa_id, l.remote_id FROM remote_links l JOIN conversations c ON c.id = l.local_id JOIN contacts k ON k.id = c.contact_id
           WHERE l.connection_id = $1 AND l.entity_type = 'ticket'`,
          [zendeskId],
        );
        return found.length === CUSTOMERS && found;
      },
      'every chat a Zendesk ticket',
      90_000,
    );
    for (const row of rows) tickets.set(row.wa_id, row.remote_id);
    await eventually(
      async () => Number((await service.db.query(`SELECT count(*) FROM outbox WHERE status IN ('pending', 'running')`))[0].count) === 0,
      'the chats synced',
      30_000,
    );
  }, 150_000);

  afterAll(async () => {
    await service?.stop();
    await zendesk?.close();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  it(`sends 500 replies exactly once, in order per ticket, never more than ${THROUGHPUT} in any second at Meta`, async () => {
    expect(messageSends()).toEqual([]);
    const text = (waId: string, n: number) => `Reply ${n} of ${REPLIES_PER_CUSTOMER} to ${waId}`;
    // Five rounds of 100 concurrent webhooks, back to back: all 500 are in long before the sends
    // can be (≥ 12 s at 40/s), and each ticket's replies arrive in the order the agent wrote them.
    const comments = new Map<string, string>();
    for (let n = 1; n <= REPLIES_PER_CUSTOMER; n++) {
      const round = await Promise.all(waIds.map((waId) => zendesk.agentComment(tickets.get(waId)!, { body: text(waId, n) })));
      round.forEach(({ comment, deliveries }, i) => {
        expect(deliveries.map((d) => d.status)).toEqual([200]);
        comments.set(String(comment.id), text(waIds[i], n));
      });
    }

    await eventually(async () => meta.sent.length >= TOTAL, `${TOTAL} sends at Meta`, 90_000);
    await eventually(
      async () => Number((await service.db.query(`SELECT count(*) FROM outbox WHERE status IN ('pending', 'running')`))[0].count) === 0,
      'every queue empty',
      30_000,
    );

    // Exactly once: each Zendesk comment → one stored reply → one message → one send with its wamid.
    const replies: { remote_id: string; status: string; wamid: string }[] = await service.db.query(
      `SELECT r.remote_id, r.status, m.wamid FROM agent_replies r JOIN messages m ON m.id = r.message_id WHERE r.connection_id = $1`,
      [zendeskId],
    );
    expect(replies).toHaveLength(TOTAL);
    expect(new Set(replies.map((r) => r.remote_id))).toEqual(new Set(comments.keys()));
    expect(replies.filter((r) => r.status !== 'queued')).toEqual([]);
    const sendsPerWamid = new Map<string, number>();
    for (const s of meta.sent) sendsPerWamid.set(s.wamid, (sendsPerWamid.get(s.wamid) ?? 0) + 1);
    expect(meta.sent).toHaveLength(TOTAL);
    expect(replies.filter((r) => sendsPerWamid.get(r.wamid) !== 1)).toEqual([]);
    const sentText = (s: (typeof meta.sent)[number]) => (s.body.text as { body: string }).body;
    expect(new Set(meta.sent.map(sentText))).toEqual(new Set(comments.values()));

    // In order per customer, and Meta refused nothing: no 131056 (pair limit), no 130429, no 131047.
    for (const waId of waIds) {
      expect(meta.sent.filter((s) => s.waId === waId).map(sentText)).toEqual(Array.from({ length: REPLIES_PER_CUSTOMER }, (_, i) => text(waId, i + 1)));
    }
    expect(messageSends().filter((r) => r.status !== 200)).toEqual([]);

    // The cap, at Meta's door: every send attempt counted by its arrival time.
    const arrivals = messageSends().map((r) => r.at);
    expect(peakInWindow(arrivals)).toBeLessThanOrEqual(THROUGHPUT);
    // The burst exceeded the cap, so the cap is what paced it: 500 at ≤ 40 per second span ≥ 12 s.
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeGreaterThanOrEqual(Math.floor((TOTAL - 1) / THROUGHPUT) * 1000);
    expect(meta.specViolations).toEqual([]);
  }, 150_000);
});
