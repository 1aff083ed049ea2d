import { Inject, Injectable } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import type { OutboxTaskEntity } from './entities/outbox-task.entity';
import { LeaseHeartbeat, releaseWhenPossible } from './lease';
import { OutboxRepository, type TaskRef } from './outbox.repository';
import type { QueueName } from './queues';
import { TASK_HANDLERS, type TaskHandler, type TaskResult } from './task-handler';
import { TaskQueue } from './task-queue';
import { inTaskSpan, type TraceCarrier } from './task-tracing';

/**
 * The one processor function behind every queue driver: claim the row, run its handler, record the
 * outcome. Claiming in Postgres makes a duplicate job id (a sweeper re-enqueue, a Redis replay)
 * harmless: only one worker can hold a task at a time. The claim is a short lease that a heartbeat
 * renews while the handler runs; a worker that dies stops renewing, and the sweeper hands its task
 * to another worker within seconds.
 */
@Injectable()
export class TaskRunner {
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly leaseMs: number;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly queue: TaskQueue,
    @Inject(TASK_HANDLERS) handlers: TaskHandler[],
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    for (const handler of handlers) this.handlers.set(handler.queue, handler);
    this.leaseMs = config.queue.leaseMs;
  }

  get leaseDurationMs(): number {
    return this.leaseMs;
  }

  /** The queues this process has handlers for. */
  get queues(): QueueName[] {
    return [...this.handlers.keys()] as QueueName[];
  }

  /**
   * Runs a task by id (BullMQ driver). A task not due or held elsewhere is left alone. `trace`: the
   * trace context the job carries from its enqueue, so the task's span joins that trace.
   */
  run(taskId: string, queue: string, trace?: TraceCarrier): Promise<void> {
    return inTaskSpan(queue, trace, async (span) => {
      span.setAttribute('threadbridge.task.id', taskId);
      const claimedAt = Date.now();
      const task = await this.outbox.claim(taskId, this.leaseMs);
      if (!task) span.setAttribute('threadbridge.task.outcome', 'not_claimed');
      else await this.executeClaimed(task, claimedAt, span);
    });
  }

  /**
   * Work that dead workers left under leases the handlers keep themselves (a connection's
   * drain), made due again: for the sweeper to enqueue.
   */
  async abandoned(): Promise<TaskRef[]> {
    const found: TaskRef[] = [];
    for (const handler of this.handlers.values()) if (handler.abandoned) found.push(...(await handler.abandoned()));
    return found;
  }

  /**
   * Runs a task already claimed (embedded driver); `claimedAtMs`: when the claim was sent. The
   * outbox row carries no trace context, so each such task is the root of a trace of its own.
   */
  execute(task: OutboxTaskEntity, claimedAtMs: number): Promise<void> {
    return inTaskSpan(task.queue, undefined, (span) => {
      span.setAttribute('threadbridge.task.id', task.id);
      return this.executeClaimed(task, claimedAtMs, span);
    });
  }

  private async executeClaimed(task: OutboxTaskEntity, claimedAtMs: number, span: Span): Promise<void> {
    const token = task.leaseToken!;
    const handler = this.handlers.get(task.queue);
    if (!handler) {
      await this.outbox.kill(task.id, token, `no handler for queue ${task.queue}`);
      return;
    }
    const lease = new LeaseHeartbeat(() => this.outbox.renew(task.id, token, this.leaseMs), this.leaseMs, claimedAtMs);
    let result: TaskResult;
    try {
      result = await handler.handle(task, lease.signal);
    } catch (error) {
      // A handler that throws has hit something unexpected (a bug, the database going away):
      // retry with backoff rather than lose the task.
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ taskId: task.id, queue: task.queue, err: error }, 'task failed unexpectedly; will retry');
      const delay = Math.min(60_000, 1000 * 2 ** Math.min(task.attempts, 6));
      result = { outcome: 'retry', at: new Date(Date.now() + delay), error: message };
    } finally {
      lease.stop();
    }
    span.setAttribute('threadbridge.task.outcome', lease.held ? result.outcome : 'lease_lost');
    if (!lease.held) {
      // The heartbeat failed (the database went away?) or the lease ran out: the task may be
      // another worker's now, so what the handler decided is not ours to record. Give the task
      // back as soon as the database answers, so it runs again at once rather than a lease later.
      this.logger.warn({ taskId: task.id, queue: task.queue, reason: String(lease.signal.reason?.message ?? 'lease ran out') }, 'task lease lost; handing the task back');
      void this.handBack(task, token, lease.heldUntil);
      return;
    }
    try {
      await this.record(task, token, result);
    } catch (error) {
      this.logger.warn({ taskId: task.id, queue: task.queue, err: error }, 'could not record the task outcome; handing the task back');
      void this.handBack(task, token, lease.heldUntil);
    }
  }

  private async record(task: OutboxTaskEntity, token: string, result: TaskResult): Promise<void> {
    switch (result.outcome) {
      case 'done':
        await this.outbox.complete(task.id, token);
        return;
      case 'dead':
        this.logger.warn({ taskId: task.id, queue: task.queue, reason: result.error }, 'task moved to dead letters');
        await this.outbox.kill(task.id, token, result.error);
        return;
      case 'retry': {
        if (await this.outbox.reschedule(task.id, token, result.at, result.error ?? null, result.refundAttempt)) {
          await this.queue.enqueue([{ id: task.id, queue: task.queue as QueueName, dueAtMs: result.at.getTime() }]);
        }
        return;
      }
    }
  }

  /**
   * Makes the task due now under our claim (a no-op once another worker holds it) and enqueues it,
   * retrying in the background while the database is away.
   */
  private async handBack(task: OutboxTaskEntity, token: string, leaseEndsAtMs: number): Promise<void> {
    await releaseWhenPossible(
      async () => {
        const at = new Date();
        if (await this.outbox.reschedule(task.id, token, at, 'the worker lost its lease', true)) {
          await this.queue.enqueue([{ id: task.id, queue: task.queue as QueueName, dueAtMs: at.getTime() }]);
        }
      },
      leaseEndsAtMs,
      () => this.logger.info({ taskId: task.id, queue: task.queue }, 'database still away; the sweeper takes the task over once its lease runs out'),
    );
  }
}
