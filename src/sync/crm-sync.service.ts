import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AppendResult, CrmConnector, RemoteRef, Thread, TicketRouting, TicketRoutingFacet, TicketsFacet, TimelineFacet, UnifiedMessage } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import { redactText } from '../common/redaction';
import { ConnectionsService, type ResolvedConnection } from '../connections/connections.service';
import { ConnectorCalls } from '../connections/connector-calls';
import { RequestBudgets } from '../tasks/request-budget';
import { LeaseHeartbeat, LeaseLostError, releaseWhenPossible, unlessAborted } from '../tasks/lease';
import type { TaskRef } from '../tasks/outbox.repository';
import { TaskQueue } from '../tasks/task-queue';
import { readyMessages } from './ready-messages';
import { buildTranscript, toCustomer, toThread, toTicketRouting, toUnifiedMessage } from './sync.mapper';
import { type SyncAttempt, SyncRepository, type StoredLink, type SyncRow } from './sync.repository';

/** How the drain of one connection ended. */
export type DrainOutcome =
  | { outcome: 'idle' } // nothing left to do
  | { outcome: 'busy' } // another worker holds the drain; it will pick our rows up
  | { outcome: 'interrupted' } // stopped mid-way (shutdown, or our lease was lost): to be resumed soon, by whoever holds the drain next
  | { outcome: 'paused'; until: Date } // rate limit or backoff: nothing is called before `until`
  | { outcome: 'parked' } // disabled or waiting for new credentials; work kept
  | { outcome: 'waiting'; until: Date }; // what is left cannot go yet (media still downloading)

const ROWS_PER_PASS = 500;
/** A ticket link older than this is re-checked (closed meanwhile? reopen or open a new one). */
const TICKET_RECHECK_MS = 5 * 60_000;
const WAIT_RETRY_MS = 5_000;

/** State of one drain: a remote object is re-linked at most once per drain, so a vendor that keeps
 * answering not_found ends in a dead letter instead of a loop. */
interface DrainContext {
  /** Lease holder id: one per drain (never per process: a process runs several drains at once). */
  holder: string;
  /** Aborts when the drain's lease, or the claim of the task that started it, is lost. */
  signal: AbortSignal;
  relinked: boolean;
  /** The earliest time a conversation held back (quiet period, search lag) can go (see readyMessages). */
  heldUntil?: number;
}

class StopDrain extends Error {
  constructor(readonly result: DrainOutcome) {
    super('drain stopped');
  }
}

/**
 * The sync engine: drains a connection's outbox into its CRM. One drain per connection at a
 * time (a lease in Postgres shared by every worker), so each conversation's messages reach the CRM
 * in WhatsApp order and never twice; a drain takes everything pending across conversations, so
 * a connector with batch endpoints turns a burst into a few calls. Links (local id ↔ remote id)
 * are written in the same transaction that marks the tasks done. Failures are handled by error
 * kind alone (retry-policy.ts).
 */
@Injectable()
export class CrmSyncService implements BeforeApplicationShutdown {
  private stopping = false;

  constructor(
    private readonly repo: SyncRepository,
    private readonly connections: ConnectionsService,
    private readonly calls: ConnectorCalls,
    private readonly budgets: RequestBudgets,
    private readonly queue: TaskQueue,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.leaseMs = config.queue.leaseMs;
  }

  /**
   * How long a drain may go without renewing its lease before another worker takes over (a worker
   * that died). A heartbeat renews it every third of that while the drain runs, so a connector
   * call (or a wait for a request budget) may take longer than the lease.
   */
  readonly leaseMs: number;

  /** Running drains stop at their next connector call, so shutdown never waits on a backlog. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
    this.budgets.close();
  }

  /**
   * Syncs everything pending for a connection, until nothing is left or a failure pauses it.
   * `taskLease` aborts when the worker's claim on the task that asked for the drain is lost.
   */
  async drain(connectionId: string, taskLease?: AbortSignal): Promise<DrainOutcome> {
    const outcome = await this.drainOnce(connectionId, taskLease);
    if (outcome.outcome === 'paused' || outcome.outcome === 'waiting') {
      // The task that started this drain may be done already (synced in an earlier pass), so its
      // retry would not bring anyone back: leave a wake-up for the work that is left.
      const wake = await this.repo.scheduleWake(connectionId, outcome.until);
      if (wake.length) await this.queue.enqueue(wake);
    }
    return outcome;
  }

  /** Drains whose worker died: their lease is dropped and one of their tasks made due (the sweeper enqueues it). */
  wakeAbandonedDrains(): Promise<TaskRef[]> {
    return this.repo.wakeAbandonedDrains();
  }

  private async drainOnce(connectionId: string, taskLease?: AbortSignal): Promise<DrainOutcome> {
    for (;;) {
      const guarded = await this.calls.guard(connectionId);
      if (guarded.outcome === 'retry') return { outcome: 'paused', until: guarded.at };
      if (guarded.outcome !== 'ready') return { outcome: 'parked' };
      const { resolved } = guarded;
      const holder = randomUUID();
      const acquiredAt = Date.now();
      if (!(await this.repo.acquireLease(connectionId, 'drain', holder, this.leaseMs))) return { outcome: 'busy' };
      const lease = new LeaseHeartbeat(() => this.repo.renewLease(connectionId, 'drain', holder, this.leaseMs), this.leaseMs, acquiredAt);
      const ctx: DrainContext = { holder, signal: taskLease ? AbortSignal.any([taskLease, lease.signal]) : lease.signal, relinked: false };
      let progressed: boolean;
      try {
        const connector = this.calls.create(resolved);
        progressed = await this.drainHeld(resolved, connector, ctx);
      } catch (error) {
        if (error instanceof StopDrain) return error.result;
        if (error instanceof LeaseLostError || ctx.signal.aborted) {
          this.logger.warn({ connectionId, reason: String(ctx.signal.reason?.message ?? error) }, 'drain stopped: its lease was lost');
          return { outcome: 'interrupted' };
        }
        throw error;
      } finally {
        lease.stop();
        // Given back even when lost: releasing names our holder id, so a lease another drain took
        // over is left alone, and one we still have frees the connection as soon as the database answers.
        await releaseWhenPossible(() => this.repo.releaseLease(connectionId, 'drain', holder), lease.heldUntil, (err) =>
          this.logger.info({ connectionId, err }, 'could not release the drain lease; it runs out by itself'),
        );
      }
      if (ctx.signal.aborted) return { outcome: 'interrupted' };
      // Checked after releasing: a task committed while we drained either saw our lease (and left
      // its row to us) or will take the lease itself. Without this second look it could be missed.
      if (!(await this.repo.hasOpenRows(connectionId))) return { outcome: 'idle' };
      if (!progressed) return { outcome: 'waiting', until: new Date(ctx.heldUntil ?? Date.now() + WAIT_RETRY_MS) };
    }
  }

  /** Passes until nothing is open or a pass changes nothing. Returns whether the last pass did anything. */
  private async drainHeld(resolved: ResolvedConnection, connector: CrmConnector, ctx: DrainContext): Promise<boolean> {
    let previous = '';
    for (;;) {
      const rows = await this.repo.openRows(resolved.connection.id, ROWS_PER_PASS);
      if (rows.length === 0) return true;
      const ids = rows.map((r) => r.taskId).join(',');
      if (ids === previous) return false; // the same rows again: what is left waits for later
      previous = ids;
      await this.syncRows(resolved, connector, rows, ctx);
      // The heartbeat keeps the lease; once it is lost we stop, so two drains never run at once.
      if (ctx.signal.aborted) throw new StopDrain({ outcome: 'interrupted' });
    }
  }

  /** One pass over a set of open rows. */
  private async syncRows(resolved: ResolvedConnection, connector: CrmConnector, rows: SyncRow[], ctx: DrainContext): Promise<void> {
    const connectionId = resolved.connection.id;
    const { timeline } = connector;
    const homeless = rows.filter((r) => !r.contactId);
    for (const row of homeless) await this.repo.deadLetter(connectionId, ctx.holder, row.taskId, 'the conversation of this task no longer exists');
    rows = rows.filter((r) => r.contactId);
    // The conversation's route sends it to other connections: nothing more of it goes here (what
    // went before the route was known stays where it is).
    const elsewhere = rows.filter((r) => r.routeConnections && !r.routeConnections.includes(connectionId));
    if (elsewhere.length) {
      await this.repo.completeWithLinks(connectionId, ctx.holder, [], elsewhere.map((r) => r.taskId));
      rows = rows.filter((r) => !elsewhere.includes(r));
    }
    const held = readyMessages(
      rows.filter((r) => r.kind === 'message' && r.messageId),
      { quietPeriodMs: timeline?.quietPeriodMs ?? 0, reconcile: timeline?.reconcile },
      Date.now(),
    );
    if (held.heldUntil !== undefined) ctx.heldUntil = Math.min(ctx.heldUntil ?? Infinity, held.heldUntil);
    const messageRows = held.ready;
    const openConversations = new Set(rows.filter((r) => r.kind === 'message').map((r) => r.conversationId));
    const readyTaskIds = new Set(messageRows.map((r) => r.taskId));
    for (const conversationId of new Set(messageRows.map((r) => r.conversationId))) {
      // A conversation whose every open message is ready has no message left after this pass.
      if (rows.filter((r) => r.kind === 'message' && r.conversationId === conversationId).every((r) => readyTaskIds.has(r.taskId))) {
        openConversations.delete(conversationId);
      }
    }
    const transcriptRows = rows.filter((r) => r.kind === 'transcript' && !openConversations.has(r.conversationId));
    const orphanRows = rows.filter((r) => r.kind === 'message' && !r.messageId); // message erased meanwhile
    if (orphanRows.length) await this.repo.completeWithLinks(connectionId, ctx.holder, [], orphanRows.map((r) => r.taskId));
    const work = [...messageRows, ...transcriptRows];
    const routeRows = rows.filter((r) => r.kind === 'route');
    if (work.length === 0 && routeRows.length === 0) return;
    if (work.length > 0) await this.syncWork(resolved, connector, work, ctx);
    // After the messages: a ticket this pass opened was opened with the route already.
    if (routeRows.length > 0) await this.applyRoutes(resolved, connector, routeRows, ctx);
    await this.connections.recordSuccess(connectionId);
  }

  /** Messages and transcripts of one pass: contacts, tickets, then the records themselves. */
  private async syncWork(resolved: ResolvedConnection, connector: CrmConnector, work: SyncRow[], ctx: DrainContext): Promise<void> {
    const connectionId = resolved.connection.id;
    const { timeline, tickets: ticketsFacet, transcripts } = connector;
    const contacts = await this.ensureContacts(resolved, connector, work, ctx);
    const syncable = work.filter((r) => contacts.has(r.contactId));
    const tickets = ticketsFacet ? await this.ensureTickets(resolved, ticketsFacet, syncable, contacts, ctx) : new Map<string, RemoteRef>();
    const thread = (row: SyncRow) => toThread(row, contacts.get(row.contactId)!, tickets.get(row.conversationId));

    const messages = syncable.filter((r) => r.kind === 'message');
    if (!timeline) await this.repo.completeWithLinks(connectionId, ctx.holder, [], messages.map((r) => r.taskId));
    else await this.appendMessages(resolved, timeline, messages, thread, ctx);

    for (const row of syncable.filter((r) => r.kind === 'transcript')) {
      if (!transcripts) {
        await this.repo.completeWithLinks(connectionId, ctx.holder, [], [row.taskId]);
        continue;
      }
      const transcript = buildTranscript(
        { conversationId: row.conversationId, openedAt: new Date(row.openedAt), closedAt: new Date(row.closedAt ?? Date.now()), customerName: row.profileName ?? row.e164 },
        await this.repo.conversationMessages(row.conversationId),
      );
      const remote = await this.call(resolved, async () => (await transcripts.attach([{ thread: thread(row), transcript }]))[0], [row], ctx, { operation: 'transcripts.attach' });
      if (remote) await this.repo.completeWithLinks(connectionId, ctx.holder, [{ type: 'transcript', localId: row.conversationId, remote }], [row.taskId]);
    }
  }

  /**
   * Tasks of kind 'route' (a conversation's route changed): its ticket in this connection takes the
   * conversation's current routing through the `ticketRouting` facet. Nothing to do — the task is
   * simply done — when the connector cannot route tickets, when the conversation has no ticket here
   * yet (it will be opened with the routing), or when the route asks nothing of tickets. Several
   * route tasks of one conversation are one update: the columns hold the latest route.
   */
  private async applyRoutes(resolved: ResolvedConnection, connector: CrmConnector, rows: SyncRow[], ctx: DrainContext): Promise<void> {
    const connectionId = resolved.connection.id;
    const facet = connector.ticketRouting;
    const links = facet ? await this.repo.links(connectionId, 'ticket', [...new Set(rows.map((r) => r.conversationId))]) : new Map<string, StoredLink>();
    const byConversation = new Map<string, { ticket: RemoteRef; routing: TicketRouting; rows: SyncRow[] }>();
    const nothingToDo: SyncRow[] = [];
    for (const row of rows) {
      const link = links.get(row.conversationId);
      const routing = toTicketRouting(row.ticketRouting);
      if (!facet || !link || !routing) {
        nothingToDo.push(row);
        continue;
      }
      const entry = byConversation.get(row.conversationId) ?? { ticket: { id: link.id, type: link.type, url: link.url }, routing, rows: [] };
      entry.rows.push(row);
      byConversation.set(row.conversationId, entry);
    }
    if (nothingToDo.length) await this.repo.completeWithLinks(connectionId, ctx.holder, [], nothingToDo.map((r) => r.taskId));
    if (!facet) return;
    for (const chunk of chunks([...byConversation.values()], resolved.definition.manifest.maxBatch)) {
      const affected = chunk.flatMap((c) => c.rows);
      const done = await this.call(
        resolved,
        () => facet.apply(chunk.map(({ ticket, routing }) => ({ ticket, routing }))),
        affected,
        ctx,
        {
          operation: 'ticketRouting.apply',
          isolate: chunk.length > 1 ? () => this.applyRoutesOneByOne(resolved, facet, chunk, ctx) : undefined,
          // The ticket is gone: the link is forgotten, and the next pass finds no ticket to route.
          relink: () => this.repo.dropLinks(connectionId, 'ticket', chunk.map((c) => c.rows[0].conversationId), ctx.holder),
        },
      );
      if (done) await this.repo.completeWithLinks(connectionId, ctx.holder, [], affected.map((r) => r.taskId));
    }
  }

  private async applyRoutesOneByOne(
    resolved: ResolvedConnection,
    facet: TicketRoutingFacet,
    chunk: { ticket: RemoteRef; routing: TicketRouting; rows: SyncRow[] }[],
    ctx: DrainContext,
  ): Promise<void> {
    for (const { ticket, routing, rows } of chunk) {
      const done = await this.call(resolved, () => facet.apply([{ ticket, routing }]), rows, ctx, { operation: 'ticketRouting.apply' });
      if (done) await this.repo.completeWithLinks(resolved.connection.id, ctx.holder, [], rows.map((r) => r.taskId));
    }
  }

  /** The remote contact of every customer in `rows`: from links, else found or created (batched). */
  private async ensureContacts(resolved: ResolvedConnection, connector: CrmConnector, rows: SyncRow[], ctx: DrainContext): Promise<Map<string, RemoteRef>> {
    const connectionId = resolved.connection.id;
    const customers = new Map(rows.map((r) => [r.contactId, r]));
    const links = await this.repo.links(connectionId, 'contact', [...customers.keys()]);
    const result = new Map<string, RemoteRef>([...links].map(([id, l]) => [id, { id: l.id, type: l.type, url: l.url }]));
    const missing = [...customers.values()].filter((r) => !links.has(r.contactId));
    for (const chunk of chunks(missing, resolved.definition.manifest.maxBatch)) {
      const requests = chunk.map((r) => ({ customer: toCustomer(r) }));
      const affected = rows.filter((r) => chunk.some((c) => c.contactId === r.contactId));
      const refs = await this.call(
        resolved,
        () => connector.contacts.ensure(requests),
        affected,
        ctx,
        { operation: 'contacts.ensure', isolate: chunk.length > 1 ? () => this.ensureContactsOneByOne(resolved, connector, chunk, rows, result, ctx) : undefined },
      );
      if (!refs) continue;
      chunk.forEach((r, i) => result.set(r.contactId, refs[i]));
      await this.repo.saveLinks(connectionId, chunk.map((r, i) => ({ type: 'contact' as const, localId: r.contactId, remote: refs[i] })), ctx.holder);
    }
    return result;
  }

  private async ensureContactsOneByOne(resolved: ResolvedConnection, connector: CrmConnector, chunk: SyncRow[], rows: SyncRow[], result: Map<string, RemoteRef>, ctx: DrainContext): Promise<void> {
    for (const r of chunk) {
      const ref = await this.call(resolved, async () => (await connector.contacts.ensure([{ customer: toCustomer(r) }]))[0], rows.filter((x) => x.contactId === r.contactId), ctx, { operation: 'contacts.ensure' });
      if (!ref) continue;
      result.set(r.contactId, ref);
      await this.repo.saveLinks(resolved.connection.id, [{ type: 'contact', localId: r.contactId, remote: ref }], ctx.holder);
    }
  }

  /**
   * The ticket of every conversation in `rows`. New conversations, and tickets not checked for a
   * while, go through the connector's thread policy (append while open, reopen, or a new one).
   */
  private async ensureTickets(resolved: ResolvedConnection, tickets: TicketsFacet, rows: SyncRow[], contacts: Map<string, RemoteRef>, ctx: DrainContext): Promise<Map<string, RemoteRef>> {
    const connectionId = resolved.connection.id;
    const conversations = new Map(rows.map((r) => [r.conversationId, r]));
    const links = await this.repo.links(connectionId, 'ticket', [...conversations.keys()]);
    const result = new Map<string, RemoteRef>();
    const toCheck: { row: SyncRow; known?: RemoteRef }[] = [];
    for (const row of conversations.values()) {
      const link = links.get(row.conversationId);
      if (link && Date.now() - new Date(link.updatedAt).getTime() < TICKET_RECHECK_MS) result.set(row.conversationId, { id: link.id, type: link.type, url: link.url });
      else toCheck.push({ row, known: link ?? (await this.repo.latestTicketOfContact(connectionId, row.contactId, row.conversationId)) });
    }
    for (const chunk of chunks(toCheck, resolved.definition.manifest.maxBatch)) {
      const requests = chunk.map(({ row, known }) => ({
        thread: toThread(row, contacts.get(row.contactId)!),
        known: known ? { id: known.id, type: known.type, url: known.url } : undefined,
        // A new ticket opens with the route; there are no tags of an earlier route on it to take off.
        routing: toTicketRouting(row.ticketRouting, { atCreation: true }),
      }));
      const affected = rows.filter((r) => chunk.some((c) => c.row.conversationId === r.conversationId));
      const refs = await this.call(
        resolved,
        () => tickets.ensure(requests),
        affected,
        ctx,
        { operation: 'tickets.ensure', relink: () => this.repo.dropLinks(connectionId, 'ticket', chunk.map((c) => c.row.conversationId), ctx.holder) },
      );
      if (!refs) continue;
      chunk.forEach(({ row }, i) => result.set(row.conversationId, refs[i]));
      await this.repo.saveLinks(connectionId, chunk.map(({ row }, i) => ({ type: 'ticket' as const, localId: row.conversationId, remote: refs[i] })), ctx.holder);
    }
    return result;
  }

  /** Sends messages in chunks of the connector's batch size, across conversations, in order. */
  private async appendMessages(resolved: ResolvedConnection, timeline: TimelineFacet, rows: SyncRow[], thread: (row: SyncRow) => Thread, ctx: DrainContext): Promise<void> {
    const connectionId = resolved.connection.id;
    for (const chunk of chunksOfWholeConversations(rows, resolved.definition.manifest.maxBatch)) {
      const batches = groupByThread(chunk, thread);
      await this.repo.markDispatched(chunk.map((r) => r.taskId));
      const results = await this.call(
        resolved,
        () => timeline.append(batches),
        chunk,
        ctx,
        {
          operation: 'timeline.append',
          isolate: chunk.length > 1 ? () => this.appendOneByOne(resolved, timeline, chunk, thread, ctx) : undefined,
          relink: () => this.repo.dropLinks(connectionId, 'ticket', [...new Set(chunk.map((r) => r.conversationId))], ctx.holder),
        },
      );
      if (results) await this.completeMessages(connectionId, ctx.holder, chunk, results);
    }
  }

  private async appendOneByOne(resolved: ResolvedConnection, timeline: TimelineFacet, chunk: SyncRow[], thread: (row: SyncRow) => Thread, ctx: DrainContext): Promise<void> {
    for (const row of chunk) {
      const [batch] = groupByThread([row], thread);
      const results = await this.call(resolved, () => timeline.append([batch]), [row], ctx, { operation: 'timeline.append' });
      if (results) await this.completeMessages(resolved.connection.id, ctx.holder, [row], results);
    }
  }

  private async completeMessages(connectionId: string, holder: string, rows: SyncRow[], results: AppendResult[]): Promise<void> {
    const byMessage = new Map(results.map((r) => [r.messageId, r]));
    const reported = rows.filter((r) => byMessage.has(r.messageId!));
    const links = reported.map((r) => ({ type: 'message' as const, localId: r.messageId!, remote: byMessage.get(r.messageId!)!.remote }));
    // The vendor's answer named the customer's contact (AppendResult.contact): the customer's link
    // from now on, the last one answered winning.
    const contacts = new Map(reported.flatMap((r) => { const contact = byMessage.get(r.messageId!)!.contact; return contact ? [[r.contactId, contact] as const] : []; }));
    // A message the connector did not report stays open and is retried (looked up first, as dispatched).
    await this.repo.completeWithLinks(connectionId, holder, links, reported.map((r) => r.taskId), [...contacts].map(([localId, remote]) => ({ type: 'contact' as const, localId, remote })));
  }

  /**
   * Runs one connector call through the one call path (ConnectorCalls: the retry policy by error
   * kind). Returns undefined when the affected rows were dead-lettered, re-linked or handled by
   * `isolate`; throws StopDrain when the connection must pause or wait for credentials, or when
   * the drain is stopping or lost its lease.
   */
  private async call<T>(
    resolved: ResolvedConnection,
    fn: () => Promise<T>,
    affected: SyncRow[],
    ctx: DrainContext,
    options: { operation: string; isolate?: () => Promise<void>; relink?: () => Promise<void> },
  ): Promise<T | undefined> {
    if (this.stopping) throw new StopDrain({ outcome: 'interrupted' }); // resumed by the next worker
    if (ctx.signal.aborted) throw new StopDrain({ outcome: 'interrupted' }); // the heartbeat failed or another worker took over
    const { relink } = options;
    const result = await this.calls.call(
      resolved,
      async () => {
        const startedAt = new Date();
        const started = performance.now();
        let outcome = 'ok';
        let reason: string | null = null;
        try {
          // A lost lease ends the wait at once: the call's answer is no longer ours to record (the
          // rows are marked dispatched, so whoever drains next looks the remote object up first).
          return await unlessAborted(fn(), ctx.signal);
        } catch (error) {
          outcome = ConnectorError.is(error) ? error.kind : 'interrupted';
          reason = redactedReason(error);
          // Neither a lost lease nor a stopping worker is the vendor's answer: the next drain resumes.
          if (ctx.signal.aborted || (this.stopping && error instanceof ConnectorError)) {
            outcome = 'interrupted';
            throw new StopDrain({ outcome: 'interrupted' });
          }
          throw error;
        } finally {
          // Once the vendor answered (before a failed batch is retried item by item): one row per
          // task, written beside the drain rather than in its way (the next call need not wait for it).
          void this.recordAttempts(resolved.connection.id, affected, options.operation, startedAt, performance.now() - started, outcome, reason);
        }
      },
      {
        // A remote object is re-linked at most once per drain: one that keeps answering not_found ends in a dead letter.
        relink:
          relink && !ctx.relinked
            ? async () => {
                ctx.relinked = true;
                await relink();
              }
            : undefined,
        isolate: options.isolate,
      },
    );
    switch (result.outcome) {
      case 'done':
        return result.value;
      case 'retry':
        throw new StopDrain({ outcome: 'paused', until: result.at });
      case 'parked':
      case 'unsupported':
        throw new StopDrain({ outcome: 'parked' });
      case 'relinked':
        // The next pass re-creates or re-finds the remote object; nothing is lost meanwhile.
        return undefined;
      case 'isolated':
        // The batch failed as a whole and was retried item by item, so only the bad one is set aside.
        return undefined;
      case 'dead':
        for (const row of affected) await this.repo.deadLetter(resolved.connection.id, ctx.holder, row.taskId, result.failure.reason);
        return undefined;
    }
  }

  /** The record of one vendor call (sync_attempts); never fails the sync: a failure to write it is logged. */
  private async recordAttempts(connectionId: string, affected: SyncRow[], operation: string, startedAt: Date, durationMs: number, outcome: string, error: string | null): Promise<void> {
    const attempts: SyncAttempt[] = affected.map((row) => ({
      taskId: row.taskId,
      messageId: row.kind === 'message' ? row.messageId : null,
      conversationId: row.conversationId ?? null,
      operation,
      startedAt,
      durationMs,
      outcome,
      error,
    }));
    try {
      await this.repo.recordAttempts(connectionId, attempts);
    } catch (err) {
      this.logger.warn({ connectionId, operation, tasks: attempts.length, err: { message: redactText(String((err as Error)?.message ?? err)) } }, 'could not record the sync attempt');
    }
  }
}

/** A failure's reason as sync_attempts keeps it: phone numbers and tokens scrubbed, no longer than a line or two. */
function redactedReason(error: unknown): string {
  const text = redactText(error instanceof Error ? error.message : String(error));
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += Math.max(1, size)) out.push(items.slice(i, i + Math.max(1, size)));
  return out;
}

/**
 * Chunks of at most `size` rows that never split a conversation unless it alone is larger, so each
 * conversation's messages reach its CRM record in one call (rows come grouped by conversation).
 */
function chunksOfWholeConversations(rows: SyncRow[], size: number): SyncRow[][] {
  const out: SyncRow[][] = [];
  let current: SyncRow[] = [];
  const max = Math.max(1, size);
  for (let i = 0; i < rows.length; ) {
    let end = i;
    while (end < rows.length && rows[end].conversationId === rows[i].conversationId) end++;
    const conversation = rows.slice(i, end);
    if (current.length > 0 && current.length + conversation.length > max) {
      out.push(current);
      current = [];
    }
    for (const part of chunks(conversation, max)) {
      if (current.length + part.length > max) {
        out.push(current);
        current = [];
      }
      current.push(...part);
    }
    i = end;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function groupByThread(rows: SyncRow[], thread: (row: SyncRow) => Thread): { thread: Thread; messages: UnifiedMessage[] }[] {
  const groups = new Map<string, { thread: Thread; messages: UnifiedMessage[] }>();
  for (const row of rows) {
    const group = groups.get(row.conversationId) ?? { thread: thread(row), messages: [] };
    group.messages.push(toUnifiedMessage(row, row.dispatchedAt !== null));
    groups.set(row.conversationId, group);
  }
  return [...groups.values()];
}
