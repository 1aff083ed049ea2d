import { Injectable } from '@nestjs/common';
import type { OutboxTaskEntity } from './entities/outbox-task.entity';
import { CrmSyncService } from './crm-sync.service';
import { QueueName } from './sync.constants';
import type { TaskHandler, TaskResult } from './task-handler';

const PARKED_RECHECK_MS = 60 * 60_000;

/**
 * Runs crm-sync tasks. A task only triggers a drain of its connection: the drain syncs every open
 * row of that connection (this one included) in order and in batches.
 */
@Injectable()
export class CrmSyncHandler implements TaskHandler {
  readonly queue = QueueName.CrmSync;

  constructor(private readonly sync: CrmSyncService) {}

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    if (!task.connectionId) return { outcome: 'dead', error: 'crm-sync task without a connection' };
    const result = await this.sync.drain(task.connectionId);
    const later = (ms: number): TaskResult => ({ outcome: 'retry', at: new Date(Date.now() + ms), refundAttempt: true });
    switch (result.outcome) {
      case 'idle':
        return { outcome: 'done' };
      case 'busy':
        // The worker holding the drain syncs this row too; this retry is only a safety net in
        // case that worker dies (its lease then expires).
        return later(this.sync.leaseMs);
      case 'paused':
      case 'waiting':
        return { outcome: 'retry', at: result.until, refundAttempt: true };
      case 'parked':
        // Released at once when the connection is fixed or re-enabled (ConnectionsService).
        return later(PARKED_RECHECK_MS);
    }
  }
}
