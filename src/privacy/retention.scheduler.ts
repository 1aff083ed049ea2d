import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import { RETENTION_FIRST_RUN_DELAY_MS, RETENTION_INTERVAL_MS } from './retention.policy';
import { RetentionService } from './retention.service';

/**
 * Runs the retention job hourly in worker processes (ROLE=worker|all). Running on several
 * workers at once is harmless: each batch locks its rows and skips rows another run holds.
 */
@Injectable()
export class RetentionScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly retention: RetentionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role === 'api') return;
    this.timer = setTimeout(() => {
      void this.tick();
      this.timer = setInterval(() => void this.tick(), RETENTION_INTERVAL_MS);
      this.timer.unref();
    }, RETENTION_FIRST_RUN_DELAY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return; // a long run is not stacked on itself
    this.running = true;
    try {
      await this.retention.run();
    } catch (err) {
      this.logger.warn({ err }, 'retention run failed; will try again');
    } finally {
      this.running = false;
    }
  }
}
