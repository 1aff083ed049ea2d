import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/setup/test-database';
import { createDataSource } from '../data-source';
import { IngestRepository, type NewInboundMessage } from './ingest.repository';

const PHONE_NUMBER_ID = '106540352242922';
let sequence = 0;

function message(waId: string, overrides: Partial<NewInboundMessage> = {}): NewInboundMessage {
  sequence++;
  return {
    waId,
    e164: `+${waId}`,
    profileName: 'Customer',
    phoneNumberId: PHONE_NUMBER_ID,
    displayPhoneNumber: '15550783881',
    wamid: `wamid.ingest-${sequence}-${waId}`,
    type: 'text',
    body: `message ${sequence}`,
    content: { body: `message ${sequence}` },
    forwarded: false,
    waTimestamp: new Date(Date.UTC(2026, 10, 21, 10, 0, sequence % 60)),
    ...overrides,
  };
}

/** tb_ingest_inbound_batch on a real Postgres (migrated schema): the batch rules and its lock order. */
describe('IngestRepository batches', () => {
  let database: TestDatabase;
  let db: DataSource;
  let repo: IngestRepository;

  const count = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params))[0].count);

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await createDataSource(database.url, 12).initialize();
    repo = new IngestRepository();
    await db.query(`INSERT INTO connections (connector_id, name, credentials_enc) VALUES ('hubspot', 'crm', 'x')`);
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('answers in input order: a task list per stored message, null for a repeat (also inside one batch)', async () => {
    const first = message('48600000001');
    const second = message('48600000002', { media: { id: 'media-1', mimeType: 'image/jpeg' } as NewInboundMessage['media'], type: 'image' });
    const results = await repo.storeInboundBatch(db.manager, [first, second, first]);

    expect(results).toHaveLength(3);
    expect(results[0]!.map((t) => t.queue)).toEqual(['crm-sync']);
    expect(results[1]!.map((t) => t.queue).sort()).toEqual(['crm-sync', 'media']);
    expect(results[2]).toBeNull();
    await expect(repo.storeInboundBatch(db.manager, [second])).resolves.toEqual([null]);
    await expect(count(`SELECT count(*) FROM messages WHERE wamid = ANY($1)`, [[first.wamid, second.wamid]])).resolves.toBe(2);
  });

  it('keeps one contact and one open conversation per customer, the profile name sent last and the latest WhatsApp time', async () => {
    const waId = '48600000010';
    const early = message(waId, { profileName: 'Ann', waTimestamp: new Date('2026-11-21T09:00:00Z') });
    const late = message(waId, { profileName: 'Ann Smith', waTimestamp: new Date('2026-11-21T09:05:00Z') });
    await repo.storeInboundBatch(db.manager, [late, early]);
    await repo.storeInboundBatch(db.manager, [message(waId, { profileName: undefined, waTimestamp: new Date('2026-11-21T09:01:00Z') })]);

    const [contact] = await db.query(`SELECT id, profile_name FROM contacts WHERE wa_id = $1`, [waId]);
    expect(contact.profile_name).toBe('Ann');
    const conversations = await db.query(`SELECT opened_at, last_inbound_at FROM conversations WHERE contact_id = $1`, [contact.id]);
    expect(conversations).toHaveLength(1);
    expect(conversations[0].opened_at.toISOString()).toBe('2026-11-21T09:00:00.000Z');
    expect(conversations[0].last_inbound_at.toISOString()).toBe('2026-11-21T09:05:00.000Z');
  });

  it('opens a new conversation when the open one was closed, and skips erased wamids', async () => {
    const waId = '48600000020';
    await repo.storeInboundBatch(db.manager, [message(waId)]);
    await db.query(`UPDATE conversations SET status = 'closed' WHERE contact_id = (SELECT id FROM contacts WHERE wa_id = $1)`, [waId]);
    const erased = message(waId);
    await db.query(`INSERT INTO erased_messages (wamid_sha256) VALUES ($1)`, [createHash('sha256').update(erased.wamid).digest()]);

    const results = await repo.storeInboundBatch(db.manager, [erased, message(waId)]);
    expect(results[0]).toBeNull();
    expect(results[1]).not.toBeNull();
    await expect(count(`SELECT count(*) FROM messages WHERE wamid = $1`, [erased.wamid])).resolves.toBe(0);
    await expect(
      count(`SELECT count(*) FROM conversations WHERE contact_id = (SELECT id FROM contacts WHERE wa_id = $1) AND status = 'open'`, [waId]),
    ).resolves.toBe(1);
  });

  it('stores concurrent batches that share customers in opposite orders without a deadlock', async () => {
    const customers = Array.from({ length: 30 }, (_, i) => `4860100${String(i).padStart(4, '0')}`);
    // Known customers and brand-new ones, written by ten batches at once, half of them reversed.
    await repo.storeInboundBatch(db.manager, customers.slice(0, 15).map((waId) => message(waId)));
    const batches = Array.from({ length: 10 }, (_, b) => {
      const order = b % 2 === 0 ? customers : [...customers].reverse();
      return order.map((waId) => message(waId));
    });
    const results = await Promise.all(batches.map((batch) => repo.storeInboundBatch(db.manager, batch)));

    expect(results.flat().every((r) => r !== null)).toBe(true);
    await expect(count(`SELECT count(*) FROM messages m JOIN contacts k ON k.id = m.contact_id WHERE k.wa_id = ANY($1)`, [customers])).resolves.toBe(315);
    await expect(count(`SELECT count(*) FROM contacts WHERE wa_id = ANY($1)`, [customers])).resolves.toBe(30);
    await expect(
      count(`SELECT count(*) FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = ANY($1) AND c.status = 'open'`, [customers]),
    ).resolves.toBe(30);
  });
});
