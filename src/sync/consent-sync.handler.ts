import { Injectable } from '@nestjs/common';
import type { RemoteRef } from '../../connectors/_sdk/contract';
import { ConnectionsService } from '../connections/connections.service';
import { ConnectorCalls } from '../connections/connector-calls';
import { PARKED_RECHECK_MS } from '../connections/retry-policy';
import type { OutboxTaskEntity } from '../tasks/entities/outbox-task.entity';
import { QueueName } from '../tasks/queues';
import { SyncRepository } from './sync.repository';
import { later, type TaskHandler, type TaskResult } from '../tasks/task-handler';
import { ConsentRepository } from '../consent/consent.repository';
import type { ConsentSyncPayload } from '../consent/consent.service';

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
    private readonly calls: ConnectorCalls,
  ) {}

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    const payload = task.payload as ConsentSyncPayload | null;
    if (!task.connectionId || !payload?.contactId || !payload.scope) return { outcome: 'dead', error: 'consent-sync task without a connection or contact' };
    const { contactId, scope } = payload;
    const connectionId = task.connectionId;
    const result = await this.calls.run(
      connectionId,
      'consent',
      async (connector): Promise<'done' | 'busy' | 'recorded'> => {
        const customer = await this.repo.customer(contactId);
        if (!customer) return 'done'; // erased meanwhile
        const scopeState = (await this.repo.state(contactId))[scope];
        if (scopeState.status === 'unknown') return 'done';
        const contact = await this.remoteContact(connectionId, contactId, async () => (await connector.contacts.ensure([{ customer }]))[0]);
        if (!contact) return 'busy';
        const consent = { scope, optedIn: scopeState.status === 'opted_in', changedAt: new Date(scopeState.changedAt!), source: scopeState.source! };
        await connector.consent.record([{ contact, consent }]);
        return 'recorded';
      },
      {
        // The remote contact is gone (merged, deleted in the CRM): forget the link and find or create it
        // again — a contact that keeps disappearing is given up after MAX_RELINKS attempts.
        relink: task.attempts < MAX_RELINKS ? () => this.links.dropLinks(connectionId, 'contact', [contactId]) : undefined,
        context: { task: 'consent-sync' },
      },
    );
    switch (result.outcome) {
      case 'done':
        if (result.value === 'busy') return later(BUSY_RECHECK_MS);
        if (result.value === 'recorded') await this.connections.recordSuccess(connectionId);
        return { outcome: 'done' };
      case 'unsupported':
        return { outcome: 'done' }; // switched off in the connection's settings since
      case 'parked':
        // Released at once when an operator fixes the connection (ConnectionsService).
        return later(PARKED_RECHECK_MS, result.failure?.reason);
      case 'retry':
        if (!result.failure) return { outcome: 'retry', at: result.at, refundAttempt: true };
        return { outcome: 'retry', at: result.at, error: result.failure.reason, refundAttempt: result.failure.kind === 'rate_limited' };
      case 'relinked':
        return { outcome: 'retry', at: new Date(), error: result.failure.reason };
      case 'dead':
      case 'isolated':
        return { outcome: 'dead', error: result.failure.reason };
    }
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
}
