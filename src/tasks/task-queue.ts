import type { TaskRef } from './outbox.repository';

/**
 * Where task ids go after the transaction that wrote the rows commits. Two drivers: BullMQ on
 * Redis (production), and the embedded poller that reads due rows straight from the outbox.
 * Either way the outbox row is the truth and the sweeper repairs anything a queue lost.
 */
export abstract class TaskQueue {
  abstract readonly driver: 'bullmq' | 'outbox';
  /** Hands tasks to workers. Never throws: a lost id is found again by the sweeper. */
  abstract enqueue(tasks: TaskRef[]): Promise<void>;
  /** For readiness: can the queue take work right now? */
  abstract isHealthy(): Promise<boolean>;
}
