import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { hasFacet, type CrmConnector, type FacetName, type WithFacet } from '../../connectors/_sdk/contract';
import { ConnectorError, type ConnectorErrorKind } from '../../connectors/_sdk/errors';
import { LOGGER } from '../common/logger';
import type { ConnectionEntity } from './entities/connection.entity';
import { ConnectionsService } from './connections.service';
import type { ResolvedConnection } from './connections.types';
import { ConnectorFactory } from './connector-factory';
import { decide, type SyncDecision } from './retry-policy';

/** A connector call that threw a ConnectorError, and what the retry policy made of it. */
export interface CallFailure {
  kind: ConnectorErrorKind;
  /** The error's message as the caller keeps it (see CallHooks.reason). */
  reason: string;
  decision: SyncDecision;
  error: ConnectorError;
  resolved: ResolvedConnection;
}

/** Why a connection cannot run now: its stored configuration cannot be used, it is switched off, or it is not active (new credentials needed, or disabled by the remote side). */
export type ParkedWhy = 'unusable' | 'disabled' | 'inactive';

/** What the guard says about a connection before any call. */
export type Guarded =
  | { outcome: 'ready'; resolved: ResolvedConnection }
  /** Not called: the connection cannot run now. */
  | { outcome: 'parked'; why: ParkedWhy; connection?: ConnectionEntity }
  /** Not called: the connection is paused (rate limit, backoff) until `at`. */
  | { outcome: 'retry'; at: Date };

/** How one connector call ended, after the retry policy (retry-policy.ts) was applied to a failure. */
export type CallOutcome<T> =
  /** The call returned `value`. */
  | { outcome: 'done'; value: T; resolved: ResolvedConnection }
  /**
   * The connection cannot run now: the guard refused it (`failure` absent), or the vendor refused
   * its credentials (the connection is marked needs_reauth), or asked not to be called any more
   * (`disabled_by_remote`: the connection's status is disabled). Fixing it releases the task at once.
   */
  | { outcome: 'parked'; why: ParkedWhy | 'needs_reauth' | 'disabled_by_remote'; connection?: ConnectionEntity; failure?: CallFailure }
  /** Not called: the connection's connector has not the facet (its settings switched it off). */
  | { outcome: 'unsupported'; resolved: ResolvedConnection }
  /**
   * Try again at `at`. Without `failure` nothing was called: the connection was paused until then.
   * `connectionPaused`: every call to the connection waits until `at`, not just this one.
   */
  | { outcome: 'retry'; at: Date; failure?: CallFailure; connectionPaused?: boolean }
  /** not_found, and the relink hook forgot the link: the next run finds or creates the remote object again. */
  | { outcome: 'relinked'; failure: CallFailure }
  /** Retrying cannot help (not_found without a relink, invalid_request, permanent). */
  | { outcome: 'dead'; failure: CallFailure }
  /** Would be dead, but the isolate hook took the batch item by item. */
  | { outcome: 'isolated'; failure: CallFailure };

/** What differs between the callers of a connector, around the one policy. */
export interface CallHooks {
  /**
   * The count the backoff grows with, including this call. Default: the connection's failures in
   * a row plus this one (a drain that pauses the whole connection); a task retried on its own
   * passes its attempts.
   */
  attempts?: number;
  /**
   * `connection` (default): a transient failure pauses every call to the connection, with the
   * reason as its last error. `call`: only this call waits; a rate limit still pauses the connection.
   */
  backoff?: 'connection' | 'call';
  /** The error's message as it is kept (as a reason, last error or receipt), e.g. scrubbed of phone numbers. */
  reason?: (error: ConnectorError) => string;
  /** On not_found: forget the link, so the next run re-finds or re-creates the remote object. Without it, not_found is dead. */
  relink?: () => Promise<void>;
  /** On a dead failure of a batch: take its items one by one, so only the bad one is set aside. */
  isolate?: () => Promise<void>;
  /** Fields for the log line of a failure (e.g. the reply or erasure it was for). */
  context?: Record<string, unknown>;
}

/**
 * The one path for calling a connector (DESIGN §3): resolve the connection → guard (enabled, active,
 * not paused) → create the connector, which must have the facet the call needs → call → a ConnectorError becomes an
 * outcome through the one retry policy (decide(), by error kind alone), and this path alone pauses
 * the connection, marks it needs_reauth, or relinks. Callers map the outcome to their task result.
 */
@Injectable()
export class ConnectorCalls {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly factory: ConnectorFactory,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The connection, if it may be called now: it resolves (its stored configuration can be used),
   * is enabled and active, and is not paused.
   */
  async guard(connectionId: string): Promise<Guarded> {
    const resolved = await this.connections.resolve(connectionId);
    if (!resolved) return { outcome: 'parked', why: 'unusable' };
    const { connection } = resolved;
    if (!connection.enabled) return { outcome: 'parked', why: 'disabled', connection };
    if (connection.status !== 'active') return { outcome: 'parked', why: 'inactive', connection };
    const retryAfter = connection.retryAfter;
    if (retryAfter && retryAfter.getTime() > Date.now()) return { outcome: 'retry', at: retryAfter };
    return { outcome: 'ready', resolved };
  }

  /** A connector for one job of a guarded connection (cheap: once per job). */
  create(resolved: ResolvedConnection): CrmConnector {
    return this.factory.create(resolved);
  }

  /**
   * Guard, create, call: the whole path for a task that uses one `facet` of the connector. `fn`
   * gets the connector with that facet present (the type says so); a connector without it (its
   * settings switched it off) is not called: `unsupported`.
   */
  async run<K extends FacetName, T>(
    connectionId: string,
    facet: K,
    fn: (connector: WithFacet<K>, resolved: ResolvedConnection) => Promise<T>,
    hooks: CallHooks = {},
  ): Promise<CallOutcome<T>> {
    const guarded = await this.guard(connectionId);
    if (guarded.outcome !== 'ready') return guarded;
    const { resolved } = guarded;
    const connector = this.create(resolved);
    if (!hasFacet(connector, facet)) return { outcome: 'unsupported', resolved };
    return this.call(resolved, () => fn(connector, resolved), hooks);
  }

  /**
   * One call of a guarded connection. Errors other than ConnectorError are not the vendor's
   * answer and propagate unchanged.
   */
  async call<T>(resolved: ResolvedConnection, fn: () => Promise<T>, hooks: CallHooks = {}): Promise<CallOutcome<T>> {
    try {
      return { outcome: 'done', value: await fn(), resolved };
    } catch (error) {
      if (!ConnectorError.is(error)) throw error;
      return this.onFailure(resolved, error, hooks);
    }
  }

  private async onFailure<T>(resolved: ResolvedConnection, error: ConnectorError, hooks: CallHooks): Promise<CallOutcome<T>> {
    const connectionId = resolved.connection.id;
    const reason = hooks.reason ? hooks.reason(error) : error.message;
    const decision = decide(error.kind, reason, hooks.attempts ?? resolved.connection.failureCount + 1, error.retryAfterMs);
    const failure: CallFailure = { kind: error.kind, reason, decision, error, resolved };
    // A caller that keeps the message scrubbed gets it logged scrubbed too, never the raw error.
    const detail = hooks.reason ? { reason } : { err: error };
    this.logger.warn({ connectionId, kind: error.kind, vendorStatus: error.vendorStatus, action: decision.action, ...detail, ...hooks.context }, 'connector call failed');
    switch (decision.action) {
      case 'pause_connection': {
        const rateLimited = error.kind === 'rate_limited';
        if ((hooks.backoff ?? 'connection') === 'connection') {
          // A vendor's rate limit is not an error of the connection: it is not its last error.
          const until = await this.connections.pause(connectionId, decision.delayMs, rateLimited ? undefined : decision.reason);
          return { outcome: 'retry', at: until, failure, connectionPaused: true };
        }
        if (rateLimited) await this.connections.pause(connectionId, decision.delayMs); // every call to this connection waits, not just this one
        return { outcome: 'retry', at: new Date(Date.now() + decision.delayMs), failure, connectionPaused: rateLimited };
      }
      case 'needs_reauth':
        await this.connections.markNeedsReauth(connectionId, decision.reason);
        return { outcome: 'parked', why: 'needs_reauth', connection: resolved.connection, failure };
      case 'disable_connection':
        await this.connections.markDisabledByRemote(connectionId, decision.reason);
        return { outcome: 'parked', why: 'disabled_by_remote', connection: { ...resolved.connection, status: 'disabled' }, failure };
      case 'relink':
        if (hooks.relink) {
          await hooks.relink();
          return { outcome: 'relinked', failure };
        }
        return this.dead(failure, hooks);
      case 'dead_letter':
        return this.dead(failure, hooks);
    }
  }

  private async dead<T>(failure: CallFailure, hooks: CallHooks): Promise<CallOutcome<T>> {
    if (!hooks.isolate) return { outcome: 'dead', failure };
    await hooks.isolate();
    return { outcome: 'isolated', failure };
  }
}
