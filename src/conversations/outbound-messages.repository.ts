import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { returnedRows } from '../database/query-result';
import type { TaskRef } from '../tasks/outbox.repository';
import type { StoredMedia } from './entities/message.entity';
import { insertReplyStatusTask } from './fan-out';

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
  /** One of consent's MESSAGE_CATEGORIES (consent sits above this folder; the column's CHECK holds the list). */
  category: string;
  origin: string;
  author: string;
  idempotencyKey: string;
  replyToWamid?: string;
}

/**
 * The writes of the messages we send (whatsapp/outbound sends them): the conversation a send opens,
 * the pending row, Meta's acceptance, a failure. Each runs in the caller's transaction.
 */
@Injectable()
export class OutboundMessagesRepository {
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

  /** The message could not be sent: why, kept on its row. Returns the tasks it wrote (to enqueue after the commit). */
  async markFailed(manager: EntityManager, messageId: string, code: number | null, reason: string): Promise<TaskRef[]> {
    const [failed] = returnedRows<{ id: string; origin: string }>(
      await manager.query(
        `UPDATE messages SET status = 'failed', status_rank = 4, status_at = now(), error_code = $2, error_title = $3
         WHERE id = $1 AND wamid LIKE '${PENDING_WAMID_PREFIX}%' RETURNING id, origin`,
        [messageId, code, reason.slice(0, 500)],
      ),
    );
    // A reply an agent wrote in a connected system: that system hears it failed (src/replies).
    return failed ? insertReplyStatusTask(manager, { id: failed.id, origin: failed.origin, status: 'failed' }) : [];
  }
}
