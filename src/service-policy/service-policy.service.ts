import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConnectionsService } from '../connections/connections.service';
import type { TaskRef } from '../tasks/outbox.repository';
import { type InboundListener, InboundListeners } from '../whatsapp/inbound-listeners';
import { checkPolicy } from './policy-document';
import { ServicePolicyRepository, type StoredPolicy } from './service-policy.repository';

/** How often a process re-reads whether any policy is stored (another api process may have stored one). */
const ACTIVE_REFRESH_MS = 30_000;

export type PutResult = { stored: StoredPolicy; created: boolean } | { problems: string[] };

/**
 * Policies per business number, and the webhook's listener: while no policy is stored (the
 * default) the webhook writes no service-policy task at all; once one is, every stored customer
 * message gets one (service-policy.handler.ts decides what to do with it).
 */
@Injectable()
export class ServicePolicyService implements InboundListener, OnModuleInit, OnApplicationShutdown {
  active = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repo: ServicePolicyRepository,
    private readonly connections: ConnectionsService,
    private readonly listeners: InboundListeners,
  ) {}

  onModuleInit(): void {
    this.listeners.register(this);
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), ACTIVE_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  tasksFor(manager: EntityManager, wamids: string[]): Promise<TaskRef[]> {
    return this.repo.insertInboundTasks(manager, wamids);
  }

  get(phoneNumberId: string): Promise<StoredPolicy | null> {
    return this.repo.find(phoneNumberId);
  }

  list(): Promise<StoredPolicy[]> {
    return this.repo.all();
  }

  /** Validates and stores a policy; the problems, every one, when it is not valid. */
  async put(phoneNumberId: string, body: unknown, updatedBy: string | null): Promise<PutResult> {
    const known = new Set((await this.connections.list()).map((c) => c.id));
    const checked = checkPolicy(body, known);
    if (!checked.policy) return { problems: checked.problems };
    const result = await this.repo.put(phoneNumberId, checked.policy, updatedBy);
    this.active = true;
    return result;
  }

  async delete(phoneNumberId: string): Promise<boolean> {
    const deleted = await this.repo.delete(phoneNumberId);
    await this.refresh();
    return deleted;
  }

  private async refresh(): Promise<void> {
    try {
      this.active = await this.repo.anyStored();
    } catch {
      // The database is away: keep what we knew; the next refresh tries again.
    }
  }
}
