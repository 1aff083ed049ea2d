import { Injectable } from '@nestjs/common';
import type { OutboxTaskEntity } from '../sync/entities/outbox-task.entity';
import { QueueName } from '../sync/sync.constants';
import type { TaskHandler, TaskResult } from '../sync/task-handler';
import { ReplyRouterService } from './reply-router.service';

/** Runs `replies` tasks: one agent reply a connection's webhook delivered, routed to WhatsApp. */
@Injectable()
export class ReplyRouteHandler implements TaskHandler {
  readonly queue = QueueName.Replies;

  constructor(private readonly router: ReplyRouterService) {}

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    const replyId = task.payload?.replyId;
    if (typeof replyId !== 'string') return { outcome: 'dead', error: 'replies task without a reply id' };
    await this.router.route(replyId);
    return { outcome: 'done' };
  }
}
