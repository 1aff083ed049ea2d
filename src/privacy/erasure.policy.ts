import type { ConnectorErrorKind } from '../../connectors/_sdk/errors';
import { decide, PARKED_RECHECK_MS, type SyncDecision } from '../connections/retry-policy';
import type { ReceiptStatus } from './entities/erasure-receipt.entity';

/** Pure rules of the erasure fan-out: what a receipt says, and what a vendor failure means for it. */

/** A receipt waiting for new credentials (or a re-enabled connection) is looked at again this often. */
export { PARKED_RECHECK_MS };

/** How long an erasure waits for a sync of the same connection that was running when it started. */
export const SYNC_SETTLE_WAIT_MS = 2_000;

/** At most this long from the erasure's start (what two leases of the old default, 120 s, came to). */
export const SYNC_SETTLE_MAX_MS = 4 * 60_000;

export type ErasureStatus = 'pending' | 'done' | 'incomplete';

/**
 * The erasure as a whole: pending while any system has not answered; done when every system
 * erased the customer or held nothing; incomplete when one failed for good (see its receipt).
 */
export function erasureStatus(receipts: { status: ReceiptStatus }[]): ErasureStatus {
  if (receipts.some((r) => r.status === 'pending')) return 'pending';
  if (receipts.some((r) => r.status === 'failed')) return 'incomplete';
  return 'done';
}

/** The receipt of a connection threadbridge never synced this customer to. */
export function neverSyncedDetail(connectionName: string): string {
  return `no record of this customer was synced to ${connectionName}`;
}

/** The receipt of a connection that holds the customer but cannot erase (no erasure capability). */
export function cannotEraseDetail(connectionName: string, remote: { id: string; type: string; url?: string }): string {
  const where = remote.url ? ` (${remote.url})` : '';
  return `${connectionName} cannot erase through threadbridge: delete ${remote.type} ${remote.id}${where} there by hand`;
}

/** What a failed erasure call means for the receipt and the task. */
export type ErasureFailurePlan =
  /** Try again in `retryInMs`; `pauseConnectionMs`: the vendor asked every caller to wait. */
  | { receipt: 'pending'; detail: string; retryInMs: number; pauseConnectionMs?: number; needsReauth?: boolean }
  /** The remote contact is gone already: nothing left to erase there. */
  | { receipt: 'not_found'; detail: string }
  /** Retrying cannot help: the receipt says why, the task becomes a dead letter (replayable). */
  | { receipt: 'failed'; detail: string };

/**
 * Applies the sync engine's retry policy (retry-policy.ts, by error kind alone) to an erasure:
 * transient/conflict → back off and retry; rate_limited → the vendor's delay for the whole
 * connection; auth → the connection needs new credentials and the receipt stays pending until
 * then; not_found → the vendor no longer holds the contact; invalid_request/permanent → failed.
 * @param attempts calls made for this receipt so far, including this one
 */
export function planForFailure(kind: ConnectorErrorKind, message: string, attempts: number, connectionName: string, retryAfterMs?: number, random = Math.random): ErasureFailurePlan {
  return receiptPlan(kind, decide(kind, message, attempts, retryAfterMs, random), connectionName);
}

/** What the retry policy's decision about a failed erasure call (ConnectorCalls applied it) means for the receipt. */
export function receiptPlan(kind: ConnectorErrorKind, decision: SyncDecision, connectionName: string): ErasureFailurePlan {
  switch (decision.action) {
    case 'pause_connection':
      return {
        receipt: 'pending',
        detail: `${connectionName} could not be reached (${decision.reason}); trying again`,
        retryInMs: decision.delayMs,
        ...(kind === 'rate_limited' ? { pauseConnectionMs: decision.delayMs } : {}),
      };
    case 'needs_reauth':
      return { receipt: 'pending', detail: `waiting for new credentials for ${connectionName}: ${decision.reason}`, retryInMs: PARKED_RECHECK_MS, needsReauth: true };
    case 'disable_connection':
      return { receipt: 'pending', detail: `waiting: ${connectionName} asked not to be called any more (${decision.reason}); the erasure runs when it is enabled again`, retryInMs: PARKED_RECHECK_MS };
    case 'relink':
      return { receipt: 'not_found', detail: `${connectionName} no longer holds this contact (${decision.reason})` };
    case 'dead_letter':
      return { receipt: 'failed', detail: `${connectionName} refused the erasure: ${decision.reason}` };
  }
}

/** A connection as the erasure sees it when it is requested. */
export interface ConnectionForErasure {
  id: string;
  name: string;
  connectorId: string;
  /** The connector (with this connection's settings) declares `erasure`. */
  canErase: boolean;
}

export interface PlannedReceipt {
  connection: ConnectionForErasure;
  status: 'pending' | 'failed';
  detail: string | null;
  /** The remote contact to erase, when this connection's link names one. */
  remote?: { id: string; type: string; url?: string };
}

/**
 * One receipt per connection that can erase (pending: a task will reach it, even without a
 * link, since a sync running meanwhile may still create one), and one per connection that holds
 * the customer but cannot erase (failed, with what to delete by hand). Connections that cannot
 * erase and never held the customer get none.
 */
export function plannedReceipts(connections: ConnectionForErasure[], links: ReadonlyMap<string, { id: string; type: string; url?: string }>): PlannedReceipt[] {
  const planned: PlannedReceipt[] = [];
  for (const connection of connections) {
    const remote = links.get(connection.id);
    if (connection.canErase) planned.push({ connection, status: 'pending', detail: null, ...(remote ? { remote } : {}) });
    else if (remote) planned.push({ connection, status: 'failed', detail: cannotEraseDetail(connection.name, remote), remote });
  }
  return planned;
}
