import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { RemoteRef } from '../../connectors/_sdk/contract';
import type { TicketRoutingColumn } from '../conversations/entities/conversation.entity';
import type { StoredMedia } from '../conversations/entities/message.entity';
import { returnedRows } from '../database/query-result';
import { LeaseLostError } from '../tasks/lease';
import { completeOpen, killOpen, markDispatched, setDue, setDueSql, type TaskRef } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';

export type LinkType = 'contact' | 'ticket' | 'message' | 'transcript';

/** One open crm-sync task with what the drain needs to know about its message and conversation. */
export interface SyncRow {
  taskId: string;
  kind: 'message' | 'transcript' | string;
  dispatchedAt: Date | null;
  conversationId: string;
  /** Null only when the conversation is gone (a row the drain then dead-letters). */
  contactId: string;
  waId: string;
  e164: string;
  profileName: string | null;
  displayPhoneNumber: string | null;
  phoneNumberId: string;
  conversationStatus: 'open' | 'closed';
  openedAt: Date;
  closedAt: Date | null;
  /** What the conversation's route asks of its ticket; null: no route applied. */
  ticketRouting: TicketRoutingColumn | null;
  /** The only connections that receive the conversation's further messages; null: every connection. */
  routeConnections: string[] | null;
  /** Counts the conversation's route changes. */
  routeVersion: number;
  messageId: string | null;
  wamid: string | null;
  direction: 'inbound' | 'outbound' | null;
  type: string | null;
  body: string | null;
  content: unknown;
  media: StoredMedia | null;
  mediaStatus: string | null;
  context: Record<string, unknown> | null;
  errors: unknown[] | null;
  waTimestamp: Date | null;
  /** Arrival order, breaking ties between messages of the same WhatsApp second. */
  seq: string | null;
  author: string | null;
  messageCreatedAt: Date | null;
}

export interface NewLink {
  type: LinkType;
  localId: string;
  remote: RemoteRef;
}

export interface StoredLink extends RemoteRef {
  localId: string;
  updatedAt: Date;
}

/** One vendor call for one task, as sync_attempts keeps it (the console's message history shows them). */
export interface SyncAttempt {
  taskId: string;
  messageId: string | null;
  conversationId: string | null;
  /** What was called, e.g. 'timeline.append'. */
  operation: string;
  startedAt: Date;
  durationMs: number;
  /** 'ok', or the ConnectorError kind it failed with (or 'interrupted'). */
  outcome: string;
  /** The reason of a failure, already redacted (no phone numbers, no message text). */
  error: string | null;
}

/** Queries of the sync engine: leases, open tasks with their data, remote links, the record of each vendor call. */
@Injectable()
export class SyncRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Takes a lease; true when `holder` has it now. An expired lease can be taken over. */
  async acquireLease(connectionId: string, scope: string, holder: string, ttlMs: number): Promise<boolean> {
    const rows = await this.dataSource.query(
      `INSERT INTO sync_leases (connection_id, scope, holder, expires_at) VALUES ($1, $2, $3, now() + ($4 || ' milliseconds')::interval)
       ON CONFLICT (connection_id, scope) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE sync_leases.expires_at < now() OR sync_leases.holder = EXCLUDED.holder
       RETURNING holder`,
      [connectionId, scope, holder, String(ttlMs)],
    );
    return returnedRows(rows).length === 1;
  }

  /** The heartbeat: extends a lease `holder` still has; false once it ran out or was taken over. */
  async renewLease(connectionId: string, scope: string, holder: string, ttlMs: number): Promise<boolean> {
    const rows = await this.dataSource.query(
      `UPDATE sync_leases SET expires_at = now() + ($4 || ' milliseconds')::interval
       WHERE connection_id = $1 AND scope = $2 AND holder = $3 AND expires_at >= now() RETURNING holder`,
      [connectionId, scope, holder, String(ttlMs)],
    );
    return returnedRows(rows).length === 1;
  }

  async releaseLease(connectionId: string, scope: string, holder: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM sync_leases WHERE connection_id = $1 AND scope = $2 AND holder = $3`, [connectionId, scope, holder]);
  }

  /**
   * Drains whose holder stopped renewing (a worker killed, or cut off from the database): their
   * leases are dropped and the oldest pending crm-sync task of each such connection is made due
   * now, so its job starts a new drain. Needed because the tasks behind a drain wait on a long
   * recheck, and the task that started it may be done already (a drain syncs it first). One
   * statement, so a lease is never dropped without its work woken; the outbox half is tasks/'s.
   */
  async wakeAbandonedDrains(): Promise<TaskRef[]> {
    return returnedRows<TaskRef>(
      await this.dataSource.query(
        `WITH expired AS (
           DELETE FROM sync_leases WHERE scope = 'drain' AND expires_at < now() RETURNING connection_id
         ), oldest AS (
           SELECT DISTINCT ON (o.connection_id) o.id FROM outbox o JOIN expired e ON e.connection_id = o.connection_id
            WHERE o.queue = '${QueueName.CrmSync}' AND o.status = 'pending'
            ORDER BY o.connection_id, o.id
         )
         ${setDueSql('id IN (SELECT id FROM oldest)', 'now-or-earlier')}`,
      ),
    );
  }

  /**
   * Open crm-sync tasks of a connection with their message and conversation: the conversations of
   * the oldest `limit` open tasks, each with all its open tasks (oldest conversation first, then
   * task order), at most 4 × `limit` rows. Whole conversations, so a burst that interleaves many
   * customers' messages still reaches each CRM record in one call, not one per slice of arrival order.
   */
  async openRows(connectionId: string, limit: number): Promise<SyncRow[]> {
    return this.dataSource.query(
      `WITH head AS (
         SELECT conversation_id, min(id) AS first_id FROM (
           SELECT id, conversation_id FROM outbox
            WHERE connection_id = $1 AND queue = '${QueueName.CrmSync}' AND status IN ('pending', 'running')
            ORDER BY id LIMIT $2) oldest
          GROUP BY conversation_id
       ), picked AS (
         SELECT head.first_id, t.id FROM head CROSS JOIN LATERAL (
           SELECT id FROM outbox
            WHERE connection_id = $1 AND conversation_id = head.conversation_id AND queue = '${QueueName.CrmSync}' AND status IN ('pending', 'running')
            ORDER BY id LIMIT $2) t
         UNION ALL
         -- Tasks without a conversation (none are written today) keep their place.
         SELECT id, id FROM outbox
          WHERE connection_id = $1 AND conversation_id IS NULL AND queue = '${QueueName.CrmSync}' AND status IN ('pending', 'running')
            AND id <= (SELECT max(first_id) FROM head)
       )
       SELECT o.id::text AS "taskId", o.kind, o.dispatched_at AS "dispatchedAt", o.conversation_id AS "conversationId",
              k.id AS "contactId", k.wa_id AS "waId", k.e164, k.profile_name AS "profileName",
              c.display_phone_number AS "displayPhoneNumber", c.phone_number_id AS "phoneNumberId",
              c.status AS "conversationStatus", c.opened_at AS "openedAt", c.closed_at AS "closedAt",
              c.ticket_routing AS "ticketRouting", c.route_connections AS "routeConnections", c.route_version AS "routeVersion",
              m.id AS "messageId", m.wamid, m.direction, m.type, m.body, m.content, m.media, m.media_status AS "mediaStatus",
              m.context, m.errors, m.wa_timestamp AS "waTimestamp", m.seq::text AS seq, m.author, m.created_at AS "messageCreatedAt"
       FROM picked p
       JOIN outbox o ON o.id = p.id
       LEFT JOIN conversations c ON c.id = o.conversation_id
       LEFT JOIN contacts k ON k.id = c.contact_id
       LEFT JOIN messages m ON m.id = o.message_id
       ORDER BY p.first_id, o.id
       LIMIT $2 * 4`,
      [connectionId, limit],
    );
  }

  /** Whether the connection still has open crm-sync work. */
  async hasOpenRows(connectionId: string): Promise<boolean> {
    const [row] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM outbox WHERE connection_id = $1 AND queue = '${QueueName.CrmSync}' AND status IN ('pending', 'running')) AS open`,
      [connectionId],
    );
    return row.open === true;
  }

  /**
   * Makes every open crm-sync task of a connection due at `at` and returns what to enqueue: the drain
   * that stops early (a pause, media still downloading) may hold no task of its own any more, so
   * it leaves a wake-up behind; the job for the returned task drains them all.
   */
  async scheduleWake(connectionId: string, at: Date): Promise<TaskRef[]> {
    const pending = await setDue(this.dataSource.manager, `connection_id = $1 AND queue = '${QueueName.CrmSync}' AND status = 'pending'`, [connectionId, at], '$2');
    if (pending.length) return [pending[0]];
    // None pending, but tasks may be running: ones that found this drain busy and are about to hand
    // their rows back for a minute. Their wake-up is set now and kept (the runner's reschedule keeps
    // a sooner due time), and each gets its job: they are few.
    return setDue(this.dataSource.manager, `connection_id = $1 AND queue = '${QueueName.CrmSync}' AND status = 'running'`, [connectionId, at], '$2');
  }

  /** Marks tasks as handed to the connector (tasks/outbox.repository.ts markDispatched says why it is not fenced). */
  async markDispatched(taskIds: string[]): Promise<void> {
    await markDispatched(this.dataSource.manager, taskIds);
  }

  /**
   * Records where things landed and finishes their tasks in ONE transaction, so a crash can never
   * leave a task done without its link (or a link whose task runs again). Fenced by the drain's
   * lease: a drain that lost it (ran out, taken over) writes nothing and gets LeaseLostError, as
   * the new holder decides what these rows become. The lease row stays locked until commit, so a
   * takeover cannot slip in between the check and the writes.
   */
  async completeWithLinks(connectionId: string, drainHolder: string, links: NewLink[], taskIds: string[], learnedContacts: NewLink[] = []): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.holdLease(manager, connectionId, drainHolder);
      await this.writeLinks(manager, connectionId, links);
      await this.writeLearnedContactLinks(manager, connectionId, learnedContacts);
      await completeOpen(manager, taskIds);
    });
  }

  /**
   * Saves links outside a task (contacts and tickets, which several tasks share). A drain passes
   * its lease holder and writes only while it holds the lease; other callers (consent sync) hold none.
   */
  async saveLinks(connectionId: string, links: NewLink[], drainHolder?: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (drainHolder) await this.holdLease(manager, connectionId, drainHolder);
      await this.writeLinks(manager, connectionId, links);
    });
  }

  private async writeLinks(manager: EntityManager, connectionId: string, links: NewLink[]): Promise<void> {
    if (links.length === 0) return;
    const values: unknown[] = [connectionId];
    const tuples = links.map((l, i) => {
      values.push(l.type, l.localId, l.remote.id, l.remote.type, l.remote.url ?? null);
      const o = 1 + i * 5;
      return `($1, $${o + 1}, $${o + 2}::uuid, $${o + 3}, $${o + 4}, $${o + 5})`;
    });
    await manager.query(
      `INSERT INTO remote_links (connection_id, entity_type, local_id, remote_id, remote_type, remote_url) VALUES ${tuples.join(', ')}
       ON CONFLICT (connection_id, entity_type, local_id) DO UPDATE
         SET remote_id = EXCLUDED.remote_id, remote_type = EXCLUDED.remote_type, remote_url = EXCLUDED.remote_url, updated_at = now()`,
      values,
    );
  }

  /**
   * Contact links a vendor's answer named (AppendResult.contact): each replaces the customer's
   * link, unless that remote contact is already another customer's (one remote contact is one
   * local contact), then it is left out. The drain's lease keeps this check and write alone.
   */
  private async writeLearnedContactLinks(manager: EntityManager, connectionId: string, links: NewLink[]): Promise<void> {
    for (const link of links) {
      await manager.query(
        `INSERT INTO remote_links (connection_id, entity_type, local_id, remote_id, remote_type, remote_url)
         SELECT $1, 'contact', $2::uuid, $3, $4, $5
         WHERE NOT EXISTS (SELECT 1 FROM remote_links WHERE connection_id = $1 AND entity_type = 'contact' AND remote_id = $3 AND local_id <> $2::uuid)
         ON CONFLICT (connection_id, entity_type, local_id) DO UPDATE
           SET remote_id = EXCLUDED.remote_id, remote_type = EXCLUDED.remote_type, remote_url = EXCLUDED.remote_url, updated_at = now()
           WHERE remote_links.remote_id IS DISTINCT FROM EXCLUDED.remote_id OR remote_links.remote_type IS DISTINCT FROM EXCLUDED.remote_type`,
        [connectionId, link.localId, link.remote.id, link.remote.type, link.remote.url ?? null],
      );
    }
  }

  private async holdLease(manager: EntityManager, connectionId: string, holder: string): Promise<void> {
    const held = await manager.query(
      `SELECT 1 FROM sync_leases WHERE connection_id = $1 AND scope = 'drain' AND holder = $2 AND expires_at > now() FOR UPDATE`,
      [connectionId, holder],
    );
    if (held.length === 0) throw new LeaseLostError('the drain lease ran out or was taken over');
  }

  async links(connectionId: string, type: LinkType, localIds: string[]): Promise<Map<string, StoredLink>> {
    if (localIds.length === 0) return new Map();
    const rows: { localId: string; id: string; type: string; url: string | null; updatedAt: Date }[] = await this.dataSource.query(
      `SELECT local_id AS "localId", remote_id AS id, remote_type AS type, remote_url AS url, updated_at AS "updatedAt"
       FROM remote_links WHERE connection_id = $1 AND entity_type = $2 AND local_id = ANY($3::uuid[])`,
      [connectionId, type, localIds],
    );
    return new Map(rows.map((r) => [r.localId, { localId: r.localId, id: r.id, type: r.type, url: r.url ?? undefined, updatedAt: r.updatedAt }]));
  }

  /** The ticket of the customer's most recent earlier conversation (for the reuse/reopen policy). */
  async latestTicketOfContact(connectionId: string, contactId: string, exceptConversationId: string): Promise<StoredLink | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT l.local_id AS "localId", l.remote_id AS id, l.remote_type AS type, l.remote_url AS url, l.updated_at AS "updatedAt"
       FROM remote_links l JOIN conversations c ON c.id = l.local_id
       WHERE l.connection_id = $1 AND l.entity_type = 'ticket' AND c.contact_id = $2 AND c.id <> $3
       ORDER BY c.opened_at DESC LIMIT 1`,
      [connectionId, contactId, exceptConversationId],
    );
    return row ? { ...row, url: row.url ?? undefined } : undefined;
  }

  /** Forgets links (a remote object gone); a drain passes its lease holder, as for saveLinks. */
  async dropLinks(connectionId: string, type: LinkType, localIds: string[], drainHolder?: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (drainHolder) await this.holdLease(manager, connectionId, drainHolder);
      await manager.query(`DELETE FROM remote_links WHERE connection_id = $1 AND entity_type = $2 AND local_id = ANY($3::uuid[])`, [connectionId, type, localIds]);
    });
  }

  /** Dead-letters one task with its reason, under the drain's lease. */
  async deadLetter(connectionId: string, holder: string, taskId: string, reason: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.holdLease(manager, connectionId, holder);
      await killOpen(manager, taskId, reason);
    });
  }

  /**
   * Records one vendor call for each task it was for: ONE multi-row INSERT (a call is never more
   * than a statement of bookkeeping). Not fenced by the lease: what was called happened either way.
   */
  async recordAttempts(connectionId: string, attempts: SyncAttempt[]): Promise<void> {
    if (attempts.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO sync_attempts (task_id, connection_id, message_id, conversation_id, operation, started_at, duration_ms, outcome, error)
       SELECT a.task_id, $1::uuid, a.message_id, a.conversation_id, a.operation, a.started_at, a.duration_ms, a.outcome, a.error
         FROM unnest($2::bigint[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[], $7::int[], $8::text[], $9::text[])
           AS a (task_id, message_id, conversation_id, operation, started_at, duration_ms, outcome, error)`,
      [
        connectionId,
        attempts.map((a) => a.taskId),
        attempts.map((a) => a.messageId),
        attempts.map((a) => a.conversationId),
        attempts.map((a) => a.operation),
        attempts.map((a) => a.startedAt.toISOString()),
        attempts.map((a) => Math.max(0, Math.round(a.durationMs))),
        attempts.map((a) => a.outcome),
        attempts.map((a) => a.error),
      ],
    );
  }

  /** Every message of a conversation in WhatsApp order, for its transcript. */
  async conversationMessages(conversationId: string): Promise<SyncRow[]> {
    return this.dataSource.query(
      `SELECT m.id AS "messageId", m.wamid, m.direction, m.type, m.body, m.content, m.media, m.media_status AS "mediaStatus",
              m.context, m.errors, m.wa_timestamp AS "waTimestamp", m.seq::text AS seq, m.author
       FROM messages m WHERE m.conversation_id = $1 ORDER BY m.wa_timestamp, m.seq`,
      [conversationId],
    );
  }

  /**
   * Erasure: deletes the remote links of a customer — their contact, tickets, messages and
   * transcripts — in every connection; returns how many. Runs before their conversations and
   * messages are deleted (it finds the links by those ids).
   */
  async eraseLinksOfContact(manager: EntityManager, contactId: string): Promise<number> {
    return returnedRows(
      await manager.query(
        `DELETE FROM remote_links WHERE local_id IN (SELECT $1::uuid UNION ALL SELECT id FROM conversations WHERE contact_id = $1 UNION ALL SELECT id FROM messages WHERE contact_id = $1) RETURNING 1`,
        [contactId],
      ),
    ).length;
  }

  /** A link a drain wrote for an erased customer after the erasure (it was mid-call): dropped. */
  async dropContactLinks(connectionId: string, contactId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM remote_links WHERE connection_id = $1 AND local_id = $2`, [connectionId, contactId]);
  }

  /** Retention: the links of these local objects (messages, conversations), in every connection. */
  async deleteLinksOf(manager: EntityManager, localIds: string[]): Promise<void> {
    if (localIds.length) await manager.query(`DELETE FROM remote_links WHERE local_id = ANY($1::uuid[])`, [localIds]);
  }

  /**
   * Retention: a connection's message and transcript links not touched since `cutoff`. Contact and
   * ticket links stay while their local objects do: erasure and ticket threading need them.
   */
  async deleteRecordLinksBefore(manager: EntityManager, connectionId: string, cutoff: Date): Promise<number> {
    return returnedRows(
      await manager.query(`DELETE FROM remote_links WHERE connection_id = $1 AND entity_type IN ('message', 'transcript') AND updated_at < $2 RETURNING 1`, [connectionId, cutoff]),
    ).length;
  }
}
