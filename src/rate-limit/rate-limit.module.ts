import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import { ThrottledLog } from '../common/throttled-log';
import { RateLimiter } from './rate-limiter';
import { InMemoryRateLimitStore, RateLimitStore, RedisRateLimitStore } from './rate-limit.store';

const RATE_LIMIT_REDIS = Symbol('RATE_LIMIT_REDIS');
/** How long the boot waits for Redis before serving (requests pass unlimited until it answers). */
const READY_WAIT_MS = 2_000;

@Injectable()
class RateLimitRedisLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(RATE_LIMIT_REDIS) private readonly redis: Redis) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, READY_WAIT_MS);
      this.redis.once('ready', () => (clearTimeout(timer), resolve()));
    });
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

/** The operator API's rate limits (RateLimiter): counted in Redis when REDIS_URL is set, else in memory. */
@Module({})
export class RateLimitModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!config.redisUrl) {
      return { module: RateLimitModule, providers: [{ provide: RateLimitStore, useValue: new InMemoryRateLimitStore() }, RateLimiter], exports: [RateLimiter] };
    }
    return {
      module: RateLimitModule,
      providers: [
        {
          provide: RATE_LIMIT_REDIS,
          useFactory: (logger: Logger) => {
            // A connection of its own that never queues: while Redis is away a count fails at once
            // and the request passes, rather than every API call waiting for the reconnect.
            const redis = new Redis(config.redisUrl!, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
            const log = new ThrottledLog(logger);
            redis.on('error', (error: Error) => log.warn('redis', error, 'Redis unavailable for rate limits; reconnecting (requests pass unlimited)'));
            return redis;
          },
          inject: [LOGGER],
        },
        { provide: RateLimitStore, useFactory: (redis: Redis) => new RedisRateLimitStore(redis), inject: [RATE_LIMIT_REDIS] },
        RateLimitRedisLifecycle,
        RateLimiter,
      ],
      exports: [RateLimiter],
    };
  }
}
