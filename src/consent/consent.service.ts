import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../common/logger';
import { ConnectionsService } from '../connections/connections.service';
import { OutboxRepository, type TaskRef } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';
import { TaskQueue } from '../tasks/task-queue';
import { ContactNotFoundError, InvalidConsentError } from './consent.errors';
import { ConsentRepository } from './consent.repository';
import type { ConsentEvent, ConsentState, NewConsentEvent } from './consent.types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A consent given "now" by a caller whose clock runs a little ahead is still accepted. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export interface RecordedConsent {
  event: ConsentEvent;
  /** The contact's consent after this event. */
  state: ConsentState;
  /** True when the event was recorded before (same dedupe key): nothing new was written. */
  duplicate: boolean;
  /** True when the event changed the current state of its scope (and was sent on to the CRMs). */
  changed: boolean;
}

/** Payload of a consent-sync task: ids only, the state is read from the ledger when it runs. */
export interface ConsentSyncPayload {
  contactId: string;
  scope: NewConsentEvent['scope'];
  eventId: string;
}

/**
 * The consent ledger: append-only events per contact (opt-in/opt-out, scope, source, evidence),
 * from which the current state is read. A change of state is passed on, in the same transaction,
 * to every enabled connection whose connector declares the `consent` capability.
 */
@Injectable()
export class ConsentService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ConsentRepository,
    private readonly connections: ConnectionsService,
    private readonly outbox: OutboxRepository,
    private readonly queue: TaskQueue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Appends a consent event. Events of one contact are recorded one at a time; when the event
   * changes the current state of its scope, a consent-sync task per enabled connection with the
   * `consent` capability is written in the same transaction. A repeated dedupe key records nothing
   * and returns the first event. Throws ContactNotFoundError, or InvalidConsentError for a consent
   * dated in the future.
   */
  async record(input: NewConsentEvent): Promise<RecordedConsent> {
    if (!UUID.test(input.contactId)) throw new ContactNotFoundError(input.contactId);
    if (input.occurredAt.getTime() > Date.now() + FUTURE_TOLERANCE_MS) throw new InvalidConsentError('occurredAt lies in the future');
    // Resolved before the transaction: it decrypts credentials, which should not hold a row lock.
    const targets = await this.connections.listEnabledWith('consent');

    const { recorded, tasks } = await this.dataSource.transaction(async (manager) => {
      if (!(await this.repo.lockContact(manager, input.contactId))) throw new ContactNotFoundError(input.contactId);
      const before = await this.repo.state(input.contactId, manager);
      const event = await this.repo.insertEvent(manager, input);
      if (!event) {
        const first = (await this.repo.findByDedupeKey(input.dedupeKey!))!;
        return { recorded: { event: first, state: before, duplicate: true, changed: false }, tasks: [] as TaskRef[] };
      }
      const state = await this.repo.state(input.contactId, manager);
      const changed = before[input.scope].status !== state[input.scope].status;
      const tasks = changed
        ? await this.outbox.insert(
            manager,
            targets.map(({ connection }) => ({
              queue: QueueName.ConsentSync,
              kind: 'record',
              dedupeKey: `consent:${event.id}:${connection.id}`,
              connectionId: connection.id,
              payload: { contactId: input.contactId, scope: input.scope, eventId: event.id } satisfies ConsentSyncPayload,
            })),
          )
        : [];
      return { recorded: { event, state, duplicate: false, changed }, tasks };
    });
    if (tasks.length) await this.queue.enqueue(tasks);
    if (!recorded.duplicate) {
      this.logger.info(
        { contactId: input.contactId, scope: input.scope, action: input.action, source: input.source, changed: recorded.changed, connections: tasks.length },
        'consent recorded',
      );
    }
    return recorded;
  }

  /** The contact's whole ledger (oldest first) and current state. Throws ContactNotFoundError. */
  async ledger(contactId: string): Promise<{ state: ConsentState; events: ConsentEvent[] }> {
    await this.assertContact(contactId);
    const [state, events] = await Promise.all([this.repo.state(contactId), this.repo.ledger(contactId)]);
    return { state, events };
  }

  private async assertContact(contactId: string): Promise<void> {
    if (!UUID.test(contactId) || !(await this.repo.contactExists(contactId))) throw new ContactNotFoundError(contactId);
  }
}
