import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../../config/configuration';
import { LOGGER } from '../../common/logger';
import { OutboxRepository } from '../outbox.repository';
import { TaskRunner } from '../task-runner.service';
import { TaskQueue } from '../task-queue';
import { OutboxTaskQueue } from './outbox-task-queue';

const IDLE_POLL_MS = 500;

/**
 * The embedded driver's worker: claims due outbox rows and runs them, up to the configured
 * concurrency. Woken at once by enqueue(); otherwise polls, so delayed retries and rows left by a
 * crash are found too (this is also the embedded mode's sweeper).
 */
@Injectable()
export class OutboxPoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private running = 0;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private polling = false;
  private pollAgain = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly runner: TaskRunner,
    private readonly queue: TaskQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!(this.queue instanceof OutboxTaskQueue)) return;
    this.queue.wakeups.on('wake', (dueAtMs: number) => this.schedule(Math.max(0, dueAtMs - Date.now())));
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const delay = Math.min(delayMs, IDLE_POLL_MS);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delay);
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      const free = this.config.queue.concurrency - this.running;
      if (free > 0) {
        const claimedAt = Date.now();
        const tasks = await this.outbox.claimDue(free, this.runner.leaseDurationMs, this.runner.queues);
        for (const task of tasks) {
          this.running++;
          const p = this.runner
            .execute(task, claimedAt)
            .catch((err) => this.logger.error({ err, taskId: task.id }, 'task runner failed'))
            .finally(() => {
              this.running--;
              this.inFlight.delete(p);
              this.schedule(0);
            });
          this.inFlight.add(p);
        }
        if (tasks.length === free) this.pollAgain = true;
      }
    } catch (err) {
      this.logger.warn({ err }, 'outbox poll failed; retrying');
    } finally {
      this.polling = false;
      const again = this.pollAgain;
      this.pollAgain = false;
      this.schedule(again ? 0 : IDLE_POLL_MS);
    }
  }
}
