import type { MaybeCreatedReconciliation } from '../../connectors/_sdk/contract';
import { byWhatsAppOrder } from './sync.mapper';
import type { SyncRow } from './sync.repository';

/** A message whose media is still downloading waits this long before syncing without the file. */
export const MEDIA_WAIT_MS = 5 * 60_000;
/** A connector's quiet period (TimelineFacet.quietPeriodMs) never holds a message longer than this. */
export const MAX_QUIET_HOLD_MS = 30_000;

/** What may hold a connection's messages back, from its connector. */
export interface HoldRules {
  /** TimelineFacet.quietPeriodMs (0: none). */
  quietPeriodMs: number;
  /** TimelineFacet.reconcile; absent counts as a consistent read (no hold). */
  reconcile?: MaybeCreatedReconciliation;
}

/**
 * Message rows that can go now, in WhatsApp order per conversation, and the earliest time one
 * held back for a known time may go (`heldUntil`).
 * - A message whose media is still downloading holds back the rest of its conversation (order
 *   first), for MEDIA_WAIT_MS.
 * - With a quiet period, a conversation whose latest message arrived less than that ago waits (at
 *   most MAX_QUIET_HOLD_MS from its first waiting message), so a burst goes in one call.
 * - For a connector that finds maybe-created messages through a lagging search, a message handed
 *   to it before (outbox.dispatched_at, stamped at every attempt) waits until `indexLagMs` after
 *   that attempt, and the rest of its conversation with it: retried sooner, the search could miss
 *   what the attempt wrote and the message would be created twice.
 */
export function readyMessages(rows: SyncRow[], rules: HoldRules, now: number): { ready: SyncRow[]; heldUntil?: number } {
  const byConversation = new Map<string, SyncRow[]>();
  for (const r of rows) byConversation.set(r.conversationId, [...(byConversation.get(r.conversationId) ?? []), r]);
  const lagMs = rules.reconcile?.maybeCreated === 'search' ? rules.reconcile.indexLagMs : 0;
  const ready: SyncRow[] = [];
  let heldUntil: number | undefined;
  const holdUntil = (at: number): void => {
    heldUntil = Math.min(heldUntil ?? Infinity, at);
  };
  for (const list of byConversation.values()) {
    if (rules.quietPeriodMs > 0) {
      const arrivals = list.map((r) => new Date(r.messageCreatedAt!).getTime());
      const goesAt = Math.min(Math.max(...arrivals) + rules.quietPeriodMs, Math.min(...arrivals) + MAX_QUIET_HOLD_MS);
      if (goesAt > now) {
        holdUntil(goesAt);
        continue;
      }
    }
    for (const r of list.sort(byWhatsAppOrder)) {
      if (r.mediaStatus === 'pending' && now - new Date(r.messageCreatedAt!).getTime() < MEDIA_WAIT_MS) break;
      const searchableAt = r.dispatchedAt && lagMs > 0 ? new Date(r.dispatchedAt).getTime() + lagMs : 0;
      if (searchableAt > now) {
        holdUntil(searchableAt);
        break;
      }
      ready.push(r);
    }
  }
  return { ready, heldUntil };
}
