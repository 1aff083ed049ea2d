import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/setup/test-database';
import { createDataSource } from '../data-source';
import { completeOpen, insertTasks, killOpen, markDispatched, OutboxRepository, replayDead, setDue } from './outbox.repository';
import { QueueName } from './queues';

/**
 * The outbox writes other folders compose (insertTasks, setDue, completeOpen, killOpen,
 * markDispatched, replayDead) on a real Postgres: what each writes and what it hands back to enqueue.
 */
describe('outbox writes for other folders', () => {
  let database: TestDatabase;
  let db: DataSource;
  let outbox: OutboxRepository;
  let connectionIds: string[];
  let seq = 0;

  const aTask = async (): Promise<string> => {
    const [ref] = await db.transaction((m) => outbox.insert(m, [{ queue: QueueName.CrmSync, kind: 'message', dedupeKey: `writes-test:${seq++}`, connectionId: connectionIds[0] }]));
    return ref.id;
  };
  const row = async (id: string) =>
    (
      await db.query(
        `SELECT status, attempts, last_error AS "lastError", dispatched_at AS "dispatchedAt", (EXTRACT(EPOCH FROM next_attempt_at) * 1000)::float8 AS "dueAtMs"
         FROM outbox WHERE id = $1`,
        [id],
      )
    )[0];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await createDataSource(database.url, 3).initialize();
    outbox = new OutboxRepository(db);
    const rows: { id: string }[] = await db.query(
      `INSERT INTO connections (connector_id, name, credentials_enc) VALUES ('hubspot', 'writes-a', 'x'), ('zendesk', 'writes-b', 'x') RETURNING id`,
    );
    connectionIds = rows.map((r) => r.id);
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('inserts one task per row the SELECT names, skips a dedupe key seen before, and leaves unnamed columns empty', async () => {
    const select = {
      queue: QueueName.ConsentSync,
      kind: `'change'`,
      dedupeKey: `'writes-test:select:' || c.id`,
      connectionId: 'c.id',
      from: 'connections c',
      where: 'c.id = ANY($1::uuid[])',
    };
    const refs = await insertTasks(db.manager, select, [connectionIds]);
    expect(refs).toHaveLength(2);
    expect(refs.every((r) => r.queue === QueueName.ConsentSync && /^\d+$/.test(r.id) && r.dueAtMs > 0)).toBe(true);
    const stored: { kind: string; connectionId: string; conversationId: string | null; messageId: string | null }[] = await db.query(
      `SELECT kind, connection_id::text AS "connectionId", conversation_id AS "conversationId", message_id AS "messageId" FROM outbox WHERE id = ANY($1::bigint[])`,
      [refs.map((r) => r.id)],
    );
    expect(stored.map((s) => s.connectionId).sort()).toEqual([...connectionIds].sort());
    expect(stored.map(({ kind, conversationId, messageId }) => ({ kind, conversationId, messageId }))).toEqual([
      { kind: 'change', conversationId: null, messageId: null },
      { kind: 'change', conversationId: null, messageId: null },
    ]);

    await expect(insertTasks(db.manager, select, [connectionIds])).resolves.toEqual([]);
  });

  it('moves due times now, now unless sooner, or to a given time, and returns the tasks it moved', async () => {
    const id = await aTask();
    const later = new Date(Date.now() + 60_000);
    const [parked] = await setDue(db.manager, 'id = $1', [id, later], '$2');
    expect(parked).toEqual({ id, queue: QueueName.CrmSync, dueAtMs: later.getTime() });

    const [woken] = await setDue(db.manager, 'id = $1', [id], 'now-or-earlier');
    expect(woken.dueAtMs).toBeLessThan(later.getTime());
    const earlier = new Date(Date.now() - 60_000);
    await setDue(db.manager, 'id = $1', [id, earlier], '$2');
    const [kept] = await setDue(db.manager, 'id = $1', [id], 'now-or-earlier');
    expect(kept.dueAtMs).toBe(earlier.getTime()); // due sooner already: it keeps its place
    const [now] = await setDue(db.manager, 'id = $1', [id]);
    expect(now.dueAtMs).toBeGreaterThan(earlier.getTime());
  });

  it('finishes and dead-letters open tasks only, and replays a dead one with fresh attempts', async () => {
    const [done, dead] = [await aTask(), await aTask()];
    await completeOpen(db.manager, [done]);
    await killOpen(db.manager, dead, 'the vendor refused it');
    await killOpen(db.manager, done, 'too late');
    expect(await row(done)).toMatchObject({ status: 'done', lastError: null });
    expect(await row(dead)).toMatchObject({ status: 'dead', lastError: 'the vendor refused it' });

    await expect(replayDead(db.manager, done)).resolves.toEqual([]);
    const [replayed] = await replayDead(db.manager, dead);
    expect(replayed).toMatchObject({ id: dead, queue: QueueName.CrmSync });
    expect(await row(dead)).toMatchObject({ status: 'pending', attempts: 0, lastError: null });
  });

  it('marks tasks dispatched, and does nothing for none', async () => {
    const id = await aTask();
    await markDispatched(db.manager, []);
    expect((await row(id)).dispatchedAt).toBeNull();
    await markDispatched(db.manager, [id]);
    expect((await row(id)).dispatchedAt).toBeInstanceOf(Date);
  });
});
