import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { MessageCategory } from '../../consent/consent.types';
import type { StatusUpdate } from '../../conversations/conversations.repository';
import { PENDING_WAMID_PREFIX } from '../../conversations/outbound-messages.repository';
import { setDue, type TaskRef } from '../../tasks/outbox.repository';
import { QueueName } from '../../tasks/queues';

/** An outbound message with what its send needs. */
export interface OutboundMessageRow {
  id: string;
  seq: string;
  wamid: string;
  contactId: string;
  conversationId: string;
  phoneNumberId: string;
  waId: string;
  type: string;
  content: Record<string, unknown>;
  context: { replyTo?: string } | null;
  category: MessageCategory;
  status: string;
  origin: string;
  author: string | null;
  idempotencyKey: string | null;
}

export interface NewRefusal {
  contactId: string | null;
  category: MessageCategory;
  isTemplate: boolean;
  reason: string;
  detail: string;
  origin: string;
  author: string | null;
  idempotencyKey: string | null;
}

/**
 * Queries of the outbound side: what a send needs to know of messages and their order (reads), and
 * refusals (outbound_refusals, this folder's table). The messages themselves are written by
 * conversations/ (OutboundMessagesRepository), which owns them.
 */
@Injectable()
export class OutboundRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findByIdempotencyKey(key: string, manager: EntityManager = this.dataSource.manager): Promise<string | null> {
    const [row]: { id: string }[] = await manager.query(`SELECT id FROM messages WHERE idempotency_key = $1`, [key]);
    return row?.id ?? null;
  }

  /** The conversation `conversationId` when it is this contact's; null otherwise. */
  async conversationOf(contactId: string, conversationId: string): Promise<{ id: string; phoneNumberId: string } | null> {
    const [row]: { id: string; phoneNumberId: string }[] = await this.dataSource.query(
      `SELECT id, phone_number_id AS "phoneNumberId" FROM conversations WHERE id = $1 AND contact_id = $2`,
      [conversationId, contactId],
    );
    return row ?? null;
  }

  /** The business number the contact last wrote to (any conversation), or null when none. */
  async latestPhoneNumberId(contactId: string): Promise<string | null> {
    const [row]: { phoneNumberId: string }[] = await this.dataSource.query(
      `SELECT phone_number_id AS "phoneNumberId" FROM conversations WHERE contact_id = $1
       ORDER BY last_inbound_at DESC NULLS LAST, opened_at DESC LIMIT 1`,
      [contactId],
    );
    return row?.phoneNumberId ?? null;
  }

  async insertRefusal(r: NewRefusal): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO outbound_refusals (contact_id, category, is_template, reason, detail, origin, author, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [r.contactId, r.category, r.isTemplate, r.reason, r.detail, r.origin, r.author, r.idempotencyKey],
    );
  }

  async findForSend(messageId: string): Promise<OutboundMessageRow | null> {
    const [row]: OutboundMessageRow[] = await this.dataSource.query(
      `SELECT m.id, m.seq::text AS seq, m.wamid, m.contact_id AS "contactId", m.conversation_id AS "conversationId",
              c.phone_number_id AS "phoneNumberId", k.wa_id AS "waId", m.type, m.content, m.context, m.category, m.status,
              m.origin, m.author, m.idempotency_key AS "idempotencyKey"
       FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = m.contact_id
       WHERE m.id = $1 AND m.direction = 'outbound'`,
      [messageId],
    );
    return row ?? null;
  }

  /**
   * Whether an earlier message to this customer is still waiting to be sent (its send task open,
   * not given up): messages reach a customer in the order they were requested.
   */
  async hasEarlierUnsent(contactId: string, seq: string): Promise<boolean> {
    const [row]: { waiting: boolean }[] = await this.dataSource.query(
      `SELECT EXISTS (
         SELECT 1 FROM messages m JOIN outbox o ON o.message_id = m.id
         WHERE m.contact_id = $1 AND m.direction = 'outbound' AND m.wamid LIKE '${PENDING_WAMID_PREFIX}%' AND m.seq < $2::bigint
           AND m.status <> 'failed' AND o.queue = '${QueueName.WhatsappOutbound}' AND o.status IN ('pending', 'running')) AS waiting`,
      [contactId, seq],
    );
    return row.waiting;
  }

  /**
   * Makes the next waiting message to this customer due now (it waits for this one, see
   * hasEarlierUnsent), so a burst of replies leaves one right after the other.
   */
  async wakeNext(contactId: string, seq: string): Promise<TaskRef[]> {
    return setDue(
      this.dataSource.manager,
      `id = (
         SELECT o.id FROM messages m JOIN outbox o ON o.message_id = m.id
         WHERE m.contact_id = $1 AND m.direction = 'outbound' AND m.wamid LIKE '${PENDING_WAMID_PREFIX}%' AND m.seq > $2::bigint
           AND m.status <> 'failed' AND o.queue = '${QueueName.WhatsappOutbound}' AND o.status = 'pending'
         ORDER BY m.seq LIMIT 1)
       AND next_attempt_at > now()`,
      [contactId, seq],
    );
  }

  /** Statuses Meta reported for a wamid (they may arrive before we stored it). */
  async statusEvents(manager: EntityManager, wamid: string): Promise<StatusUpdate[]> {
    const rows: { status: string; occurredAt: Date; recipientId: string | null; errors: StatusUpdate['errors'] | null }[] = await manager.query(
      `SELECT status, occurred_at AS "occurredAt", recipient_id AS "recipientId", errors FROM message_status_events WHERE wamid = $1`,
      [wamid],
    );
    return rows.map((r) => ({ wamid, status: r.status, occurredAt: r.occurredAt, recipientId: r.recipientId ?? undefined, errors: r.errors ?? [] }));
  }

  /** Erasure: deletes the record of sends to a customer that were refused. */
  async eraseRefusalsOf(manager: EntityManager, contactId: string): Promise<void> {
    await manager.query(`DELETE FROM outbound_refusals WHERE contact_id = $1`, [contactId]);
  }
}
