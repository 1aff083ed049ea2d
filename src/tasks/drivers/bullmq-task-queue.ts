import { getQueueToken } from '@nestjs/bullmq';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { LOGGER } from '../../common/logger';
import { ThrottledLog } from '../../common/throttled-log';
import type { TaskRef } from '../outbox.repository';
import { ALL_QUEUES, QueueName } from '../queues';
import { TaskQueue } from '../task-queue';
import { traceCarrier, type TraceCarrier } from '../task-tracing';

export interface TaskJobData {
  taskId: string;
  /** The enqueuer's W3C trace context, when tracing is on (see task-tracing.ts). */
  trace?: TraceCarrier;
}

/** BullMQ driver: Redis carries task ids; a job id made of task id + due time dedupes re-enqueues. */
@Injectable()
export class BullmqTaskQueue extends TaskQueue implements OnModuleInit {
  readonly driver = 'bullmq' as const;
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  /** Every queue named in QueueName is registered by QueueModule; adding one needs no change here. */
  onModuleInit(): void {
    const log = new ThrottledLog(this.logger);
    for (const name of ALL_QUEUES) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      // A queue re-emits its connection's errors; one line per interval says Redis is down.
      queue.on('error', (error: Error) => log.warn('redis', error, 'Redis unavailable; tasks wait in the outbox until it answers'));
      this.queues.set(name, queue);
    }
  }

  async enqueue(tasks: TaskRef[]): Promise<void> {
    const byQueue = new Map<string, TaskRef[]>();
    for (const t of tasks) byQueue.set(t.queue, [...(byQueue.get(t.queue) ?? []), t]);
    const now = Date.now();
    // One context for the whole call: every task enqueued here continues the caller's trace.
    const trace = traceCarrier();
    try {
      await Promise.all(
        [...byQueue].map(([name, refs]) =>
          this.queues.get(name)!.addBulk(
            refs.map((t) => ({
              name: t.queue,
              data: (trace ? { taskId: t.id, trace } : { taskId: t.id }) satisfies TaskJobData,
              opts: {
                jobId: `${t.id}@${Math.round(t.dueAtMs)}`,
                delay: Math.max(0, Math.round(t.dueAtMs) - now),
                removeOnComplete: true,
                removeOnFail: true,
              },
            })),
          ),
        ),
      );
    } catch (error) {
      // The rows are committed; the sweeper will enqueue them again once Redis answers.
      this.logger.warn({ err: error, count: tasks.length }, 'could not enqueue tasks; the sweeper will retry');
    }
  }

  async isHealthy(): Promise<boolean> {
    try {
      // The Redis backend exposes its client; a PING tells whether Redis answers now.
      const backend = this.queues.get(QueueName.Media)!.getBackend() as unknown as { client: Promise<{ ping(): Promise<string> }> };
      const client = await backend.client;
      return (await Promise.race([client.ping(), new Promise<string>((r) => setTimeout(() => r('timeout'), 1000))])) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Used by shutdown and tests. */
  all(): Queue[] {
    return [...this.queues.values()];
  }
}
