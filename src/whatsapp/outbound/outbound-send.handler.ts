import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../../config/configuration';
import { LOGGER } from '../../common/logger';
import { insertOutboundFanOut } from '../../conversations/fan-out';
import { ConsentGate } from '../../consent/consent-gate';
import { ConversationsRepository } from '../../conversations/conversations.repository';
import { OutboundMessagesRepository, PENDING_WAMID_PREFIX } from '../../conversations/outbound-messages.repository';
import type { OutboxTaskEntity } from '../../tasks/entities/outbox-task.entity';
import type { TaskRef } from '../../tasks/outbox.repository';
import { type BudgetHold, RequestBudgets } from '../../tasks/request-budget';
import { QueueName } from '../../tasks/queues';
import { later, type TaskHandler, type TaskResult } from '../../tasks/task-handler';
import { TaskQueue } from '../../tasks/task-queue';
import { MetricsService } from '../../health/metrics.service';
import { CloudApiClient, WhatsAppApiError } from '../cloud-api.client';
import { toCloudApiMessage } from './outbound.mapper';
import { OutboundRepository, type OutboundMessageRow } from './outbound.repository';
import { decideSendFailure } from './send-failure';

/** A budget wait up to this long is slept through; longer ones give the worker back. */
const MAX_INLINE_WAIT_MS = 1000;
/** A send's budget place lapses after this even if never released (a crashed worker); above the client's 15 s timeout. */
const MAX_SEND_HOLD_MS = 30_000;
/** How soon a message queued behind another one to the same customer looks again. */
const ORDER_RECHECK_MS = 250;

/**
 * Sends one outbound message through the Cloud API: in order per customer, under the business
 * number's throughput budget (shared by every worker), after a last look at the consent gate.
 * Meta's wamid replaces the placeholder on the message row, and statuses Meta reported before we
 * stored it are applied then. Failures follow send-failure.ts.
 */
@Injectable()
export class OutboundSendHandler implements TaskHandler {
  readonly queue = QueueName.WhatsappOutbound;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: OutboundRepository,
    private readonly conversations: ConversationsRepository,
    private readonly messages: OutboundMessagesRepository,
    private readonly gate: ConsentGate,
    private readonly api: CloudApiClient,
    private readonly budgets: RequestBudgets,
    private readonly tasks: TaskQueue,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    const message = task.messageId ? await this.repo.findForSend(task.messageId) : null;
    if (!message) return { outcome: 'done' }; // erased meanwhile
    if (!message.wamid.startsWith(PENDING_WAMID_PREFIX)) return { outcome: 'done' }; // sent by an earlier run
    if (!this.api.configured) return { outcome: 'dead', error: 'WHATSAPP_ACCESS_TOKEN is not set: nothing can be sent' };
    if (await this.repo.hasEarlierUnsent(message.contactId, message.seq)) return later(ORDER_RECHECK_MS);

    // The gate again, at send time: consent may have been withdrawn, or the window closed, while
    // the message waited in the queue.
    const decision = await this.gate.check({
      contactId: message.contactId,
      category: message.category,
      isTemplate: message.type === 'template',
      phoneNumberId: message.phoneNumberId,
    });
    if (!decision.allowed) {
      await this.repo.insertRefusal({ ...message, isTemplate: message.type === 'template', reason: decision.reason, detail: decision.detail });
      await this.markFailed(message.id, null, `refused (${decision.reason}): ${decision.detail}`);
      this.logger.info({ messageId: message.id, reason: decision.reason }, 'outbound message refused at send time');
      await this.wakeNext(message);
      return { outcome: 'done' };
    }

    const budgetKey = `whatsapp:${message.phoneNumberId}`;
    const place = await this.holdThroughputPlace(budgetKey);
    if (!place.granted) return later(place.waitMs);

    let wamid: string;
    try {
      ({ wamid } = await this.api.sendMessage(message.phoneNumberId, toCloudApiMessage(message.waId, message.type, message.content, message.context?.replyTo)));
    } catch (error) {
      await place.release();
      return this.onFailure(task, message, budgetKey, error);
    }
    await place.release();
    this.metrics.whatsappSends.inc({ outcome: 'sent', error_code: '' });
    await this.storeWamid(message.id, wamid);
    await this.wakeNext(message);
    return { outcome: 'done' };
  }

  /** The next message queued behind this one to the same customer may go now. */
  private async wakeNext(message: OutboundMessageRow): Promise<void> {
    const next = await this.repo.wakeNext(message.contactId, message.seq);
    if (next.length) await this.tasks.enqueue(next);
  }

  /**
   * A place in the number's throughput budget for one send, waited for up to MAX_INLINE_WAIT_MS;
   * else how long to wait before trying again. Meta counts a send when it arrives, which can be
   * any time until its answer: the place is held from before the call until a second after the
   * answer (RequestBudgets.tryHold), so no second at Meta sees more than the configured throughput,
   * whatever the network or an event-loop stall does to one request. A window counted from the
   * start alone let up to 45 of 40/s land in one second at Meta, and Meta refuse the extra ones,
   * when sends were delayed on their way (test/e2e/reply-burst.e2e-spec.ts). The price is the
   * round trip: at most throughput × 1 s / (1 s + round trip) sends a second, cheaper than a
   * 130429, which stops the whole number for a second or more (send-failure.ts).
   */
  private async holdThroughputPlace(key: string): Promise<BudgetHold> {
    const limit = { requests: this.config.whatsapp.throughputPerSecond, perMs: 1000 };
    for (;;) {
      const place = await this.budgets.tryHold(key, limit, MAX_SEND_HOLD_MS);
      if (place.granted || place.waitMs > MAX_INLINE_WAIT_MS) return place;
      await sleep(place.waitMs);
    }
  }

  /**
   * The wamid replaces the placeholder, and statuses Meta sent before it was stored are applied, in
   * one transaction. Applied once more after the commit: a status webhook committing while this
   * transaction ran could not see the wamid yet (applying is idempotent and never goes backwards).
   */
  private async storeWamid(messageId: string, wamid: string): Promise<void> {
    const tasks = await this.dataSource.transaction(async (manager) => {
      await this.messages.markAccepted(manager, messageId, wamid);
      // Sent: the connected systems get the message, except the one it was written in (src/replies).
      const written = await insertOutboundFanOut(manager, messageId);
      for (const status of await this.repo.statusEvents(manager, wamid)) written.push(...(await this.conversations.applyStatus(manager, status)));
      return written;
    });
    const manager = this.dataSource.manager;
    for (const status of await this.repo.statusEvents(manager, wamid)) tasks.push(...(await this.conversations.applyStatus(manager, status)));
    await this.enqueue(tasks);
  }

  /** The message could not be sent: its failure and the reply-status task it may write commit together, then the task is queued. */
  private async markFailed(messageId: string, code: number | null, reason: string): Promise<void> {
    await this.enqueue(await this.dataSource.transaction((manager) => this.messages.markFailed(manager, messageId, code, reason)));
  }

  /** Hands tasks written with the message (CRM syncs, reply statuses) to the queue, after their commit. */
  private async enqueue(tasks: TaskRef[]): Promise<void> {
    if (tasks.length) await this.tasks.enqueue(tasks);
  }

  private async onFailure(task: OutboxTaskEntity, message: OutboundMessageRow, budgetKey: string, error: unknown): Promise<TaskResult> {
    if (!(error instanceof WhatsAppApiError)) throw error;
    const decision = decideSendFailure(error, task.attempts);
    // failed: refused for good; throttled: a pair or throughput limit; auth: the token; retry: anything else.
    const outcome = decision.action === 'permanent' ? 'failed' : decision.action === 'recipient_backoff' || decision.action === 'number_backoff' ? 'throttled' : decision.action;
    this.metrics.whatsappSends.inc({ outcome, error_code: error.code === undefined ? '' : String(error.code) });
    const context = { messageId: message.id, httpStatus: error.httpStatus, code: error.code, action: decision.action };
    switch (decision.action) {
      case 'permanent':
        this.logger.warn(context, 'WhatsApp refused the message for good');
        await this.markFailed(message.id, error.code ?? null, decision.reason);
        await this.wakeNext(message);
        return { outcome: 'dead', error: decision.reason };
      case 'recipient_backoff':
        // Only this customer's messages wait (the later ones queue behind this one); others go on.
        this.logger.info(context, 'pair rate limit: this customer gets the message later');
        return later(decision.delayMs, decision.reason);
      case 'number_backoff':
        this.logger.warn({ ...context, delayMs: decision.delayMs }, 'throughput limit: pausing sends from this business number');
        await this.budgets.pauseFor(budgetKey, decision.delayMs);
        return later(decision.delayMs, decision.reason);
      case 'auth':
        this.logger.error(context, 'WhatsApp refused the access token: renew WHATSAPP_ACCESS_TOKEN; the message will be retried');
        return later(decision.delayMs, decision.reason);
      case 'retry':
        this.logger.warn(context, 'send failed; will retry');
        return { outcome: 'retry', at: new Date(Date.now() + decision.delayMs), error: decision.reason };
    }
  }
}
