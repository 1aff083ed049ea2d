import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import type { OutboxTaskEntity } from './entities/outbox-task.entity';
import { OutboxRepository } from './outbox.repository';
import { DEFAULT_TASK_LEASE_MS, type QueueName } from './sync.constants';
import { TASK_HANDLERS, type TaskHandler } from './task-handler';
import { TaskQueue } from './task-queue';

/**
 * The one processor function behind every queue driver: claim the row, run its handler, record the
 * outcome. Claiming in Postgres makes a duplicate job id (a sweeper re-enqueue, a Redis replay)
 * harmless: only one worker can hold a task at a time.
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
    this.leaseMs = config.queue.leaseMs ?? DEFAULT_TASK_LEASE_MS;
  }

  get leaseDurationMs(): number {
    return this.leaseMs;
  }

  /** The queues this process has handlers for. */
  get queues(): QueueName[] {
    return [...this.handlers.keys()] as QueueName[];
  }

  /** Runs a task by id (BullMQ driver). A task not due or held elsewhere is left alone. */
  async run(taskId: string): Promise<void> {
    const task = await this.outbox.claim(taskId, this.leaseMs);
    if (task) await this.execute(task);
  }

  /** Runs a task already claimed (embedded driver). */
  async execute(task: OutboxTaskEntity): Promise<void> {
    const handler = this.handlers.get(task.queue);
    if (!handler) {
      await this.outbox.kill(task.id, `no handler for queue ${task.queue}`);
      return;
    }
    let result;
    try {
      result = await handler.handle(task);
    } catch (error) {
      // A handler that throws has hit something unexpected (a bug, the database going away):
      // retry with backoff rather than lose the task.
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ taskId: task.id, queue: task.queue, err: error }, 'task failed unexpectedly; will retry');
      const delay = Math.min(60_000, 1000 * 2 ** Math.min(task.attempts, 6));
      result = { outcome: 'retry' as const, at: new Date(Date.now() + delay), error: message };
    }
    switch (result.outcome) {
      case 'done':
        await this.outbox.complete(task.id);
        return;
      case 'dead':
        this.logger.warn({ taskId: task.id, queue: task.queue, reason: result.error }, 'task moved to dead letters');
        await this.outbox.kill(task.id, result.error);
        return;
      case 'retry': {
        await this.outbox.reschedule(task.id, result.at, result.error ?? null, result.refundAttempt);
        await this.queue.enqueue([{ id: task.id, queue: task.queue as QueueName, dueAtMs: result.at.getTime() }]);
        return;
      }
    }
  }
}
