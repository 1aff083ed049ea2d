import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Customer, ErasureReceipt, RemoteRef } from '../../connectors/_sdk/contract';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import { redactText } from '../common/redaction';
import { type CallFailure, type CallOutcome, ConnectorCalls } from '../connections/connector-calls';
import { SyncRepository } from '../sync/sync.repository';
import { OutboxRepository } from '../tasks/outbox.repository';
import type { ReceiptStatus } from './entities/erasure-receipt.entity';
import { neverSyncedDetail, PARKED_RECHECK_MS, receiptPlan, SYNC_SETTLE_MAX_MS, SYNC_SETTLE_WAIT_MS } from './erasure.policy';
import { PrivacyRepository } from './privacy.repository';
import type { EraseContactPayload } from './privacy.types';

/** How one run of an erasure task ended. */
export type RemoteErasureOutcome =
  /** The receipt is settled (done or not_found), or there is nothing left to do. */
  | { outcome: 'settled' }
  /** Run again at `at`. `waited`: no call was made (the connection was paused, parked or busy). */
  | { outcome: 'retry'; at: Date; waited: boolean; reason?: string }
  /** The vendor refused for good: the receipt says why. */
  | { outcome: 'failed'; reason: string };

export interface EraseContactTask {
  id: string;
  connectionId: string | null;
  payload: Record<string, unknown> | null;
  /** Runs of this task so far, including this one. */
  attempts: number;
  createdAt: Date;
}

/**
 * Erases one customer from one connection (an erasure task of queue `privacy`) and writes the
 * outcome on that connection's receipt. Never creates anything remotely: without a link to a
 * remote contact the receipt says the customer was never synced there.
 */
@Injectable()
export class RemoteErasureService {
  /** A sync that was running when the erasure started is waited for at most this long. */
  private readonly settleMaxMs: number;

  constructor(
    private readonly repo: PrivacyRepository,
    private readonly links: SyncRepository,
    private readonly outbox: OutboxRepository,
    private readonly calls: ConnectorCalls,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // Drains renew their lease while they run, so the lease no longer bounds how long one lasts.
    this.settleMaxMs = Math.max(2 * config.queue.leaseMs, SYNC_SETTLE_MAX_MS);
  }

  /**
   * Runs one erasure task: guards (receipt still pending, connection usable, not paused), then
   * the connector's erasure facet for the remote contact the task captured (and any link a sync
   * running at erasure time wrote afterwards), then the receipt. Vendor failures follow the retry
   * policy by error kind (erasure.policy.ts).
   */
  async run(task: EraseContactTask): Promise<RemoteErasureOutcome> {
    const p = task.payload as unknown as EraseContactPayload | null;
    if (!p?.receiptId || !task.connectionId) return { outcome: 'failed', reason: 'erasure task without its receipt or connection' };
    const connectionId = task.connectionId;
    const receipt = await this.repo.findReceipt(p.receiptId);
    if (!receipt || receipt.status === 'done' || receipt.status === 'not_found') return { outcome: 'settled' };
    const name = p.connectionName;

    const result = await this.calls.run(
      connectionId,
      'erasure',
      async (connector): Promise<'settling' | 'never_synced' | ErasureReceipt[]> => {
        // A sync that started before the local erasure may still be creating the contact remotely;
        // once it has finished, its link (if any) is below and gets erased too.
        if ((await this.repo.syncRunning(connectionId)) && Date.now() - new Date(task.createdAt).getTime() < this.settleMaxMs) return 'settling';
        const refs = distinctRefs([p.remote, (await this.repo.lateContactLink(connectionId, p.contactId)) ?? undefined]);
        if (refs.length === 0) return 'never_synced';
        const customer: Customer = p.customer ?? { contactId: p.contactId, waId: '', e164: '' };
        return connector.erasure.erase(refs.map((contact) => ({ contact, customer })));
      },
      {
        attempts: task.attempts,
        // Only this erasure backs off on a transient failure; a rate limit pauses the whole connection.
        backoff: 'call',
        // A vendor's message may quote the customer's number: the receipt is kept, so scrub it.
        reason: (error) => redactText(error.message),
        context: { erasureId: p.erasureId },
      },
    );
    if (result.outcome !== 'done') return this.notErased(task, p, result);
    if (result.value === 'settling') return { outcome: 'retry', at: new Date(Date.now() + SYNC_SETTLE_WAIT_MS), waited: true };
    if (result.value === 'never_synced') return this.settle(task, p, 'not_found', neverSyncedDetail(name), false);
    const done = result.value.some((r) => r.outcome === 'done');
    const detail = result.value.map((r) => r.detail).filter(Boolean).join('; ') || (done ? `erased from ${name}` : `${name} held no such contact`);
    return this.settle(task, p, done ? 'done' : 'not_found', detail, true);
  }

  /** The guard refused the connection, or the vendor failed: the receipt says what happens next. */
  private async notErased(task: EraseContactTask, p: EraseContactPayload, result: Exclude<CallOutcome<unknown>, { outcome: 'done' }>): Promise<RemoteErasureOutcome> {
    const name = p.connectionName;
    switch (result.outcome) {
      case 'unsupported':
        return this.settle(task, p, 'failed', `${name} cannot erase any more (its settings switched erasure off): delete the customer there by hand`, false);
      case 'retry':
        return result.failure ? this.failed(task, p, result.failure) : { outcome: 'retry', at: result.at, waited: true };
      case 'parked':
        if (result.failure) return this.failed(task, p, result.failure);
        if (result.why === 'unusable') return this.park(p, `waiting: the stored configuration of ${name} cannot be used; fix the connection and the erasure runs`);
        if (result.why === 'disabled' || result.connection?.status === 'disabled') return this.park(p, `waiting: ${name} is disabled; the erasure runs when it is enabled again`);
        return this.park(p, `waiting for new credentials for ${name}: ${redactText(result.connection?.lastError ?? 'the vendor refused them')}`);
      case 'relinked':
      case 'dead':
      case 'isolated':
        return this.failed(task, p, result.failure);
    }
  }

  /**
   * A failed call, as the retry policy decided it (erasure.policy.ts): not_found and refusals settle
   * the receipt; otherwise it stays pending (ConnectorCalls paused the connection on a rate limit,
   * or marked it needs_reauth) and the task runs again.
   */
  private async failed(task: EraseContactTask, p: EraseContactPayload, failure: CallFailure): Promise<RemoteErasureOutcome> {
    const plan = receiptPlan(failure.kind, failure.decision, p.connectionName);
    if (plan.receipt !== 'pending') return this.settle(task, p, plan.receipt, plan.detail, true);
    await this.repo.updateReceipt(p.receiptId, 'pending', plan.detail, true);
    return { outcome: 'retry', at: new Date(Date.now() + plan.retryInMs), waited: false, reason: plan.detail };
  }

  /** The connection cannot run now; it is released at once when fixed or re-enabled (ConnectionsService). */
  private async park(p: EraseContactPayload, detail: string): Promise<RemoteErasureOutcome> {
    await this.repo.updateReceipt(p.receiptId, 'pending', detail, false);
    return { outcome: 'retry', at: new Date(Date.now() + PARKED_RECHECK_MS), waited: true };
  }

  /**
   * Writes the final receipt. Done or not found: the customer's identifiers leave the task, and
   * links a late sync wrote go. Failed: the task keeps them, so a dead-letter replay can try again.
   */
  private async settle(task: EraseContactTask, p: EraseContactPayload, status: Exclude<ReceiptStatus, 'pending'>, detail: string, called: boolean): Promise<RemoteErasureOutcome> {
    await this.repo.updateReceipt(p.receiptId, status, detail, called);
    this.logger.info({ erasureId: p.erasureId, connectionId: task.connectionId, outcome: status }, 'remote erasure settled');
    if (status === 'failed') return { outcome: 'failed', reason: detail };
    if (task.connectionId) await this.links.dropContactLinks(task.connectionId, p.contactId);
    await this.outbox.scrubCustomerFromPayload(task.id);
    return { outcome: 'settled' };
  }
}

function distinctRefs(refs: (RemoteRef | undefined)[]): RemoteRef[] {
  const seen = new Set<string>();
  return refs.filter((r): r is RemoteRef => {
    if (!r || seen.has(r.id)) return false;
    seen.add(r.id);
    return true;
  });
}
