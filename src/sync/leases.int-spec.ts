import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/setup/test-database';
import { createDataSource } from '../data-source';
import { LeaseLostError } from '../tasks/lease';
import { OutboxRepository } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';
import { SyncRepository } from './sync.repository';

const LEASE_MS = 10_000;

/**
 * Leases on a real Postgres: a worker whose claim (or drain lease) ran out and was taken over
 * writes nothing over the new holder, and the sweeper's queries find what a dead holder left.
 * Leases are made to run out by moving their expiry into the past, not by waiting.
 */
describe('task and drain leases', () => {
  let database: TestDatabase;
  let db: DataSource;
  let outbox: OutboxRepository;
  let sync: SyncRepository;
  let connectionId: string;
  let seq = 0;

  const aTask = async (): Promise<string> => {
    const [ref] = await db.transaction((m) =>
      outbox.insert(m, [{ queue: QueueName.CrmSync, kind: 'message', dedupeKey: `lease-test:${seq++}`, connectionId }]),
    );
    return ref.id;
  };
  const row = async (id: string) => (await db.query(`SELECT status, lease_token::text AS token FROM outbox WHERE id = $1`, [id]))[0];
  const expireClaim = (id: string) => db.query(`UPDATE outbox SET locked_until = now() - interval '1 second' WHERE id = $1`, [id]);
  const expireDrain = () => db.query(`UPDATE sync_leases SET expires_at = now() - interval '1 second' WHERE connection_id = $1`, [connectionId]);

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await createDataSource(database.url, 3).initialize();
    outbox = new OutboxRepository(db);
    sync = new SyncRepository(db);
    [{ id: connectionId }] = await db.query(`INSERT INTO connections (connector_id, name, credentials_enc) VALUES ('hubspot', 'leases', 'x') RETURNING id`);
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('lets a worker whose claim was taken over neither renew, finish nor reschedule the task', async () => {
    const id = await aTask();
    const first = (await outbox.claim(id, LEASE_MS))!;
    await expect(outbox.claim(id, LEASE_MS)).resolves.toBeNull(); // held
    await expect(outbox.renew(id, first.leaseToken!, LEASE_MS)).resolves.toBe(true);

    await expireClaim(id);
    const second = (await outbox.claim(id, LEASE_MS))!;
    expect(second.leaseToken).not.toBe(first.leaseToken);

    await expect(outbox.renew(id, first.leaseToken!, LEASE_MS)).resolves.toBe(false);
    await expect(outbox.complete(id, first.leaseToken!)).resolves.toBe(false);
    await expect(outbox.reschedule(id, first.leaseToken!, new Date(), 'late')).resolves.toBe(false);
    await expect(outbox.kill(id, first.leaseToken!, 'late')).resolves.toBe(false);
    await expect(row(id)).resolves.toEqual({ status: 'running', token: second.leaseToken });

    await expect(outbox.complete(id, second.leaseToken!)).resolves.toBe(true);
    await expect(row(id)).resolves.toEqual({ status: 'done', token: second.leaseToken });
  });

  it('keeps a claim whose task a drain already finished (nobody else holds it), and refuses one that ran out', async () => {
    const done = await aTask();
    const claim = (await outbox.claim(done, LEASE_MS))!;
    await db.query(`UPDATE outbox SET status = 'done' WHERE id = $1`, [done]); // what completeWithLinks does mid-drain
    await expect(outbox.renew(done, claim.leaseToken!, LEASE_MS)).resolves.toBe(true);

    const late = await aTask();
    const lateClaim = (await outbox.claim(late, LEASE_MS))!;
    await expireClaim(late);
    await expect(outbox.renew(late, lateClaim.leaseToken!, LEASE_MS)).resolves.toBe(false);
  });

  it('sends a task whose claim ran out back to the queue under a new job name', async () => {
    const id = await aTask();
    const claim = (await outbox.claim(id, LEASE_MS))!;
    const queues = [QueueName.CrmSync];
    await expect(outbox.findStale(60_000, 100, queues)).resolves.not.toContainEqual(expect.objectContaining({ id }));
    await expireClaim(id);
    const [found] = (await outbox.findStale(60_000, 100, queues)).filter((t) => t.id === id);
    // Named by when the claim ran out, not by the due time the dead worker's job was named by.
    expect(found.dueAtMs).not.toBe(new Date(claim.nextAttemptAt).getTime());
    await outbox.complete(id, (await outbox.claim(id, LEASE_MS))!.leaseToken!);
  });

  it('refuses the links and done marks of a drain whose lease was taken over', async () => {
    const [{ id: contactId }] = await db.query(`INSERT INTO contacts (wa_id, e164) VALUES ('4915200000301', '+4915200000301') RETURNING id`);
    const task = await aTask();
    const link = { type: 'contact' as const, localId: contactId, remote: { id: 'remote-1', type: 'contact' } };
    await expect(sync.acquireLease(connectionId, 'drain', 'old-holder', LEASE_MS)).resolves.toBe(true);
    await expect(sync.acquireLease(connectionId, 'drain', 'new-holder', LEASE_MS)).resolves.toBe(false);

    await expireDrain();
    await expect(sync.renewLease(connectionId, 'drain', 'old-holder', LEASE_MS)).resolves.toBe(false);
    await expect(sync.acquireLease(connectionId, 'drain', 'new-holder', LEASE_MS)).resolves.toBe(true);

    await expect(sync.completeWithLinks(connectionId, 'old-holder', [link], [task])).rejects.toBeInstanceOf(LeaseLostError);
    await expect(sync.saveLinks(connectionId, [link], 'old-holder')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(sync.deadLetter(connectionId, 'old-holder', task, 'late')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(sync.links(connectionId, 'contact', [contactId])).resolves.toEqual(new Map());
    await expect(row(task)).resolves.toMatchObject({ status: 'pending' });

    await sync.completeWithLinks(connectionId, 'new-holder', [link], [task]);
    await expect(row(task)).resolves.toMatchObject({ status: 'done' });
    expect((await sync.links(connectionId, 'contact', [contactId])).get(contactId)?.id).toBe('remote-1');
    await sync.releaseLease(connectionId, 'drain', 'new-holder');
  });

  it('wakes the oldest pending task of a connection whose drain holder stopped renewing', async () => {
    const behind = [await aTask(), await aTask()];
    // Tasks behind a drain wait on a long recheck; the holder then dies.
    await db.query(`UPDATE outbox SET next_attempt_at = now() + interval '1 minute' WHERE id = ANY($1::bigint[])`, [behind]);
    await sync.acquireLease(connectionId, 'drain', 'dead-holder', LEASE_MS);
    await expect(sync.wakeAbandonedDrains()).resolves.toEqual([]);

    await expireDrain();
    const woken = await sync.wakeAbandonedDrains();
    expect(woken.map((t) => t.id)).toEqual([behind[0]]);
    expect(woken[0].dueAtMs).toBeLessThanOrEqual(Date.now() + 1000);
    await expect(db.query(`SELECT count(*)::int AS n FROM sync_leases WHERE connection_id = $1`, [connectionId])).resolves.toEqual([{ n: 0 }]);
    await expect(sync.acquireLease(connectionId, 'drain', 'next-holder', LEASE_MS)).resolves.toBe(true);
  });
});
