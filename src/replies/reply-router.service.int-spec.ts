/**
 * The reply router on a real Postgres with the in-memory FakeCrm (medium tier): a conversation is
 * synced to a ticket in the fake, an agent answers on that ticket, the fake's signed webhook goes
 * through ConnectionWebhooksService, and the `replies` and `reply-status` tasks run through the
 * real handlers. Outcomes are read from the database and from what the fake was told.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { aTextMessageWebhook } from '../../test/factories/whatsapp-webhook.factory';
import { type MediumTest, startMediumTest } from '../../test/setup/medium-test';
import type { ConnectionView } from '../connections/connections.service';
import { QueueName } from '../tasks/queues';
import { ConnectionWebhooksService } from './connection-webhooks.service';

describe('ReplyRouterService with a fake CRM', () => {
  let t: MediumTest;
  let connection: ConnectionView;

  beforeAll(async () => {
    t = await startMediumTest();
    connection = await t.connectFakeCrm();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A customer who wrote at `at`, synced to a ticket in the fake; returns the ticket id. */
  const customerWroteAt = async (waId: string, at: Date): Promise<string> => {
    await t.ingest(aTextMessageWebhook({ waId, text: 'Where is my order?', timestamp: at }));
    await t.runDueTasks([QueueName.CrmSync]);
    const [contact] = t.crm.contactsWithPhone(`+${waId}`);
    const ticket = [...t.crm.tickets.values()].find((tk) => tk.contactId === contact?.id);
    if (!ticket) throw new Error(`no ticket in the fake CRM for ${waId}`);
    return ticket.id;
  };
  let replySeq = 0;
  /** The agent answers on the ticket; returns the vendor's id of the reply. */
  const agentAnswers = async (ticketId: string, text: string): Promise<string> => {
    const id = `reply-${++replySeq}`;
    const receipt = await t.get(ConnectionWebhooksService).receive(connection.id, t.crm.agentReplyWebhook({ ticketId, text, id }));
    expect(receipt).toEqual({ outcome: 'accepted', replies: 1, stored: 1 });
    await t.runDueTasks([QueueName.Replies, QueueName.ReplyStatus]);
    return id;
  };
  // A routed reply keeps no text (the message holds it): it is found by the vendor's id.
  const replyRow = async (remoteId: string) =>
    (await t.db.query(`SELECT status, mode, detail, message_id FROM agent_replies WHERE remote_id = $1`, [remoteId]))[0] as
      | { status: string; mode: string | null; detail: string | null; message_id: string | null }
      | undefined;

  it('queues a reply inside the 24-hour window as a WhatsApp text to the customer', async () => {
    const waId = '48601235001';
    const ticketId = await customerWroteAt(waId, new Date(Date.now() - 60_000));

    const reply = await replyRow(await agentAnswers(ticketId, 'It ships today.'));
    expect(reply).toMatchObject({ status: 'queued', mode: 'text' });
    const [outbound] = await t.db.query(
      `SELECT m.direction, m.body, m.status, c.wa_id FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE m.id = $1`,
      [reply!.message_id],
    );
    // Stored as an outbound message waiting for its send task (WhatsApp's statuses follow the send).
    expect(outbound).toEqual({ direction: 'outbound', body: 'It ships today.', status: 'pending', wa_id: waId });
    const sends = await t.db.query(`SELECT status FROM outbox WHERE queue = $1 AND message_id = $2`, [QueueName.WhatsappOutbound, reply!.message_id]);
    expect(sends).toEqual([{ status: 'pending' }]);
    // Queued replies are reported by their WhatsApp statuses later, not now.
    expect(t.crm.replyStatuses).toEqual([]);
  });

  it('refuses a reply outside the window (no template set) and tells the agent why on the ticket', async () => {
    const waId = '48601235002';
    const ticketId = await customerWroteAt(waId, new Date(Date.now() - 25 * 60 * 60_000));

    const reply = await replyRow(await agentAnswers(ticketId, 'Sorry for the wait.'));
    expect(reply).toMatchObject({ status: 'refused', message_id: null });
    expect(reply!.detail).toMatch(/24 hours|24-hour/);
    const outbound = await t.db.query(
      `SELECT 1 FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE c.wa_id = $1 AND m.direction = 'outbound'`,
      [waId],
    );
    expect(outbound).toEqual([]);
    // The fake CRM was told, in words for the agent, with what to do about it.
    const told = t.crm.replyStatuses.filter((s) => s.reply.remoteThreadId === ticketId);
    expect(told).toHaveLength(1);
    expect(told[0].status.state).toBe('refused');
    expect(told[0].status.detail).toContain('Not sent on WhatsApp');
    expect(told[0].status.detail).toContain('replyTemplate');
  });
});
