import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { MessageCategory } from '../../consent/consent.types';
import type { StatusUpdate } from '../../conversations/conversations.repository';
import type { StoredMedia } from '../../conversations/entities/message.entity';
import { returnedRows } from '../../database/query-result';
import { insertReplyStatusTask } from '../../conversations/fan-out';
import { setDue, type TaskRef } from '../../tasks/outbox.repository';
import { QueueName } from '../../tasks/queues';

/** Prefix of the wamid a pending outbound message holds until Meta gives it one (wamid is NOT NULL UNIQUE). */
export const PENDING_WAMID_PREFIX = 'pending:';

export interface NewOutboundMessage {
  id: string;
  conversationId: string;
  contactId: string;
  type: string;
  body: string | null;
  content: Record<string, unknown>;
  /** A media message's file: uploaded to Meta and kept in the media store (media_status stored). */
  media?: StoredMedia;
  category: MessageCategory;
  origin: string;
  author: string;
  idempotencyKey: string;
  replyToWamid?: string;
}

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

/** Queries of the outbound side: messages we send, their order, refusals. */
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

  /** The contact's open conversation with this number, opened now when there is none. */
  async openConversation(manager: EntityManager, contactId: string, phoneNumberId: string): Promise<string> {
    // Races an inbound message opening one at the same moment on the one-open index; the loser reads.
    const inserted: { id: string }[] = await manager.query(
      `INSERT INTO conversations (contact_id, phone_number_id, opened_at, last_message_at) VALUES ($1, $2, now(), now())
       ON CONFLICT (contact_id, phone_number_id) WHERE status = 'open' DO NOTHING RETURNING id`,
      [contactId, phoneNumberId],
    );
    if (inserted[0]) return inserted[0].id;
    const [row]: { id: string }[] = await manager.query(
      `SELECT id FROM conversations WHERE contact_id = $1 AND phone_number_id = $2 AND status = 'open'`,
      [contactId, phoneNumberId],
    );
    return row.id;
  }

  /** Inserts the pending message; false when its idempotency key is taken (nothing inserted). */
  async insertPending(manager: EntityManager, m: NewOutboundMessage): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO messages (id, wamid, conversation_id, contact_id, direction, type, body, content, context, wa_timestamp,
                             status, status_rank, origin, author, category, idempotency_key, media, media_status)
       VALUES ($1, $2, $3, $4, 'outbound', $5, $6, $7, $8, now(), 'pending', 0, $9, $10, $11, $12, $13::jsonb,
               CASE WHEN $13::jsonb IS NULL THEN 'none' ELSE 'stored' END)
       ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        m.id,
        `${PENDING_WAMID_PREFIX}${m.id}`,
        m.conversationId,
        m.contactId,
        m.type,
        m.body,
        JSON.stringify(m.content),
        m.replyToWamid ? JSON.stringify({ replyTo: m.replyToWamid }) : null,
        m.origin,
        m.author,
        m.category,
        m.idempotencyKey,
        m.media ? JSON.stringify(m.media) : null,
      ],
    );
    return rows.length === 1;
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

  /**
   * Meta accepted the message: its wamid replaces the placeholder and the conversation moves on.
   * A message an earlier attempt marked failed (then replayed) starts over as pending.
   */
  async markAccepted(manager: EntityManager, messageId: string, wamid: string): Promise<void> {
    const [row] = returnedRows<{ conversationId: string }>(
      await manager.query(
        `UPDATE messages SET wamid = $2, wa_timestamp = now(), status = 'pending', status_rank = 0, status_at = NULL,
           error_code = NULL, error_title = NULL
         WHERE id = $1 RETURNING conversation_id AS "conversationId"`,
        [messageId, wamid],
      ),
    );
    if (row) {
      await manager.query(`UPDATE conversations SET last_message_at = GREATEST(last_message_at, now()), updated_at = now() WHERE id = $1`, [row.conversationId]);
    }
  }

  /** Statuses Meta reported for a wamid (they may arrive before we stored it). */
  async statusEvents(manager: EntityManager, wamid: string): Promise<StatusUpdate[]> {
    const rows: { status: string; occurredAt: Date; recipientId: string | null; errors: StatusUpdate['errors'] | null }[] = await manager.query(
      `SELECT status, occurred_at AS "occurredAt", recipient_id AS "recipientId", errors FROM message_status_events WHERE wamid = $1`,
      [wamid],
    );
    return rows.map((r) => ({ wamid, status: r.status, occurredAt: r.occurredAt, recipientId: r.recipientId ?? undefined, errors: r.errors ?? [] }));
  }

  /** The message could not be sent: why, kept on its row. Returns the tasks it wrote (to enqueue). */
  async markFailed(messageId: string, code: number | null, reason: string): Promise<TaskRef[]> {
    return this.dataSource.transaction(async (manager) => {
      const [failed] = returnedRows<{ id: string; origin: string }>(
        await manager.query(
          `UPDATE messages SET status = 'failed', status_rank = 4, status_at = now(), error_code = $2, error_title = $3
           WHERE id = $1 AND wamid LIKE '${PENDING_WAMID_PREFIX}%' RETURNING id, origin`,
          [messageId, code, reason.slice(0, 500)],
        ),
      );
      // A reply an agent wrote in a connected system: that system hears it failed (src/replies).
      return failed ? insertReplyStatusTask(manager, { id: failed.id, origin: failed.origin, status: 'failed' }) : [];
    });
  }

  /** Erasure: deletes the record of sends to a customer that were refused. */
  async eraseRefusalsOf(manager: EntityManager, contactId: string): Promise<void> {
    await manager.query(`DELETE FROM outbound_refusals WHERE contact_id = $1`, [contactId]);
  }
}
