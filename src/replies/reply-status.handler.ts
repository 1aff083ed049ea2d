import { Injectable } from '@nestjs/common';
import type { OutboxTaskEntity } from '../sync/entities/outbox-task.entity';
import { QueueName } from '../sync/sync.constants';
import type { TaskHandler, TaskResult } from '../sync/task-handler';
import { ReplyStatusService } from './reply-status.service';

/** Runs `reply-status` tasks: what became of an agent's reply, told to the system it came from. */
@Injectable()
export class ReplyStatusHandler implements TaskHandler {
  readonly queue = QueueName.ReplyStatus;

  constructor(private readonly status: ReplyStatusService) {}

  handle(task: OutboxTaskEntity): Promise<TaskResult> {
    return this.status.report(task);
  }
}
