import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AgentReplyEvent } from '../../connectors/_sdk/contract';
import { returnedRows } from '../database/query-result';
import type { AgentReplyRow } from './replies.types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const REPLY_COLUMNS = `id, seq::text AS seq, connection_id AS "connectionId", remote_id AS "remoteId", remote_thread_id AS "remoteThreadId",
  remote_contact_id AS "remoteContactId", text, author, attachments, conversation_id AS "conversationId",
  message_id AS "messageId", status, mode, detail`;

/** The customer a reply goes to, through one of their conversations. */
export interface ReplyTarget {
  conversationId: string;
  contactId: string;
  /** The business number the customer wrote to: their 24-hour window is with it. */
  phoneNumberId: string;
  /** The WhatsApp profile name, else the E.164 number: what `{{customer.name}}` becomes. */
  customerName: string;
}

/** An outbound message's delivery state, as the reply-status handler reports it. */
export interface MessageState {
  status: string;
  /** A file's name, for a media message. */
  filename: string | null;
  errorCode: number | null;
  errorTitle: string | null;
  statusAt: Date | null;
  idempotencyKey: string | null;
}

/** Queries of agent replies: storing them once, finding their conversation, recording outcomes. */
@Injectable()
export class AgentRepliesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores the replies not seen before (unique per connection and remote id); returns the new rows' ids. */
  async insertNew(manager: EntityManager, connectionId: string, events: AgentReplyEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const values: unknown[] = [connectionId];
    const tuples = events.map((e, i) => {
      values.push(e.remoteId, e.remoteThreadId ?? null, e.remoteContactId ?? null, e.text, e.author, JSON.stringify(e.attachments ?? []));
      const o = 1 + i * 6;
      return `($1, $${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}::jsonb)`;
    });
    const rows: { id: string }[] = await manager.query(
      `INSERT INTO agent_replies (connection_id, remote_id, remote_thread_id, remote_contact_id, text, author, attachments)
       VALUES ${tuples.join(', ')} ON CONFLICT (connection_id, remote_id) DO NOTHING RETURNING id`,
      values,
    );
    return rows.map((r) => r.id);
  }

  /**
   * Whether an earlier reply on the same thread is still waiting to be routed (its task open, not
   * given up): replies reach the customer in the order the agent wrote them.
   */
  async hasEarlierUnrouted(reply: Pick<AgentReplyRow, 'connectionId' | 'remoteThreadId' | 'seq'>): Promise<boolean> {
    if (reply.remoteThreadId === null) return false;
    const [row]: { waiting: boolean }[] = await this.dataSource.query(
      `SELECT EXISTS (
         SELECT 1 FROM agent_replies r JOIN outbox o ON o.dedupe_key = 'reply:' || r.id
         WHERE r.connection_id = $1 AND r.remote_thread_id = $2 AND r.status = 'received' AND r.seq < $3::bigint
           AND o.status IN ('pending', 'running')) AS waiting`,
      [reply.connectionId, reply.remoteThreadId, reply.seq],
    );
    return row.waiting;
  }

  async find(id: string): Promise<AgentReplyRow | null> {
    const [row]: AgentReplyRow[] = await this.dataSource.query(`SELECT ${REPLY_COLUMNS} FROM agent_replies WHERE id = $1`, [id]);
    return row ?? null;
  }

  /**
   * The reply a message was sent for, by the message's idempotency key: `reply:<connection>:<remote
   * id>` for its text, `…:att:<n>` for its files (found even while the reply is being routed).
   */
  async findByMessage(messageId: string): Promise<AgentReplyRow | null> {
    const [row]: AgentReplyRow[] = await this.dataSource.query(
      `SELECT ${REPLY_COLUMNS} FROM agent_replies
       WHERE message_id = $1
          OR (connection_id, remote_id) IN (
               SELECT k[1]::uuid, regexp_replace(k[2], ':att:[0-9]+$', '')
               FROM messages m, regexp_match(m.idempotency_key, '^reply:([0-9a-f-]{36}):(.+)$') AS k
               WHERE m.id = $1)
       LIMIT 1`,
      [messageId],
    );
    return row ?? null;
  }

  /**
   * The conversation a remote thread stands for: the newest conversation linked to that ticket of
   * the connection (a ticket may span conversations), else — for systems that thread by our own
   * id — the conversation with that id. Null when neither exists.
   */
  async conversationOfThread(connectionId: string, remoteThreadId: string): Promise<string | null> {
    const [linked]: { id: string }[] = await this.dataSource.query(
      `SELECT c.id FROM remote_links l JOIN conversations c ON c.id = l.local_id
       WHERE l.connection_id = $1 AND l.entity_type = 'ticket' AND l.remote_id = $2
       ORDER BY c.opened_at DESC LIMIT 1`,
      [connectionId, remoteThreadId],
    );
    if (linked) return linked.id;
    if (!UUID.test(remoteThreadId)) return null;
    const [own]: { id: string }[] = await this.dataSource.query(`SELECT id FROM conversations WHERE id = $1`, [remoteThreadId]);
    return own?.id ?? null;
  }

  /** The conversation's customer; null when the conversation does not exist. */
  async target(conversationId: string): Promise<ReplyTarget | null> {
    if (!UUID.test(conversationId)) return null;
    const [row]: ReplyTarget[] = await this.dataSource.query(
      `SELECT c.id AS "conversationId", c.contact_id AS "contactId", c.phone_number_id AS "phoneNumberId", COALESCE(NULLIF(k.profile_name, ''), k.e164) AS "customerName"
       FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1`,
      [conversationId],
    );
    return row ?? null;
  }

  /** The contact's customer name; null when the contact does not exist. */
  async contactName(contactId: string): Promise<string | null> {
    if (!UUID.test(contactId)) return null;
    const [row]: { name: string }[] = await this.dataSource.query(`SELECT COALESCE(NULLIF(profile_name, ''), e164) AS name FROM contacts WHERE id = $1`, [contactId]);
    return row?.name ?? null;
  }

  /**
   * Records what became of a reply. Its text and attachment links are dropped: from now on the
   * outbound messages (if any) hold them, and a reply that went nowhere keeps no customer data.
   * Only a reply still `received` changes (a task run twice records once); false otherwise.
   */
  async recordOutcome(
    manager: EntityManager,
    id: string,
    outcome: { status: 'queued' | 'refused' | 'failed'; conversationId: string | null; messageId: string | null; mode: 'text' | 'template' | null; detail: string | null },
  ): Promise<boolean> {
    const rows = returnedRows<{ id: string }>(
      await manager.query(
        `UPDATE agent_replies SET status = $2, conversation_id = $3, message_id = $4, mode = $5, detail = $6, text = NULL,
           attachments = '[]', routed_at = now()
         WHERE id = $1 AND status = 'received' RETURNING id`,
        [id, outcome.status, outcome.conversationId, outcome.messageId, outcome.mode, outcome.detail],
      ),
    );
    return rows.length === 1;
  }

  async messageState(messageId: string): Promise<MessageState | null> {
    const [row]: MessageState[] = await this.dataSource.query(
      `SELECT status, media->>'filename' AS filename, error_code AS "errorCode", error_title AS "errorTitle", status_at AS "statusAt",
              idempotency_key AS "idempotencyKey"
       FROM messages WHERE id = $1`,
      [messageId],
    );
    return row ?? null;
  }

  /** Why the consent gate refused the message with this idempotency key at send time, if it did. */
  async refusalDetail(idempotencyKey: string): Promise<string | null> {
    const [row]: { detail: string }[] = await this.dataSource.query(
      `SELECT detail FROM outbound_refusals WHERE idempotency_key = $1 ORDER BY created_at DESC LIMIT 1`,
      [idempotencyKey],
    );
    return row?.detail ?? null;
  }
}
