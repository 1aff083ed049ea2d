import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { LOGGER } from '../common/logger';
import { ConversationsRepository } from '../conversations/conversations.repository';
import { compileKeywords, type KeywordSet, matchKeyword } from '../consent/keywords';
import { MetricsService, type WebhookOutcome } from '../health/metrics.service';
import type { TaskRef } from '../tasks/outbox.repository';
import { TaskQueue } from '../tasks/task-queue';
import { MalformedWebhookError, parseWhatsAppWebhook } from './inbound/inbound.parser';
import { beyondJsonLimits, normaliseUnstorableText } from './inbound/json-limits';
import type { InboundMessage, ParsedWebhook, ParseProblem } from './inbound/inbound.types';
import { Batcher } from './ingest-batcher';
import { InboundListeners } from './inbound-listeners';
import { IngestRepository, type KeywordHit, type NewInboundMessage } from './ingest.repository';
import { QuarantineRepository } from './quarantine.repository';

export interface IngestResult {
  outcome: WebhookOutcome;
  stored: number;
  duplicates: number;
  statuses: number;
  quarantined: number;
}

const ESCAPE = Buffer.from('\\u');

// Postgres codes worth one more try of the whole delivery: deadlock, serialization failure.
const RETRYABLE_PG_CODES = new Set(['40P01', '40001']);

/**
 * Turns one signed POST from Meta into stored rows, in ONE transaction: contacts, conversations,
 * messages (a wamid seen before is a no-op), statuses, quarantined fragments and the outbox rows
 * for everything that must happen next. The caller answers 200 only after this resolves; if the
 * database is unreachable it throws and the caller answers 503, so Meta delivers again.
 */
@Injectable()
export class WebhookIngestService {
  /** Deliveries of messages only (the common case) share round trips under load. */
  private readonly batcher: Batcher<NewInboundMessage, TaskRef[] | null>;
  private readonly keywords: KeywordSet;

  constructor(
    private readonly dataSource: DataSource,
    private readonly ingestRepo: IngestRepository,
    private readonly conversations: ConversationsRepository,
    private readonly quarantine: QuarantineRepository,
    private readonly queue: TaskQueue,
    private readonly listeners: InboundListeners,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // Few writers, big batches: each batch costs a round trip and a fixed share of Node and
    // Postgres time, so one writer at a time gathers every delivery that arrived meanwhile into
    // its next call. Measured by bench:ingest (CPU per message): 1 writer ~190 µs in Node and
    // ~190 µs in Postgres per message, 7 writers (the old default) ~450 and ~600. More writers
    // help only when Postgres has idle cores; never more than the pool minus room for the rest.
    const maxInFlight = Math.max(1, Math.min(config.ingestWriters, config.dbPoolSize - 2));
    this.keywords = compileKeywords(config.consent.stopKeywords, config.consent.startKeywords);
    this.batcher = new Batcher((messages) => this.ingestRepo.storeInboundBatch(this.dataSource.manager, messages), maxInFlight);
  }

  async ingest(rawBody: Buffer): Promise<IngestResult> {
    const { parsed, normalised } = this.parse(rawBody);
    let attempt = 0;
    for (;;) {
      try {
        // Messages only (the common delivery): one atomic statement, batched with concurrent
        // deliveries. Anything with statuses or quarantined parts: one transaction of its own.
        const messagesOnly = parsed.messages.length > 0 && parsed.statuses.length === 0 && parsed.problems.length === 0 && !normalised;
        const { result, tasks } = messagesOnly
          ? await this.storeMessagesOnly(parsed)
          : await this.dataSource.transaction((manager) => this.store(manager, rawBody, parsed, normalised));
        // Consent keywords (STOP/START) are rare: found in memory, and their tasks written after the
        // messages are committed, so the common delivery pays nothing. Before the 200 and keyed on
        // the wamid: if this fails Meta delivers again, and a repeat writes nothing twice.
        tasks.push(...(await this.keywordTasks(parsed.messages)));
        // The same for features that act on every message (the service policy), when one is active.
        if (parsed.messages.length > 0 && this.listeners.active) {
          tasks.push(...(await this.listeners.tasksFor(this.dataSource.manager, parsed.messages.map((m) => m.wamid))));
        }
        // After commit: hand the new task ids to the queue. Not awaited by the webhook: the rows are
        // committed, and the sweeper re-enqueues anything Redis loses.
        if (tasks.length > 0) void this.queue.enqueue(tasks);
        this.metrics.messagesStored.inc(result.stored);
        for (const problem of parsed.problems) this.metrics.quarantine.inc({ reason: quarantineCategory(problem.reason) });
        if (normalised && result.stored > 0) this.metrics.quarantine.inc({ reason: 'unstorable_text' });
        return result;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code && RETRYABLE_PG_CODES.has(code) && ++attempt < 3) continue;
        throw error;
      }
    }
  }

  /**
   * The whole body as parsed, or one problem covering all of it. The body's shape is checked on its
   * bytes before anything walks it (too deep, too many values: quarantined with the reason), and
   * text Postgres cannot hold is normalised before it reaches any row (`normalised` says so).
   */
  private parse(rawBody: Buffer): { parsed: ParsedWebhook; normalised: boolean } {
    const whole = (reason: string) => ({ parsed: { messages: [], statuses: [], ignored: 0, problems: [{ reason, fragment: undefined }] }, normalised: false });
    const beyond = beyondJsonLimits(rawBody);
    if (beyond) return whole(`body ${beyond}`);
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return whole('body is not valid JSON');
    }
    // Only a \u escape can carry a NUL or a lone surrogate: the common body skips the walk.
    const normalised = rawBody.includes(ESCAPE) && normaliseUnstorableText(json) > 0;
    try {
      return { parsed: parseWhatsAppWebhook(json), normalised };
    } catch (error) {
      if (error instanceof MalformedWebhookError) return whole(error.message);
      throw error;
    }
  }

  private async store(manager: EntityManager, rawBody: Buffer, parsed: ParsedWebhook, normalised: boolean): Promise<{ result: IngestResult; tasks: TaskRef[] }> {
    const tasks: TaskRef[] = [];
    let stored = 0;
    let duplicates = 0;
    for (const message of parsed.messages) {
      const created = await this.storeMessage(manager, message);
      if (created) {
        stored++;
        tasks.push(...created);
      } else duplicates++;
    }
    for (const status of parsed.statuses) {
      // A status of an agent's reply writes a task telling the reply's origin (src/replies).
      const statusTasks = await this.conversations.applyStatus(manager, {
        wamid: status.wamid,
        status: status.status,
        occurredAt: status.timestamp,
        recipientId: status.recipientId,
        errors: status.errors,
      });
      tasks.push(...statusTasks);
    }
    await this.quarantineProblems(manager, rawBody, parsed.problems);
    // A redelivery of it stores nothing new and adds no second record.
    if (normalised && stored > 0) {
      // Stored, with U+FFFD where the text had NUL or lone surrogates: the messages say so, and the
      // delivery's exact bytes stay with the quarantine for an operator.
      const wamids = parsed.messages.map((m) => m.wamid);
      await this.conversations.markNormalised(manager, wamids);
      await this.quarantine.insert(manager, 'whatsapp', 'text held NUL characters or lone surrogates (stored with U+FFFD)', rawBody.toString('utf8'), {
        raw: rawBody,
        kind: 'normalised',
        wamids,
      });
      this.logger.warn({ messages: wamids.length }, 'webhook text normalised (NUL or lone surrogates replaced)');
    }

    const outcome: WebhookOutcome =
      stored > 0 ? 'stored' : parsed.problems.length > 0 ? 'quarantined' : duplicates > 0 ? 'duplicate' : parsed.statuses.length > 0 ? 'status' : 'empty';
    return { result: { outcome, stored, duplicates, statuses: parsed.statuses.length, quarantined: parsed.problems.length }, tasks };
  }

  private async storeMessagesOnly(parsed: ParsedWebhook): Promise<{ result: IngestResult; tasks: TaskRef[] }> {
    const results = await this.batcher.submit(parsed.messages.map(toNewInboundMessage));
    const tasks = results.flatMap((r) => r ?? []);
    const stored = results.filter((r) => r !== null).length;
    const duplicates = results.length - stored;
    return { result: { outcome: stored > 0 ? 'stored' : 'duplicate', stored, duplicates, statuses: 0, quarantined: 0 }, tasks };
  }

  /** Tasks for the messages that are exactly a consent keyword (text messages only). */
  private async keywordTasks(messages: InboundMessage[]): Promise<TaskRef[]> {
    const found: KeywordHit[] = [];
    for (const m of messages) {
      const intent = m.type === 'text' ? matchKeyword(m.body, this.keywords) : null;
      if (intent) found.push({ wamid: m.wamid, intent });
    }
    return found.length ? this.ingestRepo.insertKeywordTasks(this.dataSource.manager, found) : [];
  }

  /** Returns the tasks the new message caused, or null when its wamid was stored before. */
  private storeMessage(manager: EntityManager, m: InboundMessage): Promise<TaskRef[] | null> {
    return this.ingestRepo.storeInbound(manager, toNewInboundMessage(m));
  }

  private async quarantineProblems(manager: EntityManager, rawBody: Buffer, problems: ParseProblem[]): Promise<void> {
    for (const problem of problems) {
      // The whole body when the problem covers all of it; else just the offending fragment.
      const payload = problem.fragment === undefined ? rawBody.toString('utf8') : JSON.stringify(problem.fragment);
      await this.quarantine.insert(manager, 'whatsapp', problem.reason, payload, problem.fragment === undefined ? { raw: rawBody } : {});
      this.logger.warn({ reason: problem.reason }, 'webhook content quarantined');
    }
  }
}

/**
 * The metric label of a quarantine reason: a few fixed categories, as the reasons themselves name
 * paths and values (unbounded label values would swell every scrape).
 */
export function quarantineCategory(reason: string): string {
  if (reason === 'body is not valid JSON') return 'invalid_json';
  if (reason.startsWith('body ')) return 'beyond_limits';
  if (reason.startsWith('meta error notification')) return 'meta_error';
  return 'invalid_shape';
}

/** What the ingest function stores for one parsed message. */
function toNewInboundMessage(m: InboundMessage): NewInboundMessage {
  return {
    waId: m.waId,
    e164: `+${m.waId}`,
    profileName: m.profileName,
    phoneNumberId: m.phoneNumberId,
    displayPhoneNumber: m.displayPhoneNumber,
    wamid: m.wamid,
    type: m.type,
    body: m.body,
    content: m.content,
    media: m.media ? { ...m.media } : undefined,
    context: m.context ? { ...m.context } : undefined,
    referral: m.referral,
    errors: m.errors?.length ? m.errors : undefined,
    forwarded: Boolean(m.context?.forwarded || m.context?.frequentlyForwarded),
    waTimestamp: m.timestamp,
  };
}

