import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { TaskRef } from '../tasks/outbox.repository';

/**
 * A feature above whatsapp/ that acts on customer messages as they arrive (the service policy's
 * away message, greeting and triage) writes its tasks through this port, so the webhook never
 * imports it. Its tasks are written after the messages are committed and before the 200, keyed on
 * the message: a redelivery writes the ones a failure left out and nothing twice.
 */
export interface InboundListener {
  /** Whether it wants messages at all now (e.g. a policy is stored): the common delivery skips the write. */
  readonly active: boolean;
  /** Tasks for the stored messages among these wamids, in one statement. */
  tasksFor(manager: EntityManager, wamids: string[]): Promise<TaskRef[]>;
}

@Injectable()
export class InboundListeners {
  private listeners: InboundListener[] = [];

  register(listener: InboundListener): void {
    this.listeners.push(listener);
  }

  /** The tasks every active listener writes for a delivery's messages. */
  async tasksFor(manager: EntityManager, wamids: string[]): Promise<TaskRef[]> {
    const tasks: TaskRef[] = [];
    for (const listener of this.listeners) if (listener.active) tasks.push(...(await listener.tasksFor(manager, wamids)));
    return tasks;
  }

  /** False (the common case: nobody listens, or no policy is stored) costs the webhook one check. */
  get active(): boolean {
    return this.listeners.some((l) => l.active);
  }
}
