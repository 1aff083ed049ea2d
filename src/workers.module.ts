import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { type DynamicModule, Inject, Module, type Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from './common/logger';
import { ThrottledLog } from './common/throttled-log';
import type { Job } from 'bullmq';
import type { AppConfig } from '../config/configuration';
import { ConsentKeywordHandler } from './whatsapp/consent-keyword.handler';
import { ConsentSyncHandler } from './sync/consent-sync.handler';
import { ConsentModule } from './consent/consent.module';
import { MediaFetchHandler } from './whatsapp/media/media-fetch.handler';
import { OutboundSendHandler } from './whatsapp/outbound/outbound-send.handler';
import { OutboundModule } from './whatsapp/outbound/outbound.module';
import { ErasureHandler } from './privacy/erasure.handler';
import { PrivacyModule } from './privacy/privacy.module';
import { ReplyRouteHandler } from './replies/reply-route.handler';
import { ReplyStatusHandler } from './replies/reply-status.handler';
import { RepliesModule } from './replies/replies.module';
import { ServicePolicyHandler } from './service-policy/service-policy.handler';
import { ServicePolicyModule } from './service-policy/service-policy.module';
import { ConversationCloser } from './conversations/conversation-closer';
import { ConversationsModule } from './conversations/conversations.module';
import { WhatsappModule } from './whatsapp/whatsapp.module';
import { CrmSyncHandler } from './sync/crm-sync.handler';
import { SyncModule } from './sync/sync.module';
import type { TaskJobData } from './tasks/drivers/bullmq-task-queue';
import { OutboxPoller } from './tasks/drivers/outbox-poller';
import { SweeperService } from './tasks/sweeper.service';
import { QueueName } from './tasks/queues';
import { TASK_HANDLERS, type TaskHandler } from './tasks/task-handler';
import { TaskRunner } from './tasks/task-runner.service';

/** Which handler runs each queue. A queue without a handler yet keeps its rows pending. */
const HANDLERS: { queue: QueueName; handler: Type<TaskHandler> }[] = [
  { queue: QueueName.Media, handler: MediaFetchHandler },
  { queue: QueueName.CrmSync, handler: CrmSyncHandler },
  { queue: QueueName.Privacy, handler: ErasureHandler },
  { queue: QueueName.ConsentKeyword, handler: ConsentKeywordHandler },
  { queue: QueueName.ConsentSync, handler: ConsentSyncHandler },
  { queue: QueueName.WhatsappOutbound, handler: OutboundSendHandler },
  { queue: QueueName.Replies, handler: ReplyRouteHandler },
  { queue: QueueName.ReplyStatus, handler: ReplyStatusHandler },
  { queue: QueueName.ServicePolicy, handler: ServicePolicyHandler },
];

export const HANDLED_QUEUES: QueueName[] = HANDLERS.map((h) => h.queue);

/** A BullMQ processor for one queue: hands each job's task id to the shared TaskRunner. */
function processorFor(queue: QueueName, concurrency: number): Type<WorkerHost> {
  @Processor(queue, { concurrency })
  class TaskProcessor extends WorkerHost {
    constructor(
      private readonly runner: TaskRunner,
      @Inject(LOGGER) private readonly logger: Logger,
    ) {
      super();
    }
    async process(job: Job<TaskJobData>): Promise<void> {
      await this.runner.run(job.data.taskId, queue, job.data.trace);
    }
    /** Redis trouble (a restart, a flushed job) is logged; the outbox row and the sweeper recover the work. */
    private errors?: ThrottledLog;
    @OnWorkerEvent('error')
    onError(error: Error): void {
      (this.errors ??= new ThrottledLog(this.logger)).warn(queue, error, 'queue worker error', { queue });
    }
  }
  Object.defineProperty(TaskProcessor, 'name', { value: `TaskProcessor(${queue})` });
  return TaskProcessor;
}

/**
 * The background side: the task handlers of every feature, the runner, and the driver's workers
 * (BullMQ processors + sweeper, or the embedded outbox poller). Only loaded for ROLE=worker|all.
 */
@Module({})
export class WorkersModule {
  static forRoot(config: AppConfig): DynamicModule {
    const drivers = config.redisUrl ? [SweeperService, ...HANDLED_QUEUES.map((q) => processorFor(q, config.queue.concurrency))] : [OutboxPoller, SweeperService];
    return {
      module: WorkersModule,
      imports: [WhatsappModule, SyncModule, ConversationsModule, ConsentModule, OutboundModule, PrivacyModule, RepliesModule, ServicePolicyModule],
      providers: [
        {
          provide: TASK_HANDLERS,
          useFactory: (...handlers: TaskHandler[]) => handlers,
          inject: HANDLERS.map((h) => h.handler),
        },
        TaskRunner,
        ConversationCloser,
        ...drivers,
      ],
      exports: [TaskRunner],
    };
  }
}
