import type { ConnectorErrorKind } from '../../connectors/_sdk/errors';
import { backoffDelayMs } from '../tasks/backoff';

/** What the sync engine does about a connector failure. Decided by the error kind alone. */
export type SyncDecision =
  /** Stop calling this connection until `delayMs` has passed (every worker honours it). */
  | { action: 'pause_connection'; delayMs: number; reason: string }
  /** Credentials were refused: the connection waits for new ones; its work is kept. */
  | { action: 'needs_reauth'; reason: string }
  /** The remote side asked not to be called any more: the connection is disabled until an operator enables it again; its work is kept. */
  | { action: 'disable_connection'; reason: string }
  /** The remote object we linked to is gone: forget the link and create it again. */
  | { action: 'relink'; reason: string }
  /** This item cannot succeed as it is: dead letter (after isolating it from its batch). */
  | { action: 'dead_letter'; reason: string };

const DEFAULT_RATE_LIMIT_DELAY_MS = 10_000;

/**
 * A task of a connection that cannot run now (disabled, waiting for new credentials) is looked at
 * again this often; fixing the connection releases its tasks at once (ConnectionsService).
 */
export const PARKED_RECHECK_MS = 60 * 60_000;

/**
 * The retry policy, by ConnectorError kind only (connectors never decide it):
 * transient → full-jitter backoff on the whole connection; rate_limited → the vendor's delay;
 * auth → needs_reauth; disabled → the connection disabled; not_found → relink; invalid_request/permanent → dead letter.
 * @param consecutiveFailures failures of this connection in a row, including this one
 */
export function decide(kind: ConnectorErrorKind, message: string, consecutiveFailures: number, retryAfterMs?: number, random = Math.random): SyncDecision {
  switch (kind) {
    case 'rate_limited':
      return { action: 'pause_connection', delayMs: retryAfterMs ?? DEFAULT_RATE_LIMIT_DELAY_MS, reason: message };
    case 'transient':
    case 'conflict': // a concurrent change on the vendor's side: trying again resolves it
      return { action: 'pause_connection', delayMs: Math.max(200, backoffDelayMs(consecutiveFailures, 1000, 5 * 60_000, random)), reason: message };
    case 'auth':
      return { action: 'needs_reauth', reason: message };
    case 'disabled':
      return { action: 'disable_connection', reason: message };
    case 'not_found':
      return { action: 'relink', reason: message };
    case 'invalid_request':
    case 'permanent':
      return { action: 'dead_letter', reason: message };
  }
}
