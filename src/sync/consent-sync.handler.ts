import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { RemoteRef } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';
import { LOGGER } from '../common/logger';
import { ConnectionsService, type ResolvedConnection } from '../connections/connections.service';
import { ConnectorFactory } from '../connections/connector-factory';
import type { OutboxTaskEntity } from '../tasks/entities/outbox-task.entity';
import { decide } from '../connections/retry-policy';
import { QueueName } from '../tasks/queues';
import { SyncRepository } from './sync.repository';
import type { TaskHandler, TaskResult } from '../tasks/task-handler';
import { ConsentRepository } from '../consent/consent.repository';
import type { ConsentSyncPayload } from '../consent/consent.service';

/** A connection parked (disabled, needs new credentials) is looked at again this often; fixing it releases the task at once. */
const PARKED_RECHECK_MS = 60 * 60_000;
/** While the sync engine has yet to create this customer in the CRM, look again this often. */
const BUSY_RECHECK_MS = 2_000;
/** A remote contact that keeps disappearing is given up after this many attempts. */
const MAX_RELINKS = 3;

/**
 * Writes a contact's consent onto its record in one CRM (capability `consent`). The task carries
 * ids only: the state written is the ledger's current one when the task runs, so tasks that run
 * late or out of order still leave the CRM with the latest consent. Failures follow the sync
 * engine's policy by ConnectorError kind (retry-policy.ts).
 */
@Injectable()
export class ConsentSyncHandler implements TaskHandler {
  readonly queue = QueueName.ConsentSync;

  constructor(
    private readonly repo: ConsentRepository,
    private readonly links: SyncRepository,
    private readonly connections: ConnectionsService,
    private readonly factory: ConnectorFactory,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    const payload = task.payload as ConsentSyncPayload | null;
    if (!task.connectionId || !payload?.contactId || !payload.scope) return { outcome: 'dead', error: 'consent-sync task without a connection or contact' };
    const resolved = await this.connections.resolve(task.connectionId);
    if (!resolved || !resolved.connection.enabled || resolved.connection.status !== 'active') return later(PARKED_RECHECK_MS);
    const retryAfter = resolved.connection.retryAfter;
    if (retryAfter && retryAfter.getTime() > Date.now()) return { outcome: 'retry', at: retryAfter, refundAttempt: true };
    if (!resolved.capabilities.consent) return { outcome: 'done' }; // switched off in the connection's settings since

    const customer = await this.repo.customer(payload.contactId);
    if (!customer) return { outcome: 'done' }; // erased meanwhile
    const scopeState = (await this.repo.state(payload.contactId))[payload.scope];
    if (scopeState.status === 'unknown') return { outcome: 'done' };

    const connector = this.factory.create(resolved);
    try {
      const contact = await this.remoteContact(resolved.connection.id, payload.contactId, () => connector.ensureContact(customer));
      if (!contact) return later(BUSY_RECHECK_MS);
      await connector.recordConsent!(contact, {
        scope: payload.scope,
        optedIn: scopeState.status === 'opted_in',
        changedAt: new Date(scopeState.changedAt!),
        source: scopeState.source!,
      });
    } catch (error) {
      if (!(error instanceof ConnectorError)) throw error;
      return this.onConnectorError(task, resolved, payload.contactId, error);
    }
    await this.connections.recordSuccess(resolved.connection.id);
    return { outcome: 'done' };
  }

  /**
   * The customer's contact in the CRM: the link the sync engine stored, else found or created now.
   * While the sync engine still has this customer's messages to deliver to the connection, it is
   * the one that finds or creates the contact (null: try again shortly) — two creators at once
   * could leave the CRM with the customer twice.
   */
  private async remoteContact(connectionId: string, contactId: string, ensure: () => Promise<RemoteRef>): Promise<RemoteRef | null> {
    const link = (await this.links.links(connectionId, 'contact', [contactId])).get(contactId);
    if (link) return { id: link.id, type: link.type, url: link.url };
    if (await this.repo.hasOpenCrmSync(connectionId, contactId)) return null;
    const remote = await ensure();
    await this.links.saveLinks(connectionId, [{ type: 'contact', localId: contactId, remote }]);
    return remote;
  }

  private async onConnectorError(task: OutboxTaskEntity, resolved: ResolvedConnection, contactId: string, error: ConnectorError): Promise<TaskResult> {
    const connectionId = resolved.connection.id;
    const decision = decide(error.kind, error.message, resolved.connection.failureCount + 1, error.retryAfterMs);
    this.logger.warn({ connectionId, kind: error.kind, vendorStatus: error.vendorStatus, action: decision.action }, 'consent sync failed');
    switch (decision.action) {
      case 'pause_connection': {
        const until = await this.connections.pause(connectionId, decision.delayMs, error.kind === 'rate_limited' ? undefined : decision.reason);
        return { outcome: 'retry', at: until, error: decision.reason, refundAttempt: error.kind === 'rate_limited' };
      }
      case 'needs_reauth':
        // Released at once when an operator fixes the credentials (ConnectionsService).
        await this.connections.markNeedsReauth(connectionId, decision.reason);
        return later(PARKED_RECHECK_MS, decision.reason);
      case 'relink':
        // The remote contact is gone (merged, deleted in the CRM): forget the link and find or create it again.
        if (task.attempts >= MAX_RELINKS) return { outcome: 'dead', error: decision.reason };
        await this.links.dropLinks(connectionId, 'contact', [contactId]);
        return { outcome: 'retry', at: new Date(), error: decision.reason };
      case 'dead_letter':
        return { outcome: 'dead', error: decision.reason };
    }
  }
}

function later(ms: number, error?: string): TaskResult {
  return { outcome: 'retry', at: new Date(Date.now() + ms), error, refundAttempt: true };
}
