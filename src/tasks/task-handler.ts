import type { OutboxTaskEntity } from './entities/outbox-task.entity';
import type { TaskRef } from './outbox.repository';
import type { QueueName } from './queues';

/** What a handler decided about a task it ran. */
export type TaskResult =
  | { outcome: 'done' }
  /** Try again at `at`. `refundAttempt`: the task did not really run (e.g. waited for a rate limit). */
  | { outcome: 'retry'; at: Date; error?: string; refundAttempt?: boolean }
  /** Give up: the row stays as a dead letter with the reason, replayable by an operator. */
  | { outcome: 'dead'; error: string };

/** Runs tasks of one queue. Handlers are thin: load by id, apply guards, call a service. */
export interface TaskHandler {
  readonly queue: QueueName;
  /**
   * `lease` aborts when the worker's claim on the task is lost (its heartbeat failed, e.g. the
   * database went away): a handler doing long work should stop then, as its outcome is no
   * longer recorded and another worker may run the task.
   */
  handle(task: OutboxTaskEntity, lease: AbortSignal): Promise<TaskResult>;
  /**
   * For a handler that keeps leases of its own beyond the task's claim (the crm-sync drain):
   * finds work a dead holder left under a lease that ran out, makes it due and returns it for
   * the sweeper to enqueue.
   */
  abandoned?(): Promise<TaskRef[]>;
}

export const TASK_HANDLERS = Symbol('TASK_HANDLERS');

/** Try again after `ms`; `refundAttempt` (the default): the task was only delayed, it did not really run. */
export function later(ms: number, error?: string, refundAttempt = true): TaskResult {
  return { outcome: 'retry', at: new Date(Date.now() + ms), error, refundAttempt };
}

