import { Injectable } from '@nestjs/common';
import type { OutboxTaskEntity } from '../tasks/entities/outbox-task.entity';
import { QueueName } from '../tasks/queues';
import type { TaskHandler, TaskResult } from '../tasks/task-handler';
import { ERASE_CONTACT_TASK } from './privacy.types';
import { RemoteErasureService } from './remote-erasure.service';

/** Runs the erasure fan-out (queue `privacy`): one task per connection that must erase a customer. */
@Injectable()
export class ErasureHandler implements TaskHandler {
  readonly queue = QueueName.Privacy;

  constructor(private readonly erasures: RemoteErasureService) {}

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    if (task.kind !== ERASE_CONTACT_TASK) return { outcome: 'dead', error: `unknown privacy task '${task.kind}'` };
    const result = await this.erasures.run(task);
    switch (result.outcome) {
      case 'settled':
        return { outcome: 'done' };
      case 'failed':
        // A dead letter: replaying it (POST /api/v1/dead-letters/:id/replay) tries the vendor again.
        return { outcome: 'dead', error: result.reason };
      case 'retry':
        return { outcome: 'retry', at: result.at, error: result.reason, refundAttempt: result.waited };
    }
  }
}
