import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Customer } from '../../connectors/_sdk/contract';
import { returnedRows } from '../database/query-result';
import { QueueName } from '../tasks/queues';
import { type ConsentEvent, type ConsentScope, type ConsentState, type ConsentStatus, type NewConsentEvent, UNKNOWN_STATE } from './consent.types';

/** What the consent gate needs to know about a contact, read in one round trip. */
export interface GateFacts {
  marketing: ConsentStatus;
  transactional: ConsentStatus;
  /** The customer's latest message to the business number (WhatsApp's time), null when never. */
  lastInboundAt: Date | null;
}

/** A customer message that is a consent keyword, with what recording it needs. */
export interface KeywordMessage {
  id: string;
  wamid: string;
  contactId: string;
  conversationId: string;
  body: string | null;
  waTimestamp: Date;
}

const EVENT_COLUMNS = `id, contact_id AS "contactId", action, scope, source, evidence_message_id AS "evidenceMessageId",
  evidence_text AS "evidenceText", actor, occurred_at AS "occurredAt", recorded_at AS "recordedAt"`;

/** The latest event of a scope decides: later consent wins, ties go to the later arrival. */
const CURRENT_ORDER = 'occurred_at DESC, seq DESC';

const STATUS_OF_ACTION = `CASE action WHEN 'opt_in' THEN 'opted_in' ELSE 'opted_out' END`;

/** Queries of the consent ledger. Append and read only: events are never updated or deleted here. */
@Injectable()
export class ConsentRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Locks the contact row for the rest of the transaction, so consent changes of one contact are
   * recorded one at a time (each sees the state the previous one left). False when it is unknown.
   */
  async lockContact(manager: EntityManager, contactId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT id FROM contacts WHERE id = $1 FOR UPDATE`, [contactId]);
    return rows.length === 1;
  }

  async contactExists(contactId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM contacts WHERE id = $1`, [contactId]);
    return rows.length === 1;
  }

  /** The contact as connectors know customers, or null when it is gone. */
  async customer(contactId: string): Promise<Customer | null> {
    const [row]: { waId: string; e164: string; profileName: string | null }[] = await this.dataSource.query(
      `SELECT wa_id AS "waId", e164, profile_name AS "profileName" FROM contacts WHERE id = $1`,
      [contactId],
    );
    return row ? { contactId, waId: row.waId, e164: row.e164, profileName: row.profileName ?? undefined } : null;
  }

  /** Appends an event; null when its dedupe key was recorded before (nothing is written then). */
  async insertEvent(manager: EntityManager, e: NewConsentEvent): Promise<ConsentEvent | null> {
    const rows: ConsentEvent[] = await manager.query(
      `INSERT INTO consent_events (contact_id, action, scope, source, evidence_message_id, evidence_text, actor, occurred_at, dedupe_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING ${EVENT_COLUMNS}`,
      [e.contactId, e.action, e.scope, e.source, e.evidenceMessageId ?? null, e.evidenceText ?? null, e.actor, e.occurredAt, e.dedupeKey ?? null],
    );
    return rows[0] ?? null;
  }

  async findByDedupeKey(dedupeKey: string): Promise<ConsentEvent | null> {
    const [row]: ConsentEvent[] = await this.dataSource.query(`SELECT ${EVENT_COLUMNS} FROM consent_events WHERE dedupe_key = $1`, [dedupeKey]);
    return row ?? null;
  }

  /** The current state of every scope: the latest event of each. */
  async state(contactId: string, manager: EntityManager = this.dataSource.manager): Promise<ConsentState> {
    const rows: { scope: ConsentScope; status: ConsentStatus; changedAt: Date; source: ConsentEvent['source']; eventId: string }[] = await manager.query(
      `SELECT DISTINCT ON (scope) scope, ${STATUS_OF_ACTION} AS status, occurred_at AS "changedAt", source, id AS "eventId"
       FROM consent_events WHERE contact_id = $1 ORDER BY scope, ${CURRENT_ORDER}`,
      [contactId],
    );
    const state: ConsentState = { marketing: UNKNOWN_STATE, transactional: UNKNOWN_STATE };
    for (const { scope, ...rest } of rows) state[scope] = rest;
    return state;
  }

  /** The whole ledger of a contact, in the order the consents were given. */
  async ledger(contactId: string): Promise<ConsentEvent[]> {
    return this.dataSource.query(`SELECT ${EVENT_COLUMNS} FROM consent_events WHERE contact_id = $1 ORDER BY occurred_at, seq`, [contactId]);
  }

  /**
   * Consent of both scopes and the start of the 24-hour window (the latest customer message to
   * `phoneNumberId`, over all of the contact's conversations with it; any number when absent).
   * Null when the contact does not exist.
   */
  async gateFacts(contactId: string, phoneNumberId?: string): Promise<GateFacts | null> {
    const latest = (scope: ConsentScope) =>
      `(SELECT ${STATUS_OF_ACTION} FROM consent_events e WHERE e.contact_id = k.id AND e.scope = '${scope}' ORDER BY ${CURRENT_ORDER} LIMIT 1)`;
    const [row]: { marketing: ConsentStatus | null; transactional: ConsentStatus | null; lastInboundAt: Date | null }[] = await this.dataSource.query(
      `SELECT ${latest('marketing')} AS marketing, ${latest('transactional')} AS transactional,
              (SELECT max(c.last_inbound_at) FROM conversations c
                WHERE c.contact_id = k.id AND ($2::text IS NULL OR c.phone_number_id = $2)) AS "lastInboundAt"
       FROM contacts k WHERE k.id = $1`,
      [contactId, phoneNumberId ?? null],
    );
    if (!row) return null;
    return { marketing: row.marketing ?? 'unknown', transactional: row.transactional ?? 'unknown', lastInboundAt: row.lastInboundAt };
  }

  /** Whether the sync engine still has messages of this contact to deliver to this connection. */
  async hasOpenCrmSync(connectionId: string, contactId: string): Promise<boolean> {
    const [row]: { open: boolean }[] = await this.dataSource.query(
      `SELECT EXISTS (
         SELECT 1 FROM outbox o JOIN conversations c ON c.id = o.conversation_id
         WHERE o.connection_id = $1 AND o.queue = '${QueueName.CrmSync}' AND o.status IN ('pending', 'running') AND c.contact_id = $2) AS open`,
      [connectionId, contactId],
    );
    return row.open;
  }

  /** A customer message by id, for recording the keyword it carries; null when it is gone (erased). */
  async keywordMessage(messageId: string): Promise<KeywordMessage | null> {
    const [row]: KeywordMessage[] = await this.dataSource.query(
      `SELECT id, wamid, contact_id AS "contactId", conversation_id AS "conversationId", body, wa_timestamp AS "waTimestamp"
       FROM messages WHERE id = $1 AND direction = 'inbound'`,
      [messageId],
    );
    return row ?? null;
  }

  /**
   * Erasure: the ledger is append-only for everything but this. Its evidence (the message text,
   * who recorded it) is personal data; what proves the erasure is the erasure request. Returns how
   * many events were deleted.
   */
  async eraseEventsOf(manager: EntityManager, contactId: string): Promise<number> {
    return returnedRows(await manager.query(`DELETE FROM consent_events WHERE contact_id = $1 RETURNING 1`, [contactId])).length;
  }
}
