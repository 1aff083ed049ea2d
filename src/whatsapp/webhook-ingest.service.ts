import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { LOGGER } from '../common/logger';
import { ContactsRepository } from '../contacts/contacts.repository';
import { ConversationsRepository } from '../conversations/conversations.repository';
import type { StoredMedia } from '../conversations/entities/message.entity';
import { MetricsService, type WebhookOutcome } from '../health/metrics.service';
import { OutboxRepository, type TaskRef } from '../sync/outbox.repository';
import { TaskQueue } from '../sync/task-queue';
import { MalformedWebhookError, parseWhatsAppWebhook } from './inbound/inbound.parser';
import type { InboundMessage, ParsedWebhook, ParseProblem } from './inbound/inbound.types';
import { QuarantineRepository } from './quarantine.repository';

export interface IngestResult {
  outcome: WebhookOutcome;
  stored: number;
  duplicates: number;
  statuses: number;
  quarantined: number;
}

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
  constructor(
    private readonly dataSource: DataSource,
    private readonly contacts: ContactsRepository,
    private readonly conversations: ConversationsRepository,
    private readonly outbox: OutboxRepository,
    private readonly quarantine: QuarantineRepository,
    private readonly queue: TaskQueue,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async ingest(rawBody: Buffer): Promise<IngestResult> {
    const parsed = this.parse(rawBody);
    let attempt = 0;
    for (;;) {
      try {
        const { result, tasks } = await this.dataSource.transaction('READ COMMITTED', (manager) => this.store(manager, rawBody, parsed));
        // After commit: hand the new task ids to the queue. Not awaited by the webhook: the rows are
        // committed, and the sweeper re-enqueues anything Redis loses.
        if (tasks.length > 0) void this.queue.enqueue(tasks);
        this.metrics.messagesStored.inc(result.stored);
        return result;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code && RETRYABLE_PG_CODES.has(code) && ++attempt < 3) continue;
        throw error;
      }
    }
  }

  /** The whole body as parsed, or one problem covering all of it. */
  private parse(rawBody: Buffer): ParsedWebhook {
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { messages: [], statuses: [], ignored: 0, problems: [{ reason: 'body is not valid JSON', fragment: undefined }] };
    }
    try {
      return parseWhatsAppWebhook(json);
    } catch (error) {
      if (error instanceof MalformedWebhookError) {
        return { messages: [], statuses: [], ignored: 0, problems: [{ reason: error.message, fragment: undefined }] };
      }
      throw error;
    }
  }

  private async store(manager: EntityManager, rawBody: Buffer, parsed: ParsedWebhook): Promise<{ result: IngestResult; tasks: TaskRef[] }> {
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
      await this.conversations.applyStatus(manager, {
        wamid: status.wamid,
        status: status.status,
        occurredAt: status.timestamp,
        recipientId: status.recipientId,
        errors: status.errors,
      });
    }
    await this.quarantineProblems(manager, rawBody, parsed.problems);

    const outcome: WebhookOutcome =
      stored > 0 ? 'stored' : parsed.problems.length > 0 ? 'quarantined' : duplicates > 0 ? 'duplicate' : parsed.statuses.length > 0 ? 'status' : 'empty';
    return { result: { outcome, stored, duplicates, statuses: parsed.statuses.length, quarantined: parsed.problems.length }, tasks };
  }

  /** Returns the tasks the new message caused, or null when its wamid was stored before. */
  private async storeMessage(manager: EntityManager, m: InboundMessage): Promise<TaskRef[] | null> {
    const contactId = await this.contacts.findOrCreate(manager, m.waId, `+${m.waId}`, m.profileName);
    const conversationId = await this.conversations.findOrOpen(manager, contactId, m.phoneNumberId, m.displayPhoneNumber, m.timestamp);
    const media: StoredMedia | undefined = m.media ? { ...m.media } : undefined;
    const messageId = await this.conversations.insertInbound(manager, {
      wamid: m.wamid,
      conversationId,
      contactId,
      type: m.type,
      body: m.body,
      content: m.content,
      media,
      context: m.context ? { ...m.context } : undefined,
      referral: m.referral,
      errors: m.errors,
      forwarded: Boolean(m.context?.forwarded || m.context?.frequentlyForwarded),
      waTimestamp: m.timestamp,
    });
    if (!messageId) return null;
    return this.outbox.insertForNewMessage(manager, conversationId, messageId, Boolean(media));
  }

  private async quarantineProblems(manager: EntityManager, rawBody: Buffer, problems: ParseProblem[]): Promise<void> {
    for (const problem of problems) {
      // The whole body when the problem covers all of it; else just the offending fragment.
      const payload = problem.fragment === undefined ? rawBody.toString('utf8') : JSON.stringify(problem.fragment);
      await this.quarantine.insert(manager, 'whatsapp', problem.reason, payload);
      this.logger.warn({ reason: problem.reason }, 'webhook content quarantined');
    }
  }
}
