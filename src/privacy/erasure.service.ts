import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import { LOGGER } from '../common/logger';
import { ConsentRepository } from '../consent/consent.repository';
import { ContactsRepository } from '../contacts/contacts.repository';
import { ConversationsRepository } from '../conversations/conversations.repository';
import { SyncRepository } from '../sync/sync.repository';
import { OutboundRepository } from '../whatsapp/outbound/outbound.repository';
import { QuarantineRepository } from '../whatsapp/quarantine.repository';
import { ConnectionsService } from '../connections/connections.service';
import { OutboxRepository } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';
import { TaskQueue } from '../tasks/task-queue';
import type { ErasedCounts } from './entities/erasure-request.entity';
import { type ConnectionForErasure, erasureStatus, plannedReceipts } from './erasure.policy';
import { MediaCleanup } from './media-cleanup';
import { ContactNotFoundError, ErasureNotFoundError } from './privacy.errors';
import { PrivacyRepository } from './privacy.repository';
import { ERASE_CONTACT_TASK, type EraseContactPayload, type ErasureView } from './privacy.types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The right to be forgotten: a customer is erased from this database at once, in one
 * transaction, and from every connected CRM by background tasks (queue `privacy`) that retry
 * until each system confirmed, held nothing, or refused for good. Each system gets a receipt.
 */
@Injectable()
export class ErasureService {
  constructor(
    private readonly repo: PrivacyRepository,
    private readonly conversations: ConversationsRepository,
    private readonly contacts: ContactsRepository,
    private readonly links: SyncRepository,
    private readonly consent: ConsentRepository,
    private readonly quarantine: QuarantineRepository,
    private readonly refusals: OutboundRepository,
    private readonly connections: ConnectionsService,
    private readonly outbox: OutboxRepository,
    private readonly queue: TaskQueue,
    private readonly media: MediaCleanup,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Erases a customer. In ONE transaction: tombstones of their messages' wamids (a repeated
   * webhook must not bring them back), then their delivery statuses, remote links, tasks,
   * quarantined fragments, messages, conversations and contact row are deleted; the erasure
   * request is recorded with a 'local' receipt (done) and one receipt + task per connection that
   * must erase remotely, each task carrying what the CRM call needs (captured before the rows
   * went). After the commit the media files are deleted and the tasks queued.
   * Throws ContactNotFoundError for an unknown (or already erased) contact.
   */
  async erase(contactId: string): Promise<ErasureView> {
    if (!UUID.test(contactId)) throw new ContactNotFoundError(contactId);
    // Decided before the transaction: reading a connection's capabilities decrypts and validates
    // its stored configuration, which has nothing to do with the customer's rows.
    const connections = await this.erasureTargets();

    const { erasureId, localReceiptId, storageKeys, tasks, erased } = await this.repo.transaction(async (manager) => {
      const contact = await this.repo.findContact(contactId, manager, true);
      if (!contact) throw new ContactNotFoundError(contactId);
      const customer = { contactId: contact.id, waId: contact.waId, e164: contact.e164, ...(contact.profileName ? { profileName: contact.profileName } : {}) };
      const links = await this.repo.contactLinks(manager, contact.id);
      const inventory = await this.repo.inventory(manager, contact.id);

      await this.repo.tombstoneMessages(manager, contact.id);
      const deleted = await this.eraseLocally(manager, contact);
      const erased: ErasedCounts = {
        messages: inventory.messages,
        conversations: inventory.conversations,
        mediaFiles: inventory.storageKeys.length,
        remoteLinks: deleted.remoteLinks,
        statusEvents: deleted.statusEvents,
        consentEvents: deleted.consentEvents,
      };

      const erasureId = await this.repo.insertErasureRequest(manager, contact.id, erased);
      const planned = plannedReceipts(connections, links);
      const [local, ...remote] = await this.repo.insertReceipts(manager, erasureId, [
        { target: 'local', targetName: 'local', connectionId: null, connectorId: null, status: 'done', detail: localDetail(erased) },
        ...planned.map((p) => ({
          target: 'connection' as const,
          targetName: p.connection.name,
          connectionId: p.connection.id,
          connectorId: p.connection.connectorId,
          status: p.status,
          detail: p.detail,
        })),
      ]);
      const tasks = await this.outbox.insert(
        manager,
        planned.flatMap((p, i) => {
          if (p.status !== 'pending') return [];
          const payload: EraseContactPayload = {
            erasureId,
            receiptId: remote[i].id,
            contactId: contact.id,
            connectionName: p.connection.name,
            customer,
            ...(p.remote ? { remote: p.remote } : {}),
          };
          return [
            {
              queue: QueueName.Privacy,
              kind: ERASE_CONTACT_TASK,
              dedupeKey: `erasure:${erasureId}:${p.connection.id}`,
              connectionId: p.connection.id,
              payload: payload as unknown as Record<string, unknown>,
            },
          ];
        }),
      );
      if (!tasks.length) await this.repo.markComplete(manager, erasureId);
      return { erasureId, localReceiptId: local.id, storageKeys: inventory.storageKeys, tasks, erased };
    });

    const files = await this.media.removeUnreferenced(storageKeys);
    if (files.failed) {
      await this.repo.updateReceipt(localReceiptId, 'failed', `${localDetail(erased)}; ${files.failed} media file(s) could not be deleted from the media store: ${files.reason}`, false);
    }
    if (tasks.length) await this.queue.enqueue(tasks);
    this.logger.info({ erasureId, ...erased, connections: tasks.length }, 'customer erased locally; remote erasures queued');
    return this.get(erasureId);
  }

  /** An erasure request with one receipt per system. Throws ErasureNotFoundError. */
  async get(id: string): Promise<ErasureView> {
    const request = UUID.test(id) ? await this.repo.findErasure(id) : null;
    if (!request) throw new ErasureNotFoundError(id);
    const receipts = await this.repo.receiptsOf(id);
    return {
      id: request.id,
      contactId: request.contactId,
      status: erasureStatus(receipts),
      requestedAt: request.requestedAt,
      completedAt: request.completedAt,
      erased: request.erased,
      receipts: receipts.map((r) => ({
        target: r.target,
        targetName: r.targetName,
        connectionId: r.connectionId,
        connectorId: r.connectorId,
        status: r.status,
        detail: r.detail,
        attempts: r.attempts,
        updatedAt: r.updatedAt,
        completedAt: r.completedAt,
      })),
    };
  }

  /**
   * Every connection, enabled or not: a disabled connection may hold the customer too, and its
   * erasure waits until it is enabled again.
   */
  private async erasureTargets(): Promise<ConnectionForErasure[]> {
    return (await this.connections.list()).map((c) => ({ id: c.id, name: c.name, connectorId: c.connectorId, canErase: c.capabilities?.erasure === true }));
  }

  /**
   * Deletes everything this database holds about the customer except the erasure's own records,
   * in the caller's transaction, each table by the module that owns it: delivery statuses, remote
   * links (contact, tickets, messages, transcripts), background tasks naming them, quarantined
   * webhook content naming their number, the consent ledger, refused sends, messages,
   * conversations and the contact. Links and statuses go first: they are found through the
   * messages. Returns the counts the receipt reports.
   */
  private async eraseLocally(manager: EntityManager, contact: { id: string; waId: string }): Promise<{ statusEvents: number; remoteLinks: number; consentEvents: number }> {
    const statusEvents = await this.conversations.eraseStatusEventsOf(manager, contact);
    const remoteLinks = await this.links.eraseLinksOfContact(manager, contact.id);
    // The erasure's own fan-out tasks are written after this.
    await this.outbox.eraseTasksNaming(manager, contact.id, QueueName.Privacy);
    await this.quarantine.eraseMentionsOf(manager, contact.waId);
    const consentEvents = await this.consent.eraseEventsOf(manager, contact.id);
    await this.refusals.eraseRefusalsOf(manager, contact.id);
    await this.conversations.eraseConversationsOf(manager, contact.id);
    await this.contacts.erase(manager, contact.id);
    return { statusEvents, remoteLinks, consentEvents };
  }
}

function localDetail(erased: ErasedCounts): string {
  return (
    `deleted the contact, ${erased.conversations} conversation(s), ${erased.messages} message(s), ${erased.mediaFiles} media file(s), ` +
    `${erased.remoteLinks} remote link(s), ${erased.statusEvents} delivery status(es) and ${erased.consentEvents} consent event(s); ` +
    `the messages' ids are kept only as sha256 tombstones`
  );
}
