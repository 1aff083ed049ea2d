import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import type { AgentReplyEvent } from '../../connectors/_sdk/contract';
import { createTestDatabase, type TestDatabase } from '../../test/setup/test-database';
import { createDataSource } from '../data-source';
import { AgentRepliesRepository } from './agent-replies.repository';

const reply = (remoteId: string, remoteThreadId = '501'): AgentReplyEvent => ({ kind: 'agent_reply', remoteId, remoteThreadId, text: `reply ${remoteId}`, author: 'Agent', attachments: [] });

/** The agent-reply queries on a real Postgres (migrated schema): dedupe, thread lookup, routing order. */
describe('AgentRepliesRepository', () => {
  let database: TestDatabase;
  let db: DataSource;
  let repo: AgentRepliesRepository;
  let connectionId: string;
  let otherConnectionId: string;

  const insert = async (connection: string, events: AgentReplyEvent[]) => {
    const ids = await repo.insertNew(db.manager, connection, events);
    for (const id of ids) await db.query(`INSERT INTO outbox (queue, kind, dedupe_key, connection_id, payload) VALUES ('replies', 'route', $1, $2, $3)`, [`reply:${id}`, connection, { replyId: id }]);
    return ids;
  };
  const routed = (id: string) => db.transaction((m) => repo.recordOutcome(m, id, { status: 'queued', conversationId: null, messageId: null, mode: 'text', detail: null }));

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await createDataSource(database.url, 3).initialize();
    repo = new AgentRepliesRepository(db);
    [{ id: connectionId }, { id: otherConnectionId }] = await db.query(
      `INSERT INTO connections (connector_id, name, credentials_enc) VALUES ('zendesk', 'a', 'x'), ('zendesk', 'b', 'x') RETURNING id`,
    );
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('stores a reply once per connection and remote id, whatever the delivery', async () => {
    const first = await insert(connectionId, [reply('c1'), reply('c2')]);
    expect(first).toHaveLength(2);
    await expect(insert(connectionId, [reply('c2'), reply('c3')])).resolves.toHaveLength(1);
    await expect(insert(otherConnectionId, [reply('c1')])).resolves.toHaveLength(1); // another account's comment 1
    await expect(db.query(`SELECT count(*)::int AS n FROM agent_replies WHERE connection_id = $1`, [connectionId])).resolves.toEqual([{ n: 3 }]);
  });

  it('finds the conversation of a ticket (the newest one linked to it), or of our own conversation id', async () => {
    const [{ id: contactId }] = await db.query(`INSERT INTO contacts (wa_id, e164, profile_name) VALUES ('4915111', '+4915111', 'Ana') RETURNING id`);
    const [older, newer] = await db.query(
      `INSERT INTO conversations (contact_id, phone_number_id, status, opened_at) VALUES ($1, 'p', 'closed', now() - interval '2 days'), ($1, 'p', 'open', now()) RETURNING id`,
      [contactId],
    );
    await db.query(
      `INSERT INTO remote_links (connection_id, entity_type, local_id, remote_id, remote_type) VALUES ($1, 'ticket', $2, '777', 'ticket'), ($1, 'ticket', $3, '777', 'ticket')`,
      [connectionId, older.id, newer.id],
    );
    await expect(repo.conversationOfThread(connectionId, '777')).resolves.toBe(newer.id);
    await expect(repo.conversationOfThread(otherConnectionId, '777')).resolves.toBeNull();
    await expect(repo.conversationOfThread(otherConnectionId, older.id)).resolves.toBe(older.id);
    await expect(repo.conversationOfThread(connectionId, '8c1f3f52-1b7e-4b8e-9a55-3f0a1d2c4e5f')).resolves.toBeNull();
    await expect(repo.target(newer.id)).resolves.toEqual({ conversationId: newer.id, contactId, phoneNumberId: 'p', customerName: 'Ana' });
  });

  it('holds a reply back while an earlier one of its thread waits to be routed, and not for other threads', async () => {
    const [a, b] = await insert(connectionId, [reply('o1', '900'), reply('o2', '900')]);
    const [c] = await insert(connectionId, [reply('o3', '901')]);
    const row = async (id: string) => (await repo.find(id))!;
    await expect(repo.hasEarlierUnrouted(await row(a))).resolves.toBe(false);
    await expect(repo.hasEarlierUnrouted(await row(b))).resolves.toBe(true);
    await expect(repo.hasEarlierUnrouted(await row(c))).resolves.toBe(false);

    await expect(routed(a)).resolves.toBe(true);
    await expect(routed(a)).resolves.toBe(false); // recorded once
    await expect(repo.hasEarlierUnrouted(await row(b))).resolves.toBe(false);
    // Routed replies keep no text.
    await expect(row(a)).resolves.toMatchObject({ status: 'queued', text: null, attachments: [] });
  });

  it('does not wait for an earlier reply whose routing was given up (a dead letter)', async () => {
    const [a, b] = await insert(connectionId, [reply('d1', '902'), reply('d2', '902')]);
    await db.query(`UPDATE outbox SET status = 'dead' WHERE dedupe_key = $1`, [`reply:${a}`]);
    await expect(repo.hasEarlierUnrouted((await repo.find(b))!)).resolves.toBe(false);
  });
});
