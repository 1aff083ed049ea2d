import { Injectable } from '@nestjs/common';
import type { OutboxTaskEntity } from '../tasks/entities/outbox-task.entity';
import type { TaskRef } from '../tasks/outbox.repository';
import { CrmSyncService } from './crm-sync.service';
import { QueueName } from '../tasks/queues';
import { later, type TaskHandler, type TaskResult } from '../tasks/task-handler';
import { PARKED_RECHECK_MS } from '../connections/retry-policy';

/**
 * A task behind another worker's drain is looked at again after this long. The drain syncs it
 * anyway; if that worker dies, the sweeper wakes the connection as soon as the drain's lease runs
 * out (abandoned()), so this is only the last safety net and can be long: with a backlog of
 * thousands of tasks, each rechecking every lease would be a drain attempt per task per 10 s.
 */
const BUSY_RECHECK_MS = 60_000;
/**
 * Our drain stopped mid-way (this process shutting down, or its lease lost to a database blip):
 * whoever takes the drain next resumes it, and if nobody does, this task soon starts one.
 */
const INTERRUPTED_RECHECK_MS = 1_000;

/**
 * Runs crm-sync tasks. A task only triggers a drain of its connection: the drain syncs every open
 * row of that connection (this one included) in order and in batches.
 */
@Injectable()
export class CrmSyncHandler implements TaskHandler {
  readonly queue = QueueName.CrmSync;

  constructor(private readonly sync: CrmSyncService) {}

  async handle(task: OutboxTaskEntity, lease: AbortSignal): Promise<TaskResult> {
    if (!task.connectionId) return { outcome: 'dead', error: 'crm-sync task without a connection' };
    const result = await this.sync.drain(task.connectionId, lease);
    switch (result.outcome) {
      case 'idle':
        return { outcome: 'done' };
      case 'busy':
        // The worker holding the drain syncs this row too.
        return later(BUSY_RECHECK_MS);
      case 'interrupted':
        return later(INTERRUPTED_RECHECK_MS);
      case 'paused':
      case 'waiting':
        return { outcome: 'retry', at: result.until, refundAttempt: true };
      case 'parked':
        // Released at once when the connection is fixed or re-enabled (ConnectionsService).
        return later(PARKED_RECHECK_MS);
    }
  }

  abandoned(): Promise<TaskRef[]> {
    return this.sync.wakeAbandonedDrains();
  }
}
