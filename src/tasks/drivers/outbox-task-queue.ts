import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { TaskRef } from '../outbox.repository';
import { TaskQueue } from '../task-queue';

/**
 * Embedded driver: the outbox table is the queue. Enqueueing only wakes the poller
 * (OutboxPoller), which claims due rows straight from Postgres.
 */
@Injectable()
export class OutboxTaskQueue extends TaskQueue {
  readonly driver = 'outbox' as const;
  readonly wakeups = new EventEmitter();

  async enqueue(tasks: TaskRef[]): Promise<void> {
    const soonest = Math.min(...tasks.map((t) => t.dueAtMs));
    this.wakeups.emit('wake', soonest);
  }

  async isHealthy(): Promise<boolean> {
    return true;
  }
}
