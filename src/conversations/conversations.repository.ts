import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returnedRows } from '../database/query-result';
import { hasConnectionOrigin, insertReplyStatusTask } from './fan-out';
import { insertTasks, type TaskRef } from '../tasks/outbox.repository';
import { fanOutTargets } from '../tasks/fan-out-rule';
import { QueueName } from '../tasks/queues';
import { ConversationEntity, type ConversationStatus, type TicketRoutingColumn } from './entities/conversation.entity';
import { MessageEntity, type StoredMedia } from './entities/message.entity';

/** Delivery states in the order they happen; a status never replaces one ranked at or above it. */
export const STATUS_RANK: Record<string, number> = { pending: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

export interface StatusUpdate {
  wamid: string;
  status: string;
  occurredAt: Date;
  recipientId?: string;
  errors: { code: number; title: string; message?: string; details?: string }[];
}

/** A conversation's route as stored on it (see applyRoute). */
export interface ConversationRoute {
  route: string;
  /** Only these connections receive its further messages; null: every one. */
  connections: string[] | null;
  ticket: TicketRoutingColumn | null;
}

@Injectable()
export class ConversationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Records a delivery status once per (wamid, status) and moves the message forward only:
   * a late `delivered` after `read` changes nothing. Unknown statuses are kept as events only.
   * Returns the tasks it wrote (to enqueue after the commit).
   */
  async applyStatus(manager: EntityManager, s: StatusUpdate): Promise<TaskRef[]> {
    const firstError = s.errors[0];
    // A status of an erased message (tombstoned wamid) is not kept: it names the customer.
    await manager.query(
      `INSERT INTO message_status_events (wamid, status, occurred_at, recipient_id, errors)
       SELECT $1::text, $2::text, $3::timestamptz, $4::text, $5::jsonb
       WHERE NOT EXISTS (SELECT 1 FROM erased_messages WHERE wamid_sha256 = sha256(convert_to($1::text, 'UTF8')))
       ON CONFLICT (wamid, status) DO NOTHING`,
      [s.wamid, s.status, s.occurredAt, s.recipientId ?? null, s.errors.length ? JSON.stringify(s.errors) : null],
    );
    const rank = STATUS_RANK[s.status];
    if (rank === undefined) return [];
    const [moved] = returnedRows<{ id: string; origin: string }>(
      await manager.query(
        `UPDATE messages SET status = $2, status_rank = $3, status_at = $4,
           error_code = COALESCE($5, error_code), error_title = COALESCE($6, error_title)
         WHERE wamid = $1 AND direction = 'outbound' AND status_rank < $3 RETURNING id, origin`,
        [s.wamid, s.status, rank, s.occurredAt, firstError?.code ?? null, firstError?.title ?? null],
      ),
    );
    // A reply an agent wrote in a connected system: that system hears what became of it (src/replies).
    return moved && hasConnectionOrigin(moved.origin) ? insertReplyStatusTask(manager, { id: moved.id, origin: moved.origin, status: s.status }) : [];
  }

  /** Closes open conversations (by id, or every one idle since `idleBefore`); returns those closed now. */
  async close(manager: EntityManager, filter: { id: string } | { idleBefore: Date }): Promise<string[]> {
    const [where, param] = 'id' in filter ? ['id = $1', filter.id] : ['last_message_at < $1', filter.idleBefore];
    const rows = returnedRows<{ id: string }>(
      await manager.query(
        // resolved_at: when the conversation ended, for time-to-resolution reporting.
        `UPDATE conversations SET status = 'closed', closed_at = now(), resolved_at = COALESCE(resolved_at, now()), updated_at = now()
         WHERE status = 'open' AND ${where} RETURNING id`,
        [param],
      ),
    );
    return rows.map((r) => r.id);
  }

  /**
   * Sets the conversation's route (src/service-policy decides it): which connections receive its
   * further messages and what its helpdesk tickets should carry. A change bumps route_version and
   * writes a `route` crm-sync task per connection the fan-out rule names, so tickets that exist
   * already are updated (the drain knows which have one). The same route again changes nothing.
   */
  async applyRoute(manager: EntityManager, conversationId: string, route: ConversationRoute): Promise<TaskRef[]> {
    const [changed] = returnedRows<{ version: number }>(
      await manager.query(
        `UPDATE conversations SET route = $2, route_connections = $3::uuid[], ticket_routing = $4::jsonb, route_version = route_version + 1, updated_at = now()
         WHERE id = $1 AND (route IS DISTINCT FROM $2 OR route_connections IS DISTINCT FROM $3::uuid[] OR ticket_routing IS DISTINCT FROM $4::jsonb)
         RETURNING route_version AS version`,
        [conversationId, route.route, route.connections, route.ticket ? JSON.stringify(route.ticket) : null],
      ),
    );
    if (!changed) return [];
    return insertTasks(
      manager,
      {
        queue: QueueName.CrmSync,
        kind: `'route'`,
        dedupeKey: `'route:' || c.id || ':' || $1::text || ':' || $2::text`,
        connectionId: 'c.id',
        conversationId: '$1::text::uuid',
        from: 'connections c',
        where: fanOutTargets('c'),
      },
      [conversationId, String(changed.version)],
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

  /** Flags inbound messages whose text was normalised before storing (whatsapp's WebhookIngestService.parse says how). */
  async markNormalised(manager: EntityManager, wamids: string[]): Promise<void> {
    await manager.query(`UPDATE messages SET content_normalised = true WHERE wamid = ANY($1) AND direction = 'inbound'`, [wamids]);
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

  // ---------------------------------------------------------------------------------------------
  // Erasure (src/privacy asks; these tables are this module's)

  /** Deletes the delivery statuses of a customer's messages and of sends to them; returns how many. */
  async eraseStatusEventsOf(manager: EntityManager, contact: { id: string; waId: string }): Promise<number> {
    return returnedRows(
      await manager.query(`DELETE FROM message_status_events WHERE wamid IN (SELECT wamid FROM messages WHERE contact_id = $1) OR recipient_id = $2 RETURNING 1`, [contact.id, contact.waId]),
    ).length;
  }

  /** Deletes a customer's messages and conversations (their tasks go with them: foreign keys). */
  async eraseConversationsOf(manager: EntityManager, contactId: string): Promise<void> {
    await manager.query(`DELETE FROM messages WHERE contact_id = $1`, [contactId]);
    await manager.query(`DELETE FROM conversations WHERE contact_id = $1`, [contactId]);
  }

  // Retention (src/privacy decides what is old enough)

  /** Locks up to `limit` messages sent before `cutoff` (rows another run holds are skipped). */
  async lockMessagesBefore(manager: EntityManager, cutoff: Date, limit: number): Promise<{ id: string; wamid: string; storageKey: string | null }[]> {
    return manager.query(`SELECT id, wamid, media->>'storageKey' AS "storageKey" FROM messages WHERE wa_timestamp < $1 LIMIT $2 FOR UPDATE SKIP LOCKED`, [cutoff, limit]);
  }

  /** Deletes these messages with their delivery statuses (their tasks go by foreign key). */
  async deleteMessages(manager: EntityManager, messages: { id: string; wamid: string }[]): Promise<void> {
    await manager.query(`DELETE FROM message_status_events WHERE wamid = ANY($1::text[])`, [messages.map((m) => m.wamid)]);
    await manager.query(`DELETE FROM messages WHERE id = ANY($1::uuid[])`, [messages.map((m) => m.id)]);
  }

  /** Deletes conversations left without messages whose last activity is before `cutoff`; returns their ids. */
  async deleteEmptyConversationsBefore(manager: EntityManager, cutoff: Date): Promise<string[]> {
    return returnedRows<{ id: string }>(
      await manager.query(
        `DELETE FROM conversations c WHERE COALESCE(c.last_message_at, c.opened_at) < $1
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)
         RETURNING id`,
        [cutoff],
      ),
    ).map((r) => r.id);
  }

  /** Delivery statuses received before `cutoff` (their messages are gone, or never arrived). */
  async deleteStatusEventsBefore(cutoff: Date): Promise<number> {
    return returnedRows(await this.dataSource.query(`DELETE FROM message_status_events WHERE received_at < $1 RETURNING 1`, [cutoff])).length;
  }
}
