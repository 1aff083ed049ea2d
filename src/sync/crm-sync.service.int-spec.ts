/**
 * The sync engine on a real Postgres with the in-memory FakeCrm (medium tier): messages ingested
 * as the webhook receiver stores them, the crm-sync tasks run through the real TaskRunner and
 * CrmSyncHandler, and the outcome read from what the fake CRM and the database hold.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
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
  describe('routes', () => {
    const conversationOf = async (waId: string): Promise<string> =>
      (await t.db.query(`SELECT cv.id FROM conversations cv JOIN contacts c ON c.id = cv.contact_id WHERE c.wa_id = $1`, [waId]))[0].id;
    /** What the service policy does on a route change: the columns, then one 'route' task per connection. */
    const changeRoute = async (conversationId: string, routing: Record<string, unknown> | null, connections: string[] | null = null) => {
      await t.db.query(`UPDATE conversations SET route = 'test', ticket_routing = $2, route_connections = $3, route_version = route_version + 1 WHERE id = $1`, [
        conversationId,
        routing,
        connections,
      ]);
      const [{ route_version: version }] = await t.db.query(`SELECT route_version FROM conversations WHERE id = $1`, [conversationId]);
      await t.db.query(
        `INSERT INTO outbox (queue, kind, dedupe_key, connection_id, conversation_id)
         SELECT $1, 'route', 'route:' || c.id || ':' || $2::text || ':' || $3::text, c.id, $2::uuid FROM connections c WHERE c.enabled`,
        [QueueName.CrmSync, conversationId, version],
      );
    };
    const routeTaskStates = async (conversationId: string): Promise<string[]> =>
      (await t.db.query(`SELECT status FROM outbox WHERE kind = 'route' AND conversation_id = $1 ORDER BY id`, [conversationId])).map((r: { status: string }) => r.status);
    const ticketOf = (waId: string) => [...t.crm.tickets.values()].find((tk) => tk.contactId === remoteContactOf(waId)?.id);

    it('opens the ticket with the route’s group, priority, assignee and tags (and no removeTags)', async () => {
      const waId = nextWaId();
      await t.ingest(aTextMessageWebhook({ waId, text: 'my invoice is wrong' }));
      // Routed before the first message reached the CRM, to this connection among others.
      await t.db.query(`UPDATE conversations SET ticket_routing = $2, route_connections = $3 WHERE id = $1`, [
        await conversationOf(waId),
        { group: 'Billing', priority: 'high', tags: ['billing', 'vip'], assignee: 'ana@example.com', removeTags: ['sales'] },
        [connection.id, randomUUID()],
      ]);

      await t.runDueTasks(SYNC);

      expect(texts(waId)).toEqual(['my invoice is wrong']);
      expect(ticketOf(waId)).toMatchObject({ group: 'Billing', priority: 'high', assignee: 'ana@example.com', tags: ['billing', 'vip'] });
      const [ensure] = t.crm.callsOf('ensureTicket');
      expect(ensure.args[2]).toEqual({ group: 'Billing', priority: 'high', tags: ['billing', 'vip'], assignee: 'ana@example.com' });
    });

    it('a route task moves the existing ticket: fields set, tags added and removed, agents’ own tags kept', async () => {
      const waId = nextWaId();
      await t.ingest(aTextMessageWebhook({ waId, text: 'hello' }));
      const conversationId = await conversationOf(waId);
      await t.db.query(`UPDATE conversations SET ticket_routing = $2 WHERE id = $1`, [conversationId, { group: 'Sales', tags: ['sales'] }]);
      await t.runDueTasks(SYNC);
      const ticket = ticketOf(waId)!;
      ticket.tags.push('agent-own'); // an agent tagged it by hand

      await changeRoute(conversationId, { group: 'Support', priority: 'urgent', tags: ['support'], removeTags: ['sales'] });
      await t.runDueTasks(SYNC);

      expect(t.crm.tickets.get(ticket.id)).toMatchObject({ group: 'Support', priority: 'urgent', tags: ['agent-own', 'support'] });
      expect(t.crm.callsOf('routeTicket').map((c) => c.args[0])).toEqual([{ id: ticket.id, type: 'ticket', url: undefined }]);
      await expect(routeTaskStates(conversationId)).resolves.toEqual(['done']);
      expect(t.crm.callsOf('ensureTicket')).toHaveLength(1);
    });

    it('a route task before the conversation has a ticket here is done without a call; the ticket opens routed', async () => {
      const waId = nextWaId();
      await t.ingest(aTextMessageWebhook({ waId, text: 'first words' }));
      const conversationId = await conversationOf(waId);
      await t.db.query(`UPDATE outbox SET status = 'done' WHERE kind = 'message' AND conversation_id = $1`, [conversationId]); // held elsewhere for now
      await changeRoute(conversationId, { priority: 'low', tags: ['later'] });

      await t.runDueTasks(SYNC);
      await expect(routeTaskStates(conversationId)).resolves.toEqual(['done']);
      expect(t.crm.calls).toHaveLength(0);

      await t.ingest(aTextMessageWebhook({ waId, text: 'second words' }));
      await t.runDueTasks(SYNC);
      expect(ticketOf(waId)).toMatchObject({ priority: 'low', tags: ['later'] });
      expect(t.crm.callsOf('routeTicket')).toHaveLength(0);
    });

    it('a group the helpdesk does not know dead-letters the route task with the reason; messages still flow', async () => {
      const waId = nextWaId();
      await t.ingest(aTextMessageWebhook({ waId, text: 'one' }));
      const conversationId = await conversationOf(waId);
      await t.runDueTasks(SYNC);
      t.crm.groups.add('Support');

      await changeRoute(conversationId, { group: 'Nonexistent' });
      await t.runDueTasks(SYNC);

      const [task] = await t.db.query(`SELECT status, last_error FROM outbox WHERE kind = 'route' AND conversation_id = $1`, [conversationId]);
      expect(task).toMatchObject({ status: 'dead' });
      expect(task.last_error).toContain('Nonexistent');
      await t.ingest(aTextMessageWebhook({ waId, text: 'two' }));
      await t.runDueTasks(SYNC);
      expect(texts(waId)).toEqual(['one', 'two']);
    });

    it('a conversation routed to other connections is not synced here: its tasks are done without a call', async () => {
      const waId = nextWaId();
      await t.ingest(aTextMessageWebhook({ waId, text: 'for the other helpdesk' }));
      const conversationId = await conversationOf(waId);
      await changeRoute(conversationId, { group: 'Elsewhere' }, [randomUUID()]);

      await t.runDueTasks(SYNC);

      expect(t.crm.calls).toHaveLength(0);
      expect(t.crm.contactsWithPhone(`+${waId}`)).toHaveLength(0);
      await expect(taskStates(waId)).resolves.toEqual(['done']);
      await expect(routeTaskStates(conversationId)).resolves.toEqual(['done']);
    });
  });
});
