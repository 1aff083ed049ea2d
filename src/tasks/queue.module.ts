import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '../../config/configuration';
import { BullmqTaskQueue } from './drivers/bullmq-task-queue';
import { OutboxTaskQueue } from './drivers/outbox-task-queue';
import { redisOptionsFromUrl } from './drivers/redis-options';
import { OutboxRepository } from './outbox.repository';
import { ALL_QUEUES } from './queues';
import { InMemoryRequestBudgets, RedisRequestBudgets, RequestBudgets } from './request-budget';
import { TaskQueue } from './task-queue';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger';
import { ThrottledLog } from '../common/throttled-log';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

@Injectable()
class RedisClientLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}
  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

/** The outbox and the queue driver: BullMQ when REDIS_URL is set, else the outbox table itself. */
@Global()
@Module({})
export class QueueModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!config.redisUrl) {
      return {
        module: QueueModule,
        providers: [OutboxRepository, { provide: TaskQueue, useClass: OutboxTaskQueue }, { provide: RequestBudgets, useValue: new InMemoryRequestBudgets() }],
        exports: [OutboxRepository, TaskQueue, RequestBudgets],
      };
    }
    return {
      module: QueueModule,
      imports: [
        BullModule.forRoot({ connection: redisOptionsFromUrl(config.redisUrl) }),
        ...ALL_QUEUES.map((name) => BullModule.registerQueue({ name })),
      ],
      providers: [
        OutboxRepository,
        { provide: TaskQueue, useClass: BullmqTaskQueue },
        // Budgets live in Redis so every worker process shares them.
        {
          provide: REDIS_CLIENT,
          useFactory: (logger: Logger) => {
            const redis = new Redis({ ...redisOptionsFromUrl(config.redisUrl!), maxRetriesPerRequest: 3 });
            // ioredis reconnects by itself; without a listener every attempt prints a stack trace.
            const log = new ThrottledLog(logger);
            redis.on('error', (error: Error) => log.warn('redis', error, 'Redis unavailable; reconnecting (budgets wait)'));
            return redis;
          },
          inject: [LOGGER],
        },
        { provide: RequestBudgets, useFactory: (redis: Redis) => new RedisRequestBudgets(redis), inject: [REDIS_CLIENT] },
        RedisClientLifecycle,
      ],
      exports: [OutboxRepository, TaskQueue, BullModule, RequestBudgets, REDIS_CLIENT],
    };
  }
}
