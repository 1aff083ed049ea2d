import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { RemoteRef } from '../../connectors/_sdk/contract';
import type { StoredMedia } from '../conversations/entities/message.entity';
import { returnedRows } from '../database/query-result';
import type { ErasedCounts } from './entities/erasure-request.entity';
import type { ErasureReceiptEntity, ReceiptStatus, ReceiptTarget } from './entities/erasure-receipt.entity';
import type { ErasureRequestEntity } from './entities/erasure-request.entity';

export interface ContactRow {
  id: string;
  waId: string;
  e164: string;
  profileName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConversationRow {
  id: string;
  phoneNumberId: string;
  displayPhoneNumber: string | null;
  status: string;
  openedAt: Date;
  lastMessageAt: Date | null;
  lastInboundAt: Date | null;
  firstResponseAt: Date | null;
  resolvedAt: Date | null;
  closedAt: Date | null;
  createdAt: Date;
}

export interface MessageRow {
  id: string;
  conversationId: string;
  wamid: string;
  direction: string;
  type: string;
  body: string | null;
  content: unknown;
  media: StoredMedia | null;
  mediaStatus: string;
  context: unknown;
  referral: unknown;
  errors: unknown;
  forwarded: boolean;
  waTimestamp: Date;
  status: string;
  statusAt: Date | null;
  errorCode: number | null;
  errorTitle: string | null;
  origin: string;
  author: string | null;
  createdAt: Date;
}

export interface StatusEventRow {
  wamid: string;
  status: string;
  occurredAt: Date;
  errors: unknown;
}

export interface LinkRow {
  connectionId: string;
  connectionName: string;
  connectorId: string;
  entityType: string;
  localId: string;
  remoteId: string;
  remoteType: string;
  remoteUrl: string | null;
  createdAt: Date;
}

/** What an erasure must know about a customer's rows before it deletes them. */
export interface ErasureInventory {
  messages: number;
  conversations: number;
  /** Media files of the customer's messages (keys in the media store). */
  storageKeys: string[];
}

export interface NewReceipt {
  target: ReceiptTarget;
  targetName: string;
  connectionId: string | null;
  connectorId: string | null;
  status: ReceiptStatus;
  detail: string | null;
}

const RECEIPT_COLUMNS = `id, erasure_id AS "erasureId", target, target_name AS "targetName", connection_id AS "connectionId",
  connector_id AS "connectorId", status, detail, attempts, created_at AS "createdAt", updated_at AS "updatedAt", completed_at AS "completedAt"`;

/** Local objects of a customer that remote links point from: the contact, its conversations, its messages. */
const LOCAL_IDS_OF_CONTACT = `(SELECT $1::uuid UNION ALL SELECT id FROM conversations WHERE contact_id = $1 UNION ALL SELECT id FROM messages WHERE contact_id = $1)`;

/** Queries of the export, the erasure and its receipts. The rules live in the services. */
@Injectable()
export class PrivacyRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  // ---------------------------------------------------------------------------------------------
  // Export

  async findContact(id: string, manager: EntityManager = this.dataSource.manager, forUpdate = false): Promise<ContactRow | null> {
    const rows: ContactRow[] = await manager.query(
      `SELECT id, wa_id AS "waId", e164, profile_name AS "profileName", created_at AS "createdAt", updated_at AS "updatedAt"
       FROM contacts WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ?? null;
  }

  async conversationsOf(contactId: string): Promise<ConversationRow[]> {
    return this.dataSource.query(
      `SELECT id, phone_number_id AS "phoneNumberId", display_phone_number AS "displayPhoneNumber", status, opened_at AS "openedAt",
              last_message_at AS "lastMessageAt", last_inbound_at AS "lastInboundAt", first_response_at AS "firstResponseAt",
              resolved_at AS "resolvedAt", closed_at AS "closedAt", created_at AS "createdAt"
       FROM conversations WHERE contact_id = $1 ORDER BY opened_at, id`,
      [contactId],
    );
  }

  /** Every message of the customer, per conversation in WhatsApp order (ties broken by arrival). */
  async messagesOf(contactId: string): Promise<MessageRow[]> {
    return this.dataSource.query(
      `SELECT id, conversation_id AS "conversationId", wamid, direction, type, body, content, media, media_status AS "mediaStatus",
              context, referral, errors, forwarded, wa_timestamp AS "waTimestamp", status, status_at AS "statusAt",
              error_code AS "errorCode", error_title AS "errorTitle", origin, author, created_at AS "createdAt"
       FROM messages WHERE contact_id = $1 ORDER BY conversation_id, wa_timestamp, seq`,
      [contactId],
    );
  }

  /** Delivery statuses Meta reported for the customer's messages, oldest first. */
  async statusEventsOf(contactId: string): Promise<StatusEventRow[]> {
    return this.dataSource.query(
      `SELECT e.wamid, e.status, e.occurred_at AS "occurredAt", e.errors
       FROM message_status_events e JOIN messages m ON m.wamid = e.wamid
       WHERE m.contact_id = $1 ORDER BY e.occurred_at, e.status`,
      [contactId],
    );
  }

  /** Which CRM object holds which of the customer's objects, per connection. */
  async linksOf(contactId: string): Promise<LinkRow[]> {
    return this.dataSource.query(
      `SELECT l.connection_id AS "connectionId", c.name AS "connectionName", c.connector_id AS "connectorId", l.entity_type AS "entityType",
              l.local_id AS "localId", l.remote_id AS "remoteId", l.remote_type AS "remoteType", l.remote_url AS "remoteUrl", l.created_at AS "createdAt"
       FROM remote_links l JOIN connections c ON c.id = l.connection_id
       WHERE l.local_id IN ${LOCAL_IDS_OF_CONTACT}
       ORDER BY c.name, l.entity_type, l.created_at`,
      [contactId],
    );
  }

  /** The customer's consent ledger, oldest first (as given, then as recorded). */
  async consentEventsOf(contactId: string): Promise<Record<string, unknown>[]> {
    return this.dataSource.query(
      `SELECT id, action, scope, source, evidence_message_id AS "evidenceMessageId", evidence_text AS "evidenceText", actor,
              occurred_at AS "occurredAt", recorded_at AS "recordedAt"
       FROM consent_events WHERE contact_id = $1 ORDER BY occurred_at, seq`,
      [contactId],
    );
  }

  async findMessageMedia(messageId: string): Promise<{ media: StoredMedia | null; mediaStatus: string } | null> {
    const rows = await this.dataSource.query(`SELECT media, media_status AS "mediaStatus" FROM messages WHERE id = $1`, [messageId]);
    return rows[0] ?? null;
  }

  // ---------------------------------------------------------------------------------------------
  // Erasure (inside the caller's transaction)

  /** The contact's remote contact per connection (connection id → remote ref). */
  async contactLinks(manager: EntityManager, contactId: string): Promise<Map<string, RemoteRef>> {
    const rows: { connectionId: string; id: string; type: string; url: string | null }[] = await manager.query(
      `SELECT connection_id AS "connectionId", remote_id AS id, remote_type AS type, remote_url AS url
       FROM remote_links WHERE entity_type = 'contact' AND local_id = $1`,
      [contactId],
    );
    return new Map(rows.map((r) => [r.connectionId, { id: r.id, type: r.type, ...(r.url ? { url: r.url } : {}) }]));
  }

  async inventory(manager: EntityManager, contactId: string): Promise<ErasureInventory> {
    const [row]: { messages: number; conversations: number; keys: string[] | null }[] = await manager.query(
      `SELECT (SELECT count(*)::int FROM messages WHERE contact_id = $1) AS messages,
              (SELECT count(*)::int FROM conversations WHERE contact_id = $1) AS conversations,
              (SELECT array_agg(DISTINCT media->>'storageKey') FROM messages WHERE contact_id = $1 AND media->>'storageKey' IS NOT NULL) AS keys`,
      [contactId],
    );
    return { messages: row.messages, conversations: row.conversations, storageKeys: row.keys ?? [] };
  }

  async insertErasureRequest(manager: EntityManager, contactId: string, erased: ErasedCounts): Promise<string> {
    const [row]: { id: string }[] = await manager.query(`INSERT INTO erasure_requests (contact_id, erased) VALUES ($1, $2::jsonb) RETURNING id`, [
      contactId,
      JSON.stringify(erased),
    ]);
    return row.id;
  }

  async insertReceipts(manager: EntityManager, erasureId: string, receipts: NewReceipt[]): Promise<ErasureReceiptEntity[]> {
    const inserted: ErasureReceiptEntity[] = [];
    for (const r of receipts) {
      const settled = r.status !== 'pending';
      const [row]: ErasureReceiptEntity[] = await manager.query(
        `INSERT INTO erasure_receipts (erasure_id, target, target_name, connection_id, connector_id, status, detail, completed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END) RETURNING ${RECEIPT_COLUMNS}`,
        [erasureId, r.target, r.targetName, r.connectionId, r.connectorId, r.status, r.detail, settled],
      );
      inserted.push(row);
    }
    return inserted;
  }

  /**
   * Records the sha256 of every wamid of the customer, so tb_ingest_inbound (and delivery
   * statuses) never bring these messages back. Returns how many.
   */
  async tombstoneMessages(manager: EntityManager, contactId: string): Promise<number> {
    const rows = returnedRows(
      await manager.query(
        `INSERT INTO erased_messages (wamid_sha256)
         SELECT sha256(convert_to(wamid, 'UTF8')) FROM messages WHERE contact_id = $1
         ON CONFLICT (wamid_sha256) DO NOTHING RETURNING 1`,
        [contactId],
      ),
    );
    return rows.length;
  }

  /** Of these media files, those no remaining message refers to (safe to delete from the store). */
  async unreferencedMediaKeys(keys: string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows: { key: string }[] = await this.dataSource.query(
      `SELECT k AS key FROM unnest($1::text[]) AS k WHERE NOT EXISTS (SELECT 1 FROM messages WHERE media->>'storageKey' = k)`,
      [keys],
    );
    return rows.map((r) => r.key);
  }

  // ---------------------------------------------------------------------------------------------
  // Receipts

  /** Marks an erasure complete (every system has answered). */
  async markComplete(manager: EntityManager, erasureId: string): Promise<void> {
    await manager.query(`UPDATE erasure_requests SET completed_at = COALESCE(completed_at, now()) WHERE id = $1`, [erasureId]);
  }

  async findErasure(id: string): Promise<ErasureRequestEntity | null> {
    const rows: ErasureRequestEntity[] = await this.dataSource.query(
      `SELECT id, contact_id AS "contactId", erased, requested_at AS "requestedAt", completed_at AS "completedAt" FROM erasure_requests WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  async receiptsOf(erasureId: string): Promise<ErasureReceiptEntity[]> {
    return this.dataSource.query(`SELECT ${RECEIPT_COLUMNS} FROM erasure_receipts WHERE erasure_id = $1 ORDER BY target DESC, created_at, target_name`, [
      erasureId,
    ]);
  }

  async findReceipt(id: string): Promise<ErasureReceiptEntity | null> {
    const rows: ErasureReceiptEntity[] = await this.dataSource.query(`SELECT ${RECEIPT_COLUMNS} FROM erasure_receipts WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /**
   * Writes a receipt's outcome (`countAttempt`: a call was made). When no receipt of its erasure
   * is pending any more, the erasure is marked complete in the same statement's transaction.
   */
  async updateReceipt(id: string, status: ReceiptStatus, detail: string | null, countAttempt: boolean): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const rows = returnedRows<{ erasureId: string }>(
        await manager.query(
          `UPDATE erasure_receipts SET status = $2, detail = $3, attempts = attempts + $4::int, updated_at = now(),
             completed_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
           WHERE id = $1 RETURNING erasure_id AS "erasureId"`,
          [id, status, detail, countAttempt ? 1 : 0],
        ),
      );
      if (!rows[0]) return;
      await manager.query(
        `UPDATE erasure_requests SET completed_at = CASE
             WHEN EXISTS (SELECT 1 FROM erasure_receipts WHERE erasure_id = $1 AND status = 'pending') THEN NULL
             ELSE COALESCE(completed_at, now()) END
         WHERE id = $1`,
        [rows[0].erasureId],
      );
    });
  }

  /** A contact link written after the local erasure (by a sync that was already running). */
  async lateContactLink(connectionId: string, contactId: string): Promise<RemoteRef | null> {
    return (await this.contactLinks(this.dataSource.manager, contactId)).get(connectionId) ?? null;
  }



  /**
   * Whether a sync of this connection is running right now: the sync engine holds the
   * connection's 'drain' lease (crm-sync.service.ts) for as long as one runs.
   */
  async syncRunning(connectionId: string): Promise<boolean> {
    const [row] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM sync_leases WHERE connection_id = $1 AND scope = 'drain' AND expires_at > now()) AS running`,
      [connectionId],
    );
    return row.running === true;
  }


}
