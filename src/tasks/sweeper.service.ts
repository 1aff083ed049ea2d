import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import { OutboxRepository } from './outbox.repository';
import { TaskQueue } from './task-queue';
import { TaskRunner } from './task-runner.service';

/**
 * Re-enqueues outbox rows that are due but that no queue seems to hold: Redis keeps nothing on
 * disk, so after a restart (or a failed enqueue) the rows are the only record of the work. It
 * also finds work whose lease ran out (a worker killed, or cut off from the database): tasks
 * whose claim expired, and drains whose holder stopped renewing. Running it on several workers
 * is harmless: job ids dedupe, and claiming happens in Postgres.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly queue: TaskQueue,
    private readonly runner: TaskRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.queue.sweepIntervalMs);
    this.timer.unref();
    void this.sweep();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass; returns how many rows were re-enqueued. */
  async sweep(): Promise<number> {
    try {
      // The embedded poller reads due and expired rows from the table itself; drains left behind
      // it cannot see (their tasks wait on a long recheck), so those are woken in both modes.
      const stale = this.queue.driver === 'bullmq' ? await this.outbox.findStale(this.config.queue.sweepStaleMs, 1000, this.runner.queues) : [];
      stale.push(...(await this.runner.abandoned()));
      if (stale.length > 0) {
        await this.queue.enqueue(stale);
        this.logger.info({ count: stale.length }, 'sweeper re-enqueued outbox rows');
      }
      return stale.length;
    } catch (err) {
      this.logger.warn({ err }, 'sweep failed; will try again');
      return 0;
    }
  }
}
