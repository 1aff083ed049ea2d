import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ConversationEntity, type ConversationStatus } from './entities/conversation.entity';
import { MessageEntity, type StoredMedia } from './entities/message.entity';

export interface NewInboundMessage {
  wamid: string;
  conversationId: string;
  contactId: string;
  type: string;
  body?: string;
  content: unknown;
  media?: StoredMedia;
  context?: Record<string, unknown>;
  referral?: Record<string, unknown>;
  errors?: unknown[];
  forwarded: boolean;
  waTimestamp: Date;
}

/** Delivery states in the order they happen; a status never replaces one ranked at or above it. */
export const STATUS_RANK: Record<string, number> = { pending: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

export interface StatusUpdate {
  wamid: string;
  status: string;
  occurredAt: Date;
  recipientId?: string;
  errors: { code: number; title: string; message?: string; details?: string }[];
}

@Injectable()
export class ConversationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The open conversation of this customer with this business number, opened when there is none. */
  async findOrOpen(manager: EntityManager, contactId: string, phoneNumberId: string, displayNumber: string | undefined, at: Date): Promise<string> {
    const [open]: { id: string }[] = await manager.query(
      `SELECT id FROM conversations WHERE contact_id = $1 AND phone_number_id = $2 AND status = 'open'`,
      [contactId, phoneNumberId],
    );
    if (open) return open.id;
    const [opened]: { id: string }[] = await manager.query(
      `INSERT INTO conversations (contact_id, phone_number_id, display_phone_number, opened_at)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (contact_id, phone_number_id) WHERE status = 'open' DO NOTHING RETURNING id`,
      [contactId, phoneNumberId, displayNumber ?? null, at],
    );
    if (opened) return opened.id;
    const [winner]: { id: string }[] = await manager.query(
      `SELECT id FROM conversations WHERE contact_id = $1 AND phone_number_id = $2 AND status = 'open'`,
      [contactId, phoneNumberId],
    );
    return winner.id;
  }

  /** Inserts a customer message; returns its id, or null when this wamid is already stored. */
  async insertInbound(manager: EntityManager, m: NewInboundMessage): Promise<string | null> {
    const [row]: { id: string }[] = await manager.query(
      `WITH inserted AS (
         INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, content, media, context, referral,
                               errors, forwarded, wa_timestamp, status, media_status)
         VALUES ($1, $2, $3, 'inbound', $4, $5, $6, $7, $8, $9, $10, $11, $12, 'received', $13)
         ON CONFLICT (wamid) DO NOTHING RETURNING id, conversation_id, wa_timestamp
       ), touched AS (
         UPDATE conversations c SET
           last_message_at = GREATEST(c.last_message_at, i.wa_timestamp),
           last_inbound_at = GREATEST(c.last_inbound_at, i.wa_timestamp),
           updated_at = now()
         FROM inserted i WHERE c.id = i.conversation_id
       )
       SELECT id FROM inserted`,
      [
        m.wamid,
        m.conversationId,
        m.contactId,
        m.type,
        m.body ?? null,
        m.content === undefined ? null : JSON.stringify(m.content),
        m.media ? JSON.stringify(m.media) : null,
        m.context ? JSON.stringify(m.context) : null,
        m.referral ? JSON.stringify(m.referral) : null,
        m.errors?.length ? JSON.stringify(m.errors) : null,
        m.forwarded,
        m.waTimestamp,
        m.media ? 'pending' : 'none',
      ],
    );
    return row?.id ?? null;
  }

  /**
   * Records a delivery status once per (wamid, status) and moves the message forward only:
   * a late `delivered` after `read` changes nothing. Unknown statuses are kept as events only.
   */
  async applyStatus(manager: EntityManager, s: StatusUpdate): Promise<void> {
    const firstError = s.errors[0];
    await manager.query(
      `INSERT INTO message_status_events (wamid, status, occurred_at, recipient_id, errors)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (wamid, status) DO NOTHING`,
      [s.wamid, s.status, s.occurredAt, s.recipientId ?? null, s.errors.length ? JSON.stringify(s.errors) : null],
    );
    const rank = STATUS_RANK[s.status];
    if (rank === undefined) return;
    await manager.query(
      `UPDATE messages SET status = $2, status_rank = $3, status_at = $4,
         error_code = COALESCE($5, error_code), error_title = COALESCE($6, error_title)
       WHERE wamid = $1 AND direction = 'outbound' AND status_rank < $3`,
      [s.wamid, s.status, rank, s.occurredAt, firstError?.code ?? null, firstError?.title ?? null],
    );
  }

  async findConversation(id: string): Promise<ConversationEntity | null> {
    return this.dataSource.getRepository(ConversationEntity).findOneBy({ id });
  }

  async listConversations(
    filter: { contactId?: string; status?: ConversationStatus },
    limit: number,
    cursor?: { openedAt: string; id: string },
  ): Promise<ConversationEntity[]> {
    const qb = this.dataSource
      .getRepository(ConversationEntity)
      .createQueryBuilder('c')
      .orderBy('c.openedAt', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(limit);
    if (filter.contactId) qb.andWhere('c.contactId = :contactId', { contactId: filter.contactId });
    if (filter.status) qb.andWhere('c.status = :status', { status: filter.status });
    if (cursor) qb.andWhere('(c.openedAt, c.id) < (:openedAt, :id)', cursor);
    return qb.getMany();
  }

  /** Messages of a conversation in WhatsApp order (ties broken by arrival). */
  async listMessages(conversationId: string, limit: number, cursor?: { ts: string; seq: string }): Promise<MessageEntity[]> {
    const qb = this.dataSource
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where('m.conversationId = :conversationId', { conversationId })
      .orderBy('m.waTimestamp', 'ASC')
      .addOrderBy('m.seq', 'ASC')
      .limit(limit);
    if (cursor) qb.andWhere('(m.waTimestamp, m.seq) > (:ts, :seq)', cursor);
    return qb.getMany();
  }

  async findMessage(id: string): Promise<MessageEntity | null> {
    return this.dataSource.getRepository(MessageEntity).findOneBy({ id });
  }

  async markMediaStored(messageId: string, media: StoredMedia): Promise<void> {
    await this.dataSource.query(`UPDATE messages SET media = $2, media_status = 'stored' WHERE id = $1`, [messageId, JSON.stringify(media)]);
  }

  async markMediaFailed(messageId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE messages SET media = COALESCE(media, '{}'::jsonb) || jsonb_build_object('failureReason', $2::text), media_status = 'failed' WHERE id = $1`,
      [messageId, reason],
    );
  }
}
