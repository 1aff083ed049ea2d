import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '../../config/configuration';
import { BullmqTaskQueue } from './drivers/bullmq-task-queue';
import { OutboxTaskQueue } from './drivers/outbox-task-queue';
import { redisOptionsFromUrl } from './drivers/redis-options';
import { OutboxRepository } from './outbox.repository';
import { ALL_QUEUES } from './sync.constants';
import { TaskQueue } from './task-queue';

/** The outbox and the queue driver: BullMQ when REDIS_URL is set, else the outbox table itself. */
@Global()
@Module({})
export class QueueModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!config.redisUrl) {
      return {
        module: QueueModule,
        providers: [OutboxRepository, { provide: TaskQueue, useClass: OutboxTaskQueue }],
        exports: [OutboxRepository, TaskQueue],
      };
    }
    return {
      module: QueueModule,
      imports: [
        BullModule.forRoot({ connection: redisOptionsFromUrl(config.redisUrl) }),
        ...ALL_QUEUES.map((name) => BullModule.registerQueue({ name })),
      ],
      providers: [OutboxRepository, { provide: TaskQueue, useClass: BullmqTaskQueue }],
      exports: [OutboxRepository, TaskQueue, BullModule],
    };
  }
}
