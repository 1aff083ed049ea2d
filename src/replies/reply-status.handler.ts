import { Injectable } from '@nestjs/common';
import type { OutboxTaskEntity } from '../tasks/entities/outbox-task.entity';
import { QueueName } from '../tasks/queues';
import type { TaskHandler, TaskResult } from '../tasks/task-handler';
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
