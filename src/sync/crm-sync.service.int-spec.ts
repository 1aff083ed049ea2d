/**
 * The sync engine on a real Postgres with the in-memory FakeCrm (medium tier): messages ingested
 * as the webhook receiver stores them, the crm-sync tasks run through the real TaskRunner and
 * CrmSyncHandler, and the outcome read from what the fake CRM and the database hold.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { aBatchWebhook, aTextMessage, aTextMessageWebhook } from '../../test/factories/whatsapp-webhook.factory';
import { type MediumTest, startMediumTest } from '../../test/setup/medium-test';
import type { ConnectionView } from '../connections/connections.service';
import { ConnectionsService } from '../connections/connections.service';
import { QueueName } from '../tasks/queues';

const SYNC = [QueueName.CrmSync];
let waSeq = 0;
/** A customer of its own for each test (the database is shared by the file's tests). */
const nextWaId = () => `4860123${String(4000 + waSeq++).padStart(4, '0')}`;

describe('CrmSyncService with a fake CRM', () => {
  let t: MediumTest;
  let connection: ConnectionView;

  beforeAll(async () => {
    t = await startMediumTest();
    connection = await t.connectFakeCrm();
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    t.crm.reset();
    // Each test starts with a healthy connection and nothing left over.
    await t.db.query(`UPDATE connections SET status = 'active', retry_after = NULL, failure_count = 0, last_error = NULL`);
    await t.db.query(`UPDATE outbox SET status = 'done' WHERE status IN ('pending', 'running')`);
  });

  const connectionRow = () => t.get(ConnectionsService).get(connection.id);
  const taskStates = async (waId: string): Promise<string[]> =>
    (
      await t.db.query(
        `SELECT o.status FROM outbox o JOIN messages m ON m.id = o.message_id JOIN conversations cv ON cv.id = m.conversation_id
           JOIN contacts c ON c.id = cv.contact_id WHERE o.queue = $1 AND c.wa_id = $2 ORDER BY m.wa_timestamp, m.id`,
        [QueueName.CrmSync, waId],
      )
    ).map((r: { status: string }) => r.status);
  const remoteContactOf = (waId: string) => {
    const [contact] = t.crm.contactsWithPhone(`+${waId}`);
    return contact;
  };
  const texts = (waId: string) => t.crm.timelineOf(remoteContactOf(waId)?.id ?? '-').map((r) => r.text);

  it('delivers a conversation’s messages to the contact’s timeline in WhatsApp order, once', async () => {
    const waId = nextWaId();
    const start = Math.floor(Date.now() / 1000) - 60;
    // Delivered out of order in one POST: WhatsApp's timestamps decide the order.
    await t.ingest(
      aBatchWebhook([
        aTextMessage({ waId, text: 'second', timestamp: start + 2 }),
        aTextMessage({ waId, text: 'first', timestamp: start + 1 }),
        aTextMessage({ waId, text: 'third', timestamp: start + 3 }),
      ]),
    );

    await t.runDueTasks(SYNC);

    expect(t.crm.contactsWithPhone(`+${waId}`)).toHaveLength(1);
    expect(texts(waId)).toEqual(['first', 'second', 'third']);
    const records = t.crm.timelineOf(remoteContactOf(waId).id);
    // All on the conversation's one ticket.
    expect(new Set(records.map((r) => r.ticketId)).size).toBe(1);
    expect(t.crm.tickets.get(records[0].ticketId!)).toMatchObject({ contactId: remoteContactOf(waId).id, status: 'open' });
    await expect(taskStates(waId)).resolves.toEqual(['done', 'done', 'done']);
    // Each message is linked to the record the fake holds for it.
    const links: { remote_id: string }[] = await t.db.query(
      `SELECT l.remote_id FROM remote_links l JOIN messages m ON m.id = l.local_id WHERE l.entity_type = 'message' AND l.connection_id = $1 ORDER BY m.wa_timestamp`,
      [connection.id],
    );
    expect(links.map((l) => l.remote_id)).toEqual(records.map((r) => r.id));

    // Running again sends nothing more.
    await t.makeDue(SYNC);
    await t.runDueTasks(SYNC);
    expect(texts(waId)).toEqual(['first', 'second', 'third']);
  });

  it('rate_limited pauses the connection until the vendor’s delay has passed, then delivers', async () => {
    const waId = nextWaId();
    t.crm.failNext('rate_limited', { retryAfterMs: 1_500 });
    const before = Date.now();
    await t.ingest(aTextMessageWebhook({ waId, text: 'after the pause' }));

    await t.runDueTasks(SYNC);
    const paused = await connectionRow();
    expect(paused.retryAfter!.getTime()).toBeGreaterThanOrEqual(before + 1_500);
    expect(paused.status).toBe('active');
    await expect(taskStates(waId)).resolves.toEqual(['pending']);
    expect(texts(waId)).toEqual([]);

    // Made due early (a sweeper, another task of the connection): the pause still holds, and
    // nothing is sent to the vendor before it ends.
    const calls = t.crm.calls.length;
    await t.makeDue(SYNC);
    await t.runDueTasks(SYNC);
    expect(t.crm.calls.length).toBe(calls);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, paused.retryAfter!.getTime() - Date.now() + 50)));
    await t.runDueTasks(SYNC);
    expect(texts(waId)).toEqual(['after the pause']);
    await expect(taskStates(waId)).resolves.toEqual(['done']);
    expect((await connectionRow()).retryAfter).toBeNull();
  });

  it('auth marks the connection needs_reauth and parks its work until new credentials arrive', async () => {
    const waId = nextWaId();
    t.crm.failNext('auth');
    await t.ingest(aTextMessageWebhook({ waId, text: 'kept while parked' }));

    await t.runDueTasks(SYNC);
    expect(await connectionRow()).toMatchObject({ status: 'needs_reauth' });
    await expect(taskStates(waId)).resolves.toEqual(['pending']); // parked, not dead
    expect(texts(waId)).toEqual([]);

    // Due again while parked: nothing is called.
    const calls = t.crm.calls.length;
    await t.makeDue(SYNC);
    await t.runDueTasks(SYNC);
    expect(t.crm.calls.length).toBe(calls);

    // The operator re-links the connection: the parked work is released at once and delivered.
    await t.get(ConnectionsService).update(connection.id, { credentials: { token: t.crm.token, webhookSecret: 'fake-crm-webhook-secret' } });
    expect(await connectionRow()).toMatchObject({ status: 'active' });
    await t.runDueTasks(SYNC);
    expect(texts(waId)).toEqual(['kept while parked']);
    await expect(taskStates(waId)).resolves.toEqual(['done']);
  });

  it('a write whose answer was lost (maybe-created) leaves each message on the timeline exactly once', async () => {
    const waId = nextWaId();
    const start = Math.floor(Date.now() / 1000) - 60;
    t.crm.failNext('maybe_created', { method: 'appendMessages' });
    await t.ingest(
      aBatchWebhook([aTextMessage({ waId, text: 'one', timestamp: start + 1 }), aTextMessage({ waId, text: 'two', timestamp: start + 2 })]),
    );

    await t.runDueTasks(SYNC);
    // The fake wrote both, but the engine heard a transient failure: it backs off and keeps the tasks.
    expect(texts(waId)).toEqual(['one', 'two']);
    await expect(taskStates(waId)).resolves.toEqual(['pending', 'pending']);
    const paused = await connectionRow();
    expect(paused.retryAfter).not.toBeNull();

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, paused.retryAfter!.getTime() - Date.now() + 50)));
    await t.makeDue(SYNC);
    await t.runDueTasks(SYNC);

    expect(texts(waId)).toEqual(['one', 'two']);
    await expect(taskStates(waId)).resolves.toEqual(['done', 'done']);
    const links: { remote_id: string }[] = await t.db.query(
      `SELECT l.remote_id FROM remote_links l JOIN messages m ON m.id = l.local_id
         JOIN conversations cv ON cv.id = m.conversation_id JOIN contacts c ON c.id = cv.contact_id
        WHERE l.entity_type = 'message' AND c.wa_id = $1 ORDER BY m.wa_timestamp`,
      [waId],
    );
    expect(links.map((l) => l.remote_id)).toEqual(t.crm.timelineOf(remoteContactOf(waId).id).map((r) => r.id));
  });
});
