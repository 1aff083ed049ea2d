import { Inject, Injectable } from '@nestjs/common';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { LOGGER } from '../common/logger';
import { ConversationsRepository } from '../conversations/conversations.repository';
import { MetricsService } from '../health/metrics.service';
import type { OutboxTaskEntity } from '../tasks/entities/outbox-task.entity';
import { OutboxRepository, type TaskRef } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';
import { later, type TaskHandler, type TaskResult } from '../tasks/task-handler';
import { TaskQueue } from '../tasks/task-queue';
import { InvalidOutboundMessageError } from '../whatsapp/outbound/outbound.types';
import { WhatsAppSender } from '../whatsapp/outbound/whatsapp-sender.service';
import { compileHours } from './hours';
import type { ServicePolicy } from './policy-document';
import { type AutoReply, type Decision, decide, decideTimeout, languageFor } from './service-decisions';
import { type PendingMessage, ServicePolicyRepository } from './service-policy.repository';
import { ticketRoutingOf } from './routing';

/** Who the customer and the CRMs see as the author of what the policy sends. */
export const AUTO_AUTHOR = 'threadbridge (auto)';
export const AUTO_ORIGIN = 'service-policy';

/**
 * The service policy's background work (queue service-policy), by task kind:
 * - `inbound`: a customer message to look at — away message, greeting, triage, route;
 * - `triage-timeout`: the menu went unanswered for the policy's minutes;
 * - `auto-reply`: the replies one message caused, sent in order through the consent gate and the
 *   outbound queue (a task of their own, so a failed send is retried without deciding again);
 * - `first-response`, `resolved`: a conversation's response time, into the histograms.
 *
 * Decisions for one conversation are taken one at a time under a row lock, in message order: a
 * task looks at every message up to its own that no task has looked at yet, so two workers never
 * show the menu twice or route on a stale state. Everything it sends is keyed (away per closed
 * period, greeting and menu per conversation), so a redelivered webhook or a re-run sends nothing twice.
 */
@Injectable()
export class ServicePolicyHandler implements TaskHandler {
  readonly queue = QueueName.ServicePolicy;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ServicePolicyRepository,
    private readonly conversations: ConversationsRepository,
    private readonly outbox: OutboxRepository,
    private readonly queueDriver: TaskQueue,
    private readonly sender: WhatsAppSender,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    switch (task.kind) {
      case 'inbound':
        return this.inbound(task);
      case 'triage-timeout':
        return this.timeout(task);
      case 'auto-reply':
        return this.autoReply(task);
      case 'first-response':
      case 'resolved':
        await this.observe(task.kind, task.conversationId);
        return { outcome: 'done' };
      default:
        return { outcome: 'dead', error: `unknown service-policy task kind ${task.kind}` };
    }
  }

  private async inbound(task: OutboxTaskEntity): Promise<TaskResult> {
    const facts = task.messageId ? await this.repo.messageFacts(task.messageId) : null;
    if (!facts) return { outcome: 'done' }; // erased meanwhile
    const policy = await this.repo.policyFor(facts.phoneNumberId);
    if (!policy) return { outcome: 'done' };
    const hours = compileHours(policy);
    const language = languageFor(policy, parsePhoneNumberFromString(facts.e164)?.country);

    const tasks = await this.dataSource.transaction(async (manager) => {
      const locked = await this.repo.lockState(manager, facts.conversationId);
      if (!locked || BigInt(facts.seq) <= BigInt(locked.lastSeq)) return [];
      const written: TaskRef[] = [];
      let state = locked.state;
      for (const m of await this.repo.pendingMessages(manager, facts.conversationId, locked.lastSeq, facts.seq)) {
        const decision = decide(policy, hours, state, toCustomerMessage(m, facts), language);
        written.push(...(await this.apply(manager, policy, facts, decision, `auto-reply:${m.wamid}`)));
        state = decision.state;
      }
      await this.repo.saveState(manager, facts.conversationId, state, facts.seq);
      return written;
    });
    if (tasks.length) await this.queueDriver.enqueue(tasks);
    return { outcome: 'done' };
  }

  private async timeout(task: OutboxTaskEntity): Promise<TaskResult> {
    const facts = task.conversationId ? await this.repo.conversationFacts(task.conversationId) : null;
    if (!facts) return { outcome: 'done' };
    const policy = await this.repo.policyFor(facts.phoneNumberId);
    if (!policy) return { outcome: 'done' };
    let wait: Date | undefined;
    const tasks = await this.dataSource.transaction(async (manager) => {
      const locked = await this.repo.lockState(manager, facts.conversationId);
      const decision = locked ? decideTimeout(policy, locked.state, new Date()) : null;
      if (!decision) return [];
      if (!decision.route) {
        wait = decision.timeoutAt;
        return [];
      }
      const written = await this.apply(manager, policy, facts, decision, `auto-reply:timeout:${facts.conversationId}`);
      await this.repo.saveState(manager, facts.conversationId, decision.state);
      return written;
    });
    if (tasks.length) await this.queueDriver.enqueue(tasks);
    // Not due yet: the task waits (the attempt is given back).
    return wait ? later(Math.max(0, wait.getTime() - Date.now())) : { outcome: 'done' };
  }

  /** Writes what a decision asks for, in the caller's transaction: the replies' task, the route, the time-out. */
  private async apply(manager: EntityManager, policy: ServicePolicy, facts: { conversationId: string }, decision: Decision, replyKey: string): Promise<TaskRef[]> {
    const written: TaskRef[] = [];
    if (decision.replies.length) {
      written.push(
        ...(await this.outbox.insert(manager, [
          { queue: QueueName.ServicePolicy, kind: 'auto-reply', dedupeKey: replyKey, conversationId: facts.conversationId, payload: { replies: decision.replies } },
        ])),
      );
    }
    if (decision.route) {
      const definition = policy.routing?.[decision.route.name];
      written.push(
        ...(await this.conversations.applyRoute(manager, facts.conversationId, {
          route: decision.route.name,
          connections: definition?.connections ?? null,
          ticket: ticketRoutingOf(policy, decision.route.name),
        })),
      );
    }
    if (decision.timeoutAt) written.push(...(await this.repo.insertTimeoutTask(manager, facts.conversationId)));
    return written;
  }

  private async autoReply(task: OutboxTaskEntity): Promise<TaskResult> {
    const facts = task.conversationId ? await this.repo.conversationFacts(task.conversationId) : null;
    if (!facts) return { outcome: 'done' };
    const replies = ((task.payload?.replies as AutoReply[] | undefined) ?? []).filter(Boolean);
    for (const reply of replies) {
      try {
        const result = await this.sender.send({
          contactId: facts.contactId,
          conversationId: facts.conversationId,
          category: 'service',
          ...(reply.kind === 'menu' ? { interactive: reply.menu } : { text: reply.text }),
          origin: AUTO_ORIGIN,
          author: AUTO_AUTHOR,
          idempotencyKey: reply.key,
        });
        // E.g. the customer opted out of everything, or the 24-hour window closed before the worker got here.
        if (result.status === 'refused') this.logger.info({ conversationId: facts.conversationId, kind: reply.kind, reason: result.reason }, 'auto-reply not sent');
      } catch (error) {
        if (error instanceof InvalidOutboundMessageError) return { outcome: 'dead', error: `the ${reply.kind} message cannot be sent: ${error.message}` };
        throw error;
      }
    }
    return { outcome: 'done' };
  }

  /** One observation per conversation and event, calendar time and (with a policy) business hours. */
  private async observe(kind: 'first-response' | 'resolved', conversationId: string | null): Promise<void> {
    const times = conversationId ? await this.repo.responseTimes(conversationId) : null;
    if (!times) return;
    const [from, to] = kind === 'first-response' ? [times.handoffAt ?? times.openedAt, times.firstResponseAt] : [times.openedAt, times.resolvedAt];
    if (!to) return;
    const histogram = kind === 'first-response' ? this.metrics.firstResponseSeconds : this.metrics.resolutionSeconds;
    const start = from.getTime() < to.getTime() ? from : to;
    histogram.observe({ business_hours: 'false' }, (to.getTime() - start.getTime()) / 1000);
    const policy = await this.repo.policyFor(times.phoneNumberId);
    if (policy) histogram.observe({ business_hours: 'true' }, compileHours(policy).businessMs(start, to) / 1000);
  }
}

function toCustomerMessage(m: PendingMessage, facts: { conversationId: string; phoneNumberId: string }) {
  const content = (m.content ?? {}) as { button_reply?: { id?: unknown }; list_reply?: { id?: unknown } };
  const replyId = content.button_reply?.id ?? content.list_reply?.id;
  return {
    conversationId: facts.conversationId,
    phoneNumberId: facts.phoneNumberId,
    at: new Date(m.waTimestamp),
    text: m.body,
    replyId: typeof replyId === 'string' ? replyId : null,
    first: m.first,
  };
}
