import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import { ConversationsService } from './conversations.service';

/**
 * Ends conversations after CONVERSATION_IDLE_MINUTES without a message, so their transcripts
 * reach the CRMs. Runs in worker processes; running on several is harmless (the UPDATE decides).
 */
@Injectable()
export class ConversationCloser implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly conversations: ConversationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const everyMs = Math.min(60_000, Math.max(1000, (this.config.sync.conversationIdleMinutes * 60_000) / 4));
    this.timer = setInterval(() => void this.run(), everyMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async run(): Promise<number> {
    try {
      const closed = await this.conversations.closeIdle(this.config.sync.conversationIdleMinutes);
      if (closed) this.logger.info({ closed }, 'closed idle conversations');
      return closed;
    } catch (err) {
      this.logger.warn({ err }, 'closing idle conversations failed; will try again');
      return 0;
    }
  }
}
