import { Injectable } from '@nestjs/common';
import type { OutboxTaskEntity } from '../tasks/entities/outbox-task.entity';
import { QueueName } from '../tasks/queues';
import type { TaskHandler, TaskResult } from '../tasks/task-handler';
import { ReplyRouterService } from './reply-router.service';

/** How soon a reply waiting behind an earlier one of its thread looks again. */
const ORDER_RECHECK_MS = 250;

/** Runs `replies` tasks: one agent reply a connection's webhook delivered, routed to WhatsApp. */
@Injectable()
export class ReplyRouteHandler implements TaskHandler {
  readonly queue = QueueName.Replies;

  constructor(private readonly router: ReplyRouterService) {}

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    const replyId = task.payload?.replyId;
    if (typeof replyId !== 'string') return { outcome: 'dead', error: 'replies task without a reply id' };
    if ((await this.router.route(replyId)) === 'waiting') {
      // Not a failure: an earlier reply of the thread is being routed; this one follows it.
      return { outcome: 'retry', at: new Date(Date.now() + ORDER_RECHECK_MS), refundAttempt: true };
    }
    return { outcome: 'done' };
  }
}
