import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { request as httpRequest } from 'node:http';
import * as path from 'node:path';
import { aStatusWebhook, aTextMessageWebhook, anImageMessageWebhook, aBatchWebhook, aTextMessage, aStatus, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook, verifyHandshake } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, TEST_VERIFY_TOKEN, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true });

describe('WhatsApp webhook on Postgres + Redis', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let service: TestService;
  let webhookUrl: string;

  const count = async (sql: string, params: unknown[] = []) => Number((await service.db.query(sql, params))[0].count);

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token' });
    service = await startTestService({
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      WHATSAPP_API_URL: meta.url,
      WHATSAPP_APP_SECRET: `old-secret,${TEST_APP_SECRET}`,
      EGRESS_ALLOW: allowFakes(meta),
    });
    webhookUrl = `${service.url}/webhooks/whatsapp`;
  });

  afterAll(async () => {
    await service?.stop();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  describe('verification handshake', () => {
    it('echoes the challenge for the right token', async () => {
      await expect(verifyHandshake(webhookUrl, TEST_VERIFY_TOKEN)).resolves.toBe(true);
      const res = await http.get(webhookUrl, { params: { 'hub.mode': 'subscribe', 'hub.verify_token': TEST_VERIFY_TOKEN, 'hub.challenge': '1158201444' } });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/plain/);
      expect(res.data).toBe(1158201444); // axios parses the number; the body is the bare challenge
    });

    it('answers 403 for a wrong token or mode', async () => {
      expect((await http.get(webhookUrl, { params: { 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': 'x' } })).status).toBe(403);
      expect((await http.get(webhookUrl, { params: { 'hub.mode': 'unsubscribe', 'hub.verify_token': TEST_VERIFY_TOKEN, 'hub.challenge': 'x' } })).status).toBe(403);
    });
  });

  describe('signatures', () => {
    it('stores nothing and answers 401 when the signature is missing, wrong, or the body changed', async () => {
      const wamid = nextWamid();
      const payload = aTextMessageWebhook({ wamid, text: 'secret plan' });
      expect((await postMetaWebhook(webhookUrl, payload, TEST_APP_SECRET, { omitSignature: true })).status).toBe(401);
      expect((await postMetaWebhook(webhookUrl, payload, 'not-the-secret')).status).toBe(401);
      const raw = JSON.stringify(payload);
      const signatureOfOriginal = (await import('../fakes/meta-webhook')).signMetaWebhook(raw, TEST_APP_SECRET);
      const tampered = raw.replace('secret plan', 'secret plam');
      expect((await postMetaWebhook(webhookUrl, tampered, TEST_APP_SECRET, { signature: signatureOfOriginal })).status).toBe(401);
      await expect(count('SELECT count(*) FROM messages WHERE wamid = $1', [wamid])).resolves.toBe(0);
    });

    it('accepts either secret during a rotation', async () => {
      const a = nextWamid();
      const b = nextWamid();
      expect((await postMetaWebhook(webhookUrl, aTextMessageWebhook({ wamid: a }), 'old-secret')).status).toBe(200);
      expect((await postMetaWebhook(webhookUrl, aTextMessageWebhook({ wamid: b }), TEST_APP_SECRET)).status).toBe(200);
      await expect(count('SELECT count(*) FROM messages WHERE wamid = ANY($1)', [[a, b]])).resolves.toBe(2);
    });
  });

  it('stores a text message with its contact and an open conversation, readable through the API', async () => {
    const wamid = nextWamid('48601234567');
    const res = await postMetaWebhook(webhookUrl, aTextMessageWebhook({ wamid, waId: '48601234567', name: 'Ola Nowak', text: 'Dzień dobry' }), TEST_APP_SECRET);
    expect(res.status).toBe(200);

    const [contact] = await service.db.query(`SELECT * FROM contacts WHERE wa_id = '48601234567'`);
    expect(contact).toMatchObject({ e164: '+48601234567', profile_name: 'Ola Nowak' });
    const [conversation] = await service.db.query(`SELECT * FROM conversations WHERE contact_id = $1`, [contact.id]);
    expect(conversation.status).toBe('open');
    expect(conversation.last_inbound_at).not.toBeNull();

    const auth = { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } };
    const conversations = await http.get(`${service.url}/api/v1/conversations`, { ...auth, params: { contactId: contact.id } });
    expect(conversations.status).toBe(200);
    expect(conversations.data.data.map((c: { id: string }) => c.id)).toEqual([conversation.id]);
    const messages = await http.get(`${service.url}/api/v1/conversations/${conversation.id}/messages`, auth);
    expect(messages.data.data).toHaveLength(1);
    expect(messages.data.data[0]).toMatchObject({ wamid, type: 'text', body: 'Dzień dobry', direction: 'inbound' });
  });

  it('keeps one message when the same delivery arrives three times at once', async () => {
    const wamid = nextWamid('4915112345678');
    const payload = JSON.stringify(aTextMessageWebhook({ wamid, waId: '4915112345678', text: 'Hallo' }));
    const results = await Promise.all([1, 2, 3].map(() => postMetaWebhook(webhookUrl, payload, TEST_APP_SECRET)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await expect(count('SELECT count(*) FROM messages WHERE wamid = $1', [wamid])).resolves.toBe(1);
    await expect(count(`SELECT count(*) FROM contacts WHERE wa_id = '4915112345678'`)).resolves.toBe(1);
    await expect(count(`SELECT count(*) FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = '4915112345678'`)).resolves.toBe(1);
  });

  it('stores every message and status of a batched delivery', async () => {
    const waId = '34600111222';
    const wamids = [nextWamid(waId), nextWamid(waId), nextWamid(waId)];
    const payload = aBatchWebhook(
      wamids.map((wamid, i) => aTextMessage({ wamid, waId, text: `part ${i}`, timestamp: 1_750_000_000 + i })),
      [aStatus({ wamid: 'wamid.unknown-outbound', status: 'sent' })],
    );
    expect((await postMetaWebhook(webhookUrl, payload, TEST_APP_SECRET)).status).toBe(200);
    const rows = await service.db.query(`SELECT body FROM messages WHERE wamid = ANY($1) ORDER BY wa_timestamp, seq`, [wamids]);
    expect(rows.map((r: { body: string }) => r.body)).toEqual(['part 0', 'part 1', 'part 2']);
    await expect(count(`SELECT count(*) FROM message_status_events WHERE wamid = 'wamid.unknown-outbound'`)).resolves.toBe(1);
  });

  it('answers 200 to a signed but malformed payload and quarantines it with the reason', async () => {
    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: 'not-a-list' });
    const res = await postMetaWebhook(webhookUrl, body, TEST_APP_SECRET);
    expect(res.status).toBe(200);
    const quarantine = await http.get(`${service.url}/api/v1/quarantine`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    const item = quarantine.data.data.find((q: { payload: string }) => q.payload === body);
    expect(item).toBeDefined();
    expect(item.reason).toMatch(/entry/);

    const notJson = await postMetaWebhook(webhookUrl, '{"object": "whatsapp_business_account", ', TEST_APP_SECRET);
    expect(notJson.status).toBe(200);
    await expect(count(`SELECT count(*) FROM quarantine WHERE reason = 'body is not valid JSON'`)).resolves.toBe(1);
  });

  it('stores text Postgres cannot hold (NUL, lone surrogates) with U+FFFD, flags it and keeps the exact bytes', async () => {
    for (const [waId, text] of [['4915100000001', 'before\u0000after'], ['4915100000002', 'lone \ud800 half'], ['4915100000003', 'other \udc00 half']] as const) {
      const wamid = nextWamid(waId);
      const payload = JSON.stringify(aTextMessageWebhook({ wamid, waId, text, name: `Name\u0000${waId}` }));
      expect(payload).toMatch(/\\u(0000|d800|dc00)/); // the escapes Meta would send
      const res = await postMetaWebhook(webhookUrl, payload, TEST_APP_SECRET);
      expect(res.status).toBe(200);
      const [message] = await service.db.query(`SELECT body, content_normalised FROM messages WHERE wamid = $1`, [wamid]);
      expect(message).toEqual({ body: text.replace(/\u0000|\ud800|\udc00/, '\ufffd'), content_normalised: true });
      const [contact] = await service.db.query(`SELECT profile_name FROM contacts WHERE wa_id = $1`, [waId]);
      expect(contact.profile_name).toBe(`Name\ufffd${waId}`);
      const [kept] = await service.db.query(`SELECT kind, raw, wamids FROM quarantine WHERE $1 = ANY(wamids)`, [wamid]);
      expect(kept.kind).toBe('normalised');
      expect(Buffer.from(kept.raw).toString('utf8')).toBe(payload);
      // Meta delivers it again: a duplicate, with no second record.
      expect((await postMetaWebhook(webhookUrl, payload, TEST_APP_SECRET)).status).toBe(200);
      await expect(count(`SELECT count(*) FROM messages WHERE wamid = $1`, [wamid])).resolves.toBe(1);
      await expect(count(`SELECT count(*) FROM quarantine WHERE $1 = ANY(wamids)`, [wamid])).resolves.toBe(1);
    }
  });

  it('quarantines a body too deep or too wide to walk, with the reason and its bytes, and answers 200', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const wide = JSON.stringify({ object: 'whatsapp_business_account', entry: Array.from({ length: 60_000 }, (_, i) => i) });
    for (const [body, reason] of [
      [deep, 'body nested deeper than 64 levels'],
      [wide, 'body more than 50000 values'],
    ] as const) {
      const res = await postMetaWebhook(webhookUrl, body, TEST_APP_SECRET);
      expect(res.status).toBe(200);
      const [row] = await service.db.query(`SELECT kind, raw FROM quarantine WHERE reason = $1 ORDER BY created_at DESC LIMIT 1`, [reason]);
      expect(row.kind).toBe('quarantined');
      expect(Buffer.from(row.raw).toString('utf8')).toBe(body);
    }
    // A body that is not even text Postgres can hold (a raw NUL byte) is kept too.
    const withNulByte = '{"object": "whatsapp_business_account", "x": "\u0000"}'; // a raw 0x00 byte, invalid in JSON text
    expect((await postMetaWebhook(webhookUrl, withNulByte, TEST_APP_SECRET)).status).toBe(200);
    const [bad] = await service.db.query(`SELECT payload FROM quarantine WHERE reason = 'body is not valid JSON' AND raw = $1`, [Buffer.from(withNulByte)]);
    expect(bad.payload).toBe(withNulByte.replace('\u0000', '\ufffd'));
  });

  it('answers 413 to a body over the limit before storing anything', async () => {
    const big = JSON.stringify(aTextMessageWebhook({ text: 'x'.repeat(1024 * 1024 + 10) }));
    const res = await postMetaWebhook(webhookUrl, big, TEST_APP_SECRET);
    expect(res.status).toBe(413);
  });

  it('answers 413 to a chunked body (no Content-Length) as soon as it passes the limit', async () => {
    const { status, sent } = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
      const req = httpRequest(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' } });
      let sent = 0;
      req.on('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, sent });
        req.destroy();
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(256 * 1024, 'x');
      // Keeps streaming (8 MB at most) until the service answers.
      const pump = () => {
        while (sent < 8 * 1024 * 1024 && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(8 * 1024 * 1024); // answered before the client finished sending
    const metrics = await http.get(`${service.url}/metrics`);
    expect(metrics.data).toMatch(/threadbridge_webhooks_total\{outcome="too_large"\} [1-9]/);
  });

  it('lets a client that sends its whole oversized body first read the 413 (never EPIPE), every time', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024, 'x');
    const attempt = (i: number) =>
      new Promise<string>((resolve) => {
        // With and without Content-Length (a streaming client sends chunks).
        const length = i % 2 === 0 ? { 'content-length': body.length } : {};
        const req = httpRequest(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...length, 'x-hub-signature-256': 'sha256=00' } });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        // An ordinary client: writes everything in 64 KB pieces, then waits for the answer.
        for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
        req.end();
      });
    const outcomes: string[] = [];
    for (let i = 0; i < 24; i++) outcomes.push(await attempt(i));
    expect(outcomes).toEqual(Array(24).fill('413'));
  });

  it('moves an outbound message forward through its statuses and never backwards', async () => {
    const wamid = nextWamid('16505550001', 'outbound');
    const [{ id: contactId }] = await service.db.query(`INSERT INTO contacts (wa_id, e164) VALUES ('16505550001', '+16505550001') RETURNING id`);
    const [{ id: conversationId }] = await service.db.query(`INSERT INTO conversations (contact_id, phone_number_id) VALUES ($1, '106540352242922') RETURNING id`, [contactId]);
    await service.db.query(
      `INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, wa_timestamp, status, status_rank, origin)
       VALUES ($1, $2, $3, 'outbound', 'text', 'Your order shipped', now(), 'pending', 0, 'api')`,
      [wamid, conversationId, contactId],
    );
    const statusOf = async () => (await service.db.query(`SELECT status, error_code, error_title FROM messages WHERE wamid = $1`, [wamid]))[0];
    const send = (status: string, extra = {}) => postMetaWebhook(webhookUrl, aStatusWebhook({ wamid, status, recipientId: '16505550001', ...extra }), TEST_APP_SECRET);

    await send('read');
    expect((await statusOf()).status).toBe('read');
    await send('delivered'); // late
    await send('sent'); // later still
    expect((await statusOf()).status).toBe('read');
    await send('read'); // duplicate
    await expect(count(`SELECT count(*) FROM message_status_events WHERE wamid = $1`, [wamid])).resolves.toBe(3);

    const failing = nextWamid('16505550001', 'outbound');
    await service.db.query(
      `INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, wa_timestamp, status, status_rank, origin)
       VALUES ($1, $2, $3, 'outbound', 'text', 'Hello again', now(), 'pending', 0, 'api')`,
      [failing, conversationId, contactId],
    );
    await postMetaWebhook(webhookUrl, aStatusWebhook({ wamid: failing, status: 'sent' }), TEST_APP_SECRET);
    await postMetaWebhook(
      webhookUrl,
      aStatusWebhook({ wamid: failing, status: 'failed', errors: [{ code: 131026, title: 'Message undeliverable' }] }),
      TEST_APP_SECRET,
    );
    await postMetaWebhook(webhookUrl, aStatusWebhook({ wamid: failing, status: 'delivered' }), TEST_APP_SECRET);
    const [failed] = await service.db.query(`SELECT status, error_code, error_title FROM messages WHERE wamid = $1`, [failing]);
    expect(failed).toEqual({ status: 'failed', error_code: 131026, error_title: 'Message undeliverable' });
  });

  it('downloads media from WhatsApp in the background, checks its sha256 and stores it', async () => {
    const bytes = randomBytes(50_000);
    const { id: mediaId, sha256Base64 } = meta.addMedia(bytes, 'image/jpeg');
    const wamid = nextWamid();
    expect((await postMetaWebhook(webhookUrl, anImageMessageWebhook({ wamid, mediaId, sha256: sha256Base64, caption: 'the receipt' }), TEST_APP_SECRET)).status).toBe(200);

    const row = await eventually(async () => {
      const [m] = await service.db.query(`SELECT media, media_status FROM messages WHERE wamid = $1`, [wamid]);
      return m?.media_status === 'stored' ? m : undefined;
    }, 'media stored');
    const hex = createHash('sha256').update(bytes).digest('hex');
    expect(row.media).toMatchObject({ id: mediaId, storageKey: hex, sizeBytes: bytes.length, caption: 'the receipt' });
    const stored = fs.readFileSync(path.join(service.config.media.dir, hex.slice(0, 2), hex));
    expect(stored.equals(bytes)).toBe(true);
  });

  it('marks the message when the media download fails for good', async () => {
    const { id: mediaId, sha256Base64 } = meta.addMedia(randomBytes(1000), 'image/png', { corruptDownload: true });
    const wamid = nextWamid();
    await postMetaWebhook(webhookUrl, anImageMessageWebhook({ wamid, mediaId, sha256: sha256Base64 }), TEST_APP_SECRET);
    // The mismatch is retried with backoff; make it due now so the test does not wait minutes.
    const failed = await eventually(async () => {
      await service.db.query(`UPDATE outbox SET next_attempt_at = now() - interval '1 hour' WHERE status = 'pending' AND queue = 'media'`);
      const [m] = await service.db.query(`SELECT media, media_status FROM messages WHERE wamid = $1`, [wamid]);
      return m?.media_status === 'failed' ? m : undefined;
    }, 'media marked failed', 30_000);
    expect(failed.media.failureReason).toMatch(/sha256/);
    const [task] = await service.db.query(`SELECT o.status, o.attempts FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.wamid = $1`, [wamid]);
    expect(task).toEqual({ status: 'dead', attempts: 6 });
  });

  it('loses no work when Redis is flushed mid-run: the sweeper re-enqueues from the outbox', async () => {
    const wamids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { id: mediaId, sha256Base64 } = meta.addMedia(randomBytes(2000), 'image/jpeg');
      const wamid = nextWamid();
      wamids.push(wamid);
      await postMetaWebhook(webhookUrl, anImageMessageWebhook({ wamid, mediaId, sha256: sha256Base64 }), TEST_APP_SECRET);
      if (i === 9) await redis.flush();
    }
    await redis.flush();
    await eventually(
      async () => (await count(`SELECT count(*) FROM messages WHERE wamid = ANY($1) AND media_status = 'stored'`, [wamids])) === 20,
      'all 20 media stored after Redis was flushed',
    );
  });

  it('serves health and Prometheus metrics', async () => {
    const ready = await http.get(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.data).toMatchObject({ database: 'ok', queue: { driver: 'bullmq', status: 'ok' } });
    const metrics = await http.get(`${service.url}/metrics`);
    expect(metrics.data).toMatch(/threadbridge_webhooks_total\{outcome="stored"\} \d+/);
    expect(metrics.data).toMatch(/threadbridge_webhooks_total\{outcome="unauthorized"\} \d+/);
    expect(metrics.data).toMatch(/threadbridge_webhook_ack_seconds_bucket/);
    expect(metrics.data).toMatch(/threadbridge_outbox_pending \d+/);
    expect(metrics.data).toMatch(/threadbridge_outbox_oldest_pending_age_seconds/);
  });

  it('requires the admin API key on the operator API', async () => {
    expect((await http.get(`${service.url}/api/v1/contacts`)).status).toBe(401);
    expect((await http.get(`${service.url}/api/v1/contacts`, { headers: { authorization: 'Bearer wrong-key-000000000' } })).status).toBe(401);
    const ok = await http.get(`${service.url}/api/v1/contacts`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, params: { limit: 2 } });
    expect(ok.status).toBe(200);
    expect(ok.data.data).toHaveLength(2);
    const next = await http.get(`${service.url}/api/v1/contacts`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, params: { limit: 2, cursor: ok.data.nextCursor } });
    expect(next.data.data.map((c: { id: string }) => c.id)).not.toContain(ok.data.data[0].id);
    expect((await http.get(`${service.url}/api/v1/contacts`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, params: { cursor: 'garbage' } })).status).toBe(400);
    expect((await http.get(`${service.url}/docs-json`)).data.paths).toHaveProperty('/api/v1/conversations/{id}/messages');
  });
});
