import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { StoredMedia } from '../conversations/entities/message.entity';
import { QueueName } from '../tasks/queues';

/** The conversations list's search and filters, and where the page starts. */
export interface ConversationFilters {
  /** A phone number (digits, E.164) or part of the customer's name. */
  q?: string;
  status?: 'open' | 'closed';
  phoneNumberId?: string;
  /** Conversations with a crm-sync task for this connection. */
  connectionId?: string;
  route?: string;
  /** After this row of the previous page (newest first). */
  after?: { at: Date; id: string };
  limit: number;
}

export interface ConversationListRow {
  id: string;
  profileName: string | null;
  e164: string;
  phoneNumberId: string;
  displayPhoneNumber: string | null;
  status: 'open' | 'closed';
  route: string | null;
  lastMessageAt: Date;
  messageCount: number;
}

export interface ConversationHeader {
  id: string;
  contactId: string;
  profileName: string | null;
  e164: string;
  waId: string;
  phoneNumberId: string;
  displayPhoneNumber: string | null;
  status: 'open' | 'closed';
  openedAt: Date;
  closedAt: Date | null;
  lastMessageAt: Date | null;
  route: string | null;
  triagePath: string[] | null;
  triageState: string | null;
}

export interface MessageRow {
  id: string;
  seq: string;
  wamid: string;
  direction: 'inbound' | 'outbound';
  type: string;
  body: string | null;
  media: StoredMedia | null;
  mediaStatus: string | null;
  status: string | null;
  statusAt: Date | null;
  errorCode: number | null;
  errorTitle: string | null;
  origin: string | null;
  /** The connection `origin` names, when it names one. */
  originConnectionName: string | null;
  author: string | null;
  waTimestamp: Date;
  createdAt: Date;
}

/** One crm-sync task of a message (where it went), with the remote object it became. */
export interface DeliveryRow {
  messageId: string;
  taskId: string;
  connectionId: string;
  connectionName: string | null;
  connectorId: string | null;
  status: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  doneAt: Date | null;
  remoteId: string | null;
  remoteUrl: string | null;
}

export interface TaskRow {
  taskId: string;
  queue: string;
  kind: string;
  connectionId: string | null;
  connectionName: string | null;
  status: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  doneAt: Date | null;
}

export interface AttemptRow {
  taskId: string;
  connectionName: string | null;
  operation: string;
  startedAt: Date;
  durationMs: number;
  outcome: string;
  error: string | null;
}

export interface StatusEventRow {
  status: string;
  occurredAt: Date;
  receivedAt: Date;
  errors: { code?: number; title?: string; message?: string }[] | null;
}

/** The filter choices of the list: business numbers, connections and routes in use. */
export interface FilterChoices {
  numbers: { phoneNumberId: string; displayPhoneNumber: string | null }[];
  connections: { id: string; name: string }[];
  routes: string[];
}

/**
 * The console's reads for its conversation pages: plain SELECTs over the tables other modules own
 * (conversations, contacts, messages, outbox, remote_links, sync_attempts, message_status_events,
 * conversation_service). It writes nothing.
 */
@Injectable()
export class ConsoleReadRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** A page of conversations, newest message first; one more row than `limit` tells there is a next page. */
  async conversations(filters: ConversationFilters): Promise<ConversationListRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const q = filters.q?.trim();
    if (q) {
      const digits = q.replace(/[\s()+-]/g, '');
      if (/^\d{3,}$/.test(digits)) where.push(`(k.wa_id LIKE ${param(`%${digits}%`)} OR k.e164 LIKE ${param(`%${digits}%`)})`);
      else where.push(`k.profile_name ILIKE ${param(`%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
    }
    if (filters.status) where.push(`c.status = ${param(filters.status)}`);
    if (filters.phoneNumberId) where.push(`c.phone_number_id = ${param(filters.phoneNumberId)}`);
    if (filters.route) where.push(`c.route = ${param(filters.route)}`);
    if (filters.connectionId) {
      where.push(`EXISTS (SELECT 1 FROM outbox o WHERE o.conversation_id = c.id AND o.queue = '${QueueName.CrmSync}' AND o.connection_id = ${param(filters.connectionId)}::uuid)`);
    }
    if (filters.after) where.push(`(coalesce(c.last_message_at, c.opened_at), c.id) < (${param(filters.after.at)}::timestamptz, ${param(filters.after.id)}::uuid)`);
    return this.dataSource.query(
      `SELECT c.id, k.profile_name AS "profileName", k.e164, c.phone_number_id AS "phoneNumberId", c.display_phone_number AS "displayPhoneNumber",
              c.status, c.route, coalesce(c.last_message_at, c.opened_at) AS "lastMessageAt",
              (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS "messageCount"
         FROM conversations c JOIN contacts k ON k.id = c.contact_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY coalesce(c.last_message_at, c.opened_at) DESC, c.id DESC
        LIMIT ${param(filters.limit + 1)}`,
      params,
    );
  }

  async filterChoices(): Promise<FilterChoices> {
    const [numbers, connections, routes] = await Promise.all([
      this.dataSource.query(
        `SELECT phone_number_id AS "phoneNumberId", max(display_phone_number) AS "displayPhoneNumber" FROM conversations GROUP BY phone_number_id ORDER BY 1 LIMIT 200`,
      ),
      this.dataSource.query(`SELECT id, name FROM connections ORDER BY name LIMIT 200`),
      this.dataSource.query(`SELECT DISTINCT route FROM conversations WHERE route IS NOT NULL ORDER BY 1 LIMIT 200`),
    ]);
    return { numbers, connections, routes: routes.map((r: { route: string }) => r.route) };
  }

  async conversation(id: string): Promise<ConversationHeader | null> {
    const [row] = await this.dataSource.query(
      `SELECT c.id, k.id AS "contactId", k.profile_name AS "profileName", k.e164, k.wa_id AS "waId", c.phone_number_id AS "phoneNumberId",
              c.display_phone_number AS "displayPhoneNumber", c.status, c.opened_at AS "openedAt", c.closed_at AS "closedAt",
              c.last_message_at AS "lastMessageAt", c.route, s.triage_path AS "triagePath", s.triage_state AS "triageState"
         FROM conversations c JOIN contacts k ON k.id = c.contact_id
         LEFT JOIN conversation_service s ON s.conversation_id = c.id
        WHERE c.id = $1`,
      [id],
    );
    return row ?? null;
  }

  private readonly messageColumns = `m.id, m.seq::text AS seq, m.wamid, m.direction, m.type, m.body, m.media, m.media_status AS "mediaStatus",
              m.status, m.status_at AS "statusAt", m.error_code AS "errorCode", m.error_title AS "errorTitle", m.origin,
              oc.name AS "originConnectionName", m.author, m.wa_timestamp AS "waTimestamp", m.created_at AS "createdAt"`;

  /** A conversation's messages in WhatsApp order (at most `limit`, the latest ones). */
  async messages(conversationId: string, limit = 500): Promise<MessageRow[]> {
    return this.dataSource.query(
      `SELECT * FROM (
         SELECT ${this.messageColumns}
           FROM messages m LEFT JOIN connections oc ON oc.id::text = m.origin
          WHERE m.conversation_id = $1
          ORDER BY m.wa_timestamp DESC, m.seq DESC LIMIT $2) latest
        ORDER BY "waTimestamp", seq::bigint`,
      [conversationId, limit],
    );
  }

  async message(conversationId: string, messageId: string): Promise<MessageRow | null> {
    const [row] = await this.dataSource.query(
      `SELECT ${this.messageColumns} FROM messages m LEFT JOIN connections oc ON oc.id::text = m.origin WHERE m.conversation_id = $1 AND m.id = $2`,
      [conversationId, messageId],
    );
    return row ?? null;
  }

  /** Where each message went: its crm-sync tasks per connection, with the remote object it became. */
  async deliveries(messageIds: string[]): Promise<DeliveryRow[]> {
    if (messageIds.length === 0) return [];
    return this.dataSource.query(
      `SELECT o.message_id AS "messageId", o.id::text AS "taskId", o.connection_id AS "connectionId", cn.name AS "connectionName",
              cn.connector_id AS "connectorId", o.status, o.attempts, o.last_error AS "lastError", o.created_at AS "createdAt", o.updated_at AS "updatedAt",
              o.done_at AS "doneAt", l.remote_id AS "remoteId", l.remote_url AS "remoteUrl"
         FROM outbox o
         LEFT JOIN connections cn ON cn.id = o.connection_id
         LEFT JOIN remote_links l ON l.connection_id = o.connection_id AND l.entity_type = 'message' AND l.local_id = o.message_id
        WHERE o.message_id = ANY($1::uuid[]) AND o.queue = '${QueueName.CrmSync}'
        ORDER BY o.message_id, cn.name, o.id`,
      [messageIds],
    );
  }

  /** Every background task of a message (sync, media download, sends), oldest first. */
  async tasksOf(messageId: string): Promise<TaskRow[]> {
    return this.dataSource.query(
      `SELECT o.id::text AS "taskId", o.queue, o.kind, o.connection_id AS "connectionId", cn.name AS "connectionName", o.status, o.attempts,
              o.last_error AS "lastError", o.created_at AS "createdAt", o.updated_at AS "updatedAt", o.done_at AS "doneAt"
         FROM outbox o LEFT JOIN connections cn ON cn.id = o.connection_id
        WHERE o.message_id = $1 ORDER BY o.id`,
      [messageId],
    );
  }

  async attemptsOf(messageId: string): Promise<AttemptRow[]> {
    return this.dataSource.query(
      `SELECT a.task_id::text AS "taskId", cn.name AS "connectionName", a.operation, a.started_at AS "startedAt", a.duration_ms AS "durationMs",
              a.outcome, a.error
         FROM sync_attempts a LEFT JOIN connections cn ON cn.id = a.connection_id
        WHERE a.message_id = $1 ORDER BY a.started_at, a.id`,
      [messageId],
    );
  }

  async statusEventsOf(wamid: string): Promise<StatusEventRow[]> {
    return this.dataSource.query(
      `SELECT status, occurred_at AS "occurredAt", received_at AS "receivedAt", errors FROM message_status_events WHERE wamid = $1 ORDER BY occurred_at, received_at`,
      [wamid],
    );
  }
}
