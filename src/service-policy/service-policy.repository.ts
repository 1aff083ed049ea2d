import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returnedRows } from '../database/query-result';
import { personsReplySql } from '../conversations/fan-out';
import { insertTasks, type TaskRef } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';
import type { ServicePolicy } from './policy-document';
import type { ConversationServiceState, TriageState } from './service-decisions';
import type { ReportConversation } from './service-report';

/** The policy row: `phoneNumberId` is a business number's id or `default`. */
export interface StoredPolicy {
  phoneNumberId: string;
  policy: ServicePolicy;
  updatedBy: string | null;
  updatedAt: Date;
}

/** A customer message the policy has not looked at yet. */
export interface PendingMessage {
  seq: string;
  wamid: string;
  type: string;
  body: string | null;
  content: unknown;
  waTimestamp: Date;
  first: boolean;
}

/** The message a task names, with what the policy needs of its conversation and customer. */
export interface MessageFacts {
  seq: string;
  conversationId: string;
  contactId: string;
  phoneNumberId: string;
  e164: string;
  route: string | null;
}

/** A reply a person wrote (conversations' rule) that WhatsApp accepted. */
const HUMAN_REPLY = `${personsReplySql('m')} AND m.status IN ('sent', 'delivered', 'read')`;

/** The one owner of service_policies and conversation_service. */
@Injectable()
export class ServicePolicyRepository {
  constructor(private readonly dataSource: DataSource) {}

  async find(phoneNumberId: string): Promise<StoredPolicy | null> {
    const [row] = await this.dataSource.query(
      `SELECT phone_number_id AS "phoneNumberId", policy, updated_by AS "updatedBy", updated_at AS "updatedAt" FROM service_policies WHERE phone_number_id = $1`,
      [phoneNumberId],
    );
    return row ?? null;
  }

  /** The number's own policy, else the default one. */
  async policyFor(phoneNumberId: string): Promise<ServicePolicy | null> {
    const [row] = await this.dataSource.query(
      `SELECT policy FROM service_policies WHERE phone_number_id IN ($1, 'default') ORDER BY phone_number_id = 'default' LIMIT 1`,
      [phoneNumberId],
    );
    return row?.policy ?? null;
  }

  async all(): Promise<StoredPolicy[]> {
    return this.dataSource.query(`SELECT phone_number_id AS "phoneNumberId", policy, updated_by AS "updatedBy", updated_at AS "updatedAt" FROM service_policies`);
  }

  async anyStored(): Promise<boolean> {
    const [row] = await this.dataSource.query(`SELECT EXISTS (SELECT 1 FROM service_policies) AS any`);
    return row.any === true;
  }

  /** Stores the policy; `created` when the number had none. */
  async put(phoneNumberId: string, policy: ServicePolicy, updatedBy: string | null): Promise<{ stored: StoredPolicy; created: boolean }> {
    const [row] = await this.dataSource.query(
      `INSERT INTO service_policies (phone_number_id, policy, updated_by) VALUES ($1, $2::jsonb, $3)
       ON CONFLICT (phone_number_id) DO UPDATE SET policy = EXCLUDED.policy, updated_by = EXCLUDED.updated_by, updated_at = now()
       RETURNING phone_number_id AS "phoneNumberId", policy, updated_by AS "updatedBy", updated_at AS "updatedAt", (xmax = 0) AS created`,
      [phoneNumberId, JSON.stringify(policy), updatedBy],
    );
    const { created, ...stored } = row;
    return { stored, created };
  }

  async delete(phoneNumberId: string): Promise<boolean> {
    return returnedRows(await this.dataSource.query(`DELETE FROM service_policies WHERE phone_number_id = $1 RETURNING 1`, [phoneNumberId])).length > 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Tasks

  /** An `inbound` task per stored customer message among `wamids`, keyed on the message. */
  async insertInboundTasks(manager: EntityManager, wamids: string[]): Promise<TaskRef[]> {
    return insertTasks(
      manager,
      {
        queue: QueueName.ServicePolicy,
        kind: `'inbound'`,
        dedupeKey: `'policy:' || m.id`,
        conversationId: 'm.conversation_id',
        messageId: 'm.id',
        from: `unnest($1::text[]) AS w(wamid) JOIN messages m ON m.wamid = w.wamid AND m.direction = 'inbound'`,
      },
      [wamids],
    );
  }

  /** The menu's time-out: one per conversation (the handler waits until it is due). */
  async insertTimeoutTask(manager: EntityManager, conversationId: string): Promise<TaskRef[]> {
    return insertTasks(
      manager,
      { queue: QueueName.ServicePolicy, kind: `'triage-timeout'`, dedupeKey: `'triage-timeout:' || $1::text`, conversationId: '$1::text::uuid', from: '(SELECT 1) AS one' },
      [conversationId],
    );
  }

  // ---------------------------------------------------------------------------------------------
  // What the policy did in each conversation

  async messageFacts(messageId: string): Promise<MessageFacts | null> {
    const [row] = await this.dataSource.query(
      `SELECT m.seq::text AS seq, m.conversation_id AS "conversationId", m.contact_id AS "contactId", c.phone_number_id AS "phoneNumberId",
              k.e164, c.route
       FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = m.contact_id
       WHERE m.id = $1 AND m.direction = 'inbound'`,
      [messageId],
    );
    return row ?? null;
  }

  async conversationFacts(conversationId: string): Promise<Omit<MessageFacts, 'seq'> | null> {
    const [row] = await this.dataSource.query(
      `SELECT c.id AS "conversationId", c.contact_id AS "contactId", c.phone_number_id AS "phoneNumberId", k.e164, c.route
       FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1`,
      [conversationId],
    );
    return row ?? null;
  }

  /**
   * The conversation's policy state, locked for this transaction (created on first use), so two
   * workers handling two messages of one conversation take turns and see each other's steps.
   */
  async lockState(manager: EntityManager, conversationId: string): Promise<{ state: ConversationServiceState; lastSeq: string } | null> {
    await manager.query(
      `INSERT INTO conversation_service (conversation_id) SELECT id FROM conversations WHERE id = $1 ON CONFLICT (conversation_id) DO NOTHING`,
      [conversationId],
    );
    const [row] = await manager.query(
      `SELECT last_seq::text AS "lastSeq", triage_state AS "triageState", triage_path AS path, menu_at AS "menuAt",
              messages_after_menu AS "messagesAfterMenu", handoff_at AS "handoffAt"
       FROM conversation_service WHERE conversation_id = $1 FOR UPDATE`,
      [conversationId],
    );
    if (!row) return null;
    const { lastSeq, ...state } = row as ConversationServiceState & { lastSeq: string; triageState: TriageState };
    return { state, lastSeq };
  }

  async saveState(manager: EntityManager, conversationId: string, state: ConversationServiceState, lastSeq?: string): Promise<void> {
    await manager.query(
      `UPDATE conversation_service SET triage_state = $2, triage_path = $3, menu_at = $4, messages_after_menu = $5, handoff_at = $6,
         last_seq = GREATEST(last_seq, COALESCE($7::bigint, last_seq)), updated_at = now()
       WHERE conversation_id = $1`,
      [conversationId, state.triageState, state.path, state.menuAt, state.messagesAfterMenu, state.handoffAt, lastSeq ?? null],
    );
  }

  /** Customer messages after `afterSeq` up to `uptoSeq`, in order; `first`: the conversation's first. */
  async pendingMessages(manager: EntityManager, conversationId: string, afterSeq: string, uptoSeq: string): Promise<PendingMessage[]> {
    return manager.query(
      `SELECT m.seq::text AS seq, m.wamid, m.type, m.body, m.content, m.wa_timestamp AS "waTimestamp",
              m.seq = (SELECT min(f.seq) FROM messages f WHERE f.conversation_id = m.conversation_id AND f.direction = 'inbound') AS first
       FROM messages m
       WHERE m.conversation_id = $1 AND m.direction = 'inbound' AND m.seq > $2::bigint AND m.seq <= $3::bigint
       ORDER BY m.seq`,
      [conversationId, afterSeq, uptoSeq],
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Reports

  /** The conversations opened in [from, to), with what the report measures of each. */
  async reportConversations(from: Date, to: Date): Promise<ReportConversation[]> {
    const rows: (Omit<ReportConversation, 'triagePath'> & { triagePath: string[] | null })[] = await this.dataSource.query(
      `SELECT c.id, c.phone_number_id AS "phoneNumberId", c.route, c.opened_at AS "openedAt", c.first_response_at AS "firstResponseAt",
              c.resolved_at AS "resolvedAt", s.handoff_at AS "handoffAt", s.triage_path AS "triagePath",
              (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id AND ${HUMAN_REPLY}) AS "humanReplies",
              (SELECT m.origin FROM messages m WHERE m.conversation_id = c.id AND ${HUMAN_REPLY} AND m.origin <> 'api'
                 ORDER BY m.wa_timestamp, m.seq LIMIT 1) AS "connectionId"
       FROM conversations c LEFT JOIN conversation_service s ON s.conversation_id = c.id
       WHERE c.opened_at >= $1 AND c.opened_at < $2`,
      [from, to],
    );
    return rows.map((r) => ({ ...r, triagePath: r.triagePath ?? [] }));
  }

  /** What the response-time histograms observe for one conversation. */
  async responseTimes(conversationId: string): Promise<{ phoneNumberId: string; openedAt: Date; handoffAt: Date | null; firstResponseAt: Date | null; resolvedAt: Date | null } | null> {
    const [row] = await this.dataSource.query(
      `SELECT c.phone_number_id AS "phoneNumberId", c.opened_at AS "openedAt", s.handoff_at AS "handoffAt",
              c.first_response_at AS "firstResponseAt", c.resolved_at AS "resolvedAt"
       FROM conversations c LEFT JOIN conversation_service s ON s.conversation_id = c.id WHERE c.id = $1`,
      [conversationId],
    );
    return row ?? null;
  }
}
