import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { startPipedriveFake, type PipedriveFake } from '../../connectors/pipedrive/test/pipedrive.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const api = axios.create({ validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * WhatsApp → Pipedrive, end to end: signed webhooks into the real service on Postgres + Redis,
 * the real `pipedrive` SDK against a fake Pipedrive. A customer's burst becomes one note on the
 * person a salesperson already had, on the lead their conversation opened; the transcript is a
 * note when the conversation closes.
 */
describe('WhatsApp chats into Pipedrive', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let pipedrive: PipedriveFake;
  let service: TestService;

  const webhook = (payload: object) => postMetaWebhook(`${service.url}/webhooks/whatsapp`, payload, TEST_APP_SECRET);
  const openTasks = async () => Number((await service.db.query(`SELECT count(*) FROM outbox WHERE queue = 'crm-sync' AND status IN ('pending', 'running')`))[0].count);
  const synced = (what: string, timeoutMs = 20_000) => eventually(async () => (await openTasks()) === 0, what, timeoutMs);
  const conversationsOf = async (waId: string): Promise<{ id: string }[]> =>
    service.db.query(`SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1 ORDER BY c.opened_at`, [waId]);

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    pipedrive = await startPipedriveFake();
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, CONNECTOR_TIMEOUT_MS: '3000', EGRESS_ALLOW: allowFakes(pipedrive) });
    const created = await api.post(`${service.url}/api/v1/connections`, {
      connectorId: 'pipedrive',
      name: 'Pipedrive sales',
      credentials: pipedrive.credentials(),
      settings: { noteBurstMs: 1_500, leadTitleTemplate: 'WhatsApp chat: {{name}}' },
    });
    expect(created.status).toBe(201);
    expect(created.data.capabilities).toMatchObject({ history: true, tickets: true, transcripts: true, erasure: true, consent: false, replies: false });
  });

  afterAll(async () => {
    await service?.stop();
    await pipedrive?.close();
    await redis?.close();
    await database?.drop();
  });

  it('puts a burst on the person Pipedrive holds as "+48 601 234 567": one person, a lead, one note in order with WhatsApp times, a transcript on close', async () => {
    const seeded = pipedrive.seedPerson({ name: 'Anna Nowak (from a trade fair)', phones: ['+48 601 234 567'] });
    const waId = '48601234567';
    const t0 = Math.floor(Date.parse('2026-04-14T08:30:00Z') / 1000);
    const texts = ['Dzień dobry!', 'Is the oak table still available?', 'And can you deliver to Kraków?'];
    for (const [i, text] of texts.entries()) {
      const body = aTextMessageWebhook({ wamid: nextWamid(waId), waId, name: 'Anna Nowak', text, timestamp: String(t0 + i) });
      expect((await webhook(body)).status).toBe(200);
      await sleep(100);
    }
    await synced('the burst synced to Pipedrive');

    expect(pipedrive.persons().map((p) => p.id)).toEqual([seeded.id]);
    const leads = pipedrive.leads();
    expect(leads).toHaveLength(1);
    expect(leads[0]).toMatchObject({ person_id: seeded.id, title: 'WhatsApp chat: Anna Nowak', is_archived: false });

    const notes = pipedrive.notesOf(seeded.id);
    expect(notes).toHaveLength(1);
    const [note] = notes;
    expect(note.lead_id).toBe(leads[0].id);
    const lines = ['[08:30:00] <b>Anna Nowak</b>: Dzień dobry!', '[08:30:01] <b>Anna Nowak</b>: Is the oak table still available?', '[08:30:02] <b>Anna Nowak</b>: And can you deliver to Kraków?'];
    const positions = lines.map((line) => note.content.indexOf(line));
    expect(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]))).toBe(true);

    const [conversation] = await conversationsOf(waId);
    const closed = await api.post(`${service.url}/api/v1/conversations/${conversation.id}/close`);
    expect(closed.status).toBe(200);
    await synced('the transcript synced');
    const transcripts = pipedrive.notesOf(seeded.id).filter((n) => n.content.includes('WhatsApp conversation transcript'));
    expect(transcripts).toHaveLength(1);
    expect(transcripts[0].lead_id).toBe(leads[0].id);
    expect(transcripts[0].content.indexOf('Dzień dobry!')).toBeLessThan(transcripts[0].content.indexOf('deliver to Kraków?'));
    expect(pipedrive.persons()).toHaveLength(1);
  });

  it('joins the customer’s open lead when they write again soon after, with a new note', async () => {
    const waId = '48601234567';
    const before = pipedrive.leads().length;
    await webhook(aTextMessageWebhook({ wamid: nextWamid(waId), waId, name: 'Anna Nowak', text: 'One more question about the table' }));
    await synced('the follow-up synced');
    expect(await conversationsOf(waId)).toHaveLength(2);
    expect(pipedrive.leads()).toHaveLength(before);
    const follow = pipedrive.notes().find((n) => n.content.includes('One more question'));
    expect(follow?.lead_id).toBe(pipedrive.leads()[0].id);
  });

  it('creates one person and one lead when two conversations of a new number sync at once', async () => {
    const waId = '48601234999';
    await Promise.all([
      webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), name: 'Piotr Zieliński', text: 'to sales', phoneNumberId: '106540352242922' })),
      webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), name: 'Piotr Zieliński', text: 'to support', phoneNumberId: '106540352249999', displayPhoneNumber: '15550009999' })),
    ]);
    await synced('both conversations synced');
    expect(await conversationsOf(waId)).toHaveLength(2);
    expect(pipedrive.contactsMatching('+48601234999')).toBe(1);
    const [person] = pipedrive.persons().filter((p) => p.phones.some((ph) => ph.value === '+48601234999'));
    expect(person.name).toBe('Piotr Zieliński');
    expect(pipedrive.leads().filter((l) => l.person_id === person.id)).toHaveLength(1);
    const texts = pipedrive.notesOf(person.id).map((n) => n.content);
    expect(texts.some((c) => c.includes('to sales'))).toBe(true);
    expect(texts.some((c) => c.includes('to support'))).toBe(true);
  });

  it('writes a burst once when Pipedrive wrote the note but the connection broke before the answer, while search lags 3 s', async () => {
    const waId = '48601234777';
    await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), name: 'Ewa', text: 'before the reset' }));
    await synced('the customer and the lead exist');
    pipedrive.setSearchLag(3_000);
    pipedrive.resetAfterNextCreate();
    try {
      await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), name: 'Ewa', text: 'written despite the reset' }));
      await synced('the message synced after the reset');
      expect(pipedrive.requests().some((r) => r.path === '/api/v1/notes' && r.method === 'POST' && r.status === 0)).toBe(true);
      expect(pipedrive.recordsContaining('written despite the reset')).toBe(1);
    } finally {
      pipedrive.setSearchLag(0);
    }
  });

  it('erases the customer in Pipedrive too: person, notes and lead deleted, with a receipt', async () => {
    const waId = '48601234999';
    const [person] = pipedrive.persons().filter((p) => p.phones.some((ph) => ph.value === '+48601234999'));
    const [{ id: contactId }] = await service.db.query(`SELECT id FROM contacts WHERE wa_id = $1`, [waId]);
    const res = await api.delete(`${service.url}/api/v1/contacts/${contactId}`);
    expect(res.status).toBe(202);
    const erasure = async () => (await api.get(`${service.url}/api/v1/erasures/${res.data.id}`)).data as { status: string; receipts: { targetName: string; status: string; detail?: string }[] };
    await eventually(async () => (await erasure()).status === 'done', 'Pipedrive erased the customer');
    expect((await erasure()).receipts.find((r) => r.targetName === 'Pipedrive sales')).toMatchObject({ status: 'done', detail: expect.stringMatching(/^person deleted .* with 2 note\(s\), 0 file\(s\) and 1 lead\(s\)$/) });
    expect(pipedrive.person(person.id)?.is_deleted).toBe(true);
    expect(pipedrive.notesOf(person.id)).toEqual([]);
    expect(pipedrive.leads().filter((l) => l.person_id === person.id)).toEqual([]);
    expect(pipedrive.persons().filter((p) => p.id !== person.id).length).toBeGreaterThan(0); // the others stay
  });
});
