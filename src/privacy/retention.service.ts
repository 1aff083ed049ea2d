import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import type { EntityManager } from 'typeorm';
import { LOGGER } from '../common/logger';
import { ConversationsRepository } from '../conversations/conversations.repository';
import { SyncRepository } from '../sync/sync.repository';
import { OutboxRepository } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';
import { QuarantineRepository } from '../whatsapp/quarantine.repository';
import type { RetentionStatEntity } from './entities/retention-stat.entity';
import { MediaCleanup } from './media-cleanup';
import { noCounts, RETENTION_BATCH, retentionCutoff, retentionDaysOf, type RetentionCounts, utcDay } from './retention.policy';
import { RetentionRepository } from './retention.repository';

export interface RetentionOverview {
  /** RETENTION_DAYS; null: messages and media are kept until the customer is erased. */
  retentionDays: number | null;
  /** Per connection: how long its sync records are kept (its `retentionDays` setting, else RETENTION_DAYS). */
  connections: { id: string; name: string; retentionDays: number | null; override: boolean }[];
  /** Days with a run, newest first (counts only). */
  days: RetentionStatEntity[];
}

/**
 * The retention policy. RETENTION_DAYS: messages older than that many days (WhatsApp's own
 * timestamp) are deleted with their media files, delivery statuses and remote links; so are
 * conversations left empty, and quarantined payloads and delivery statuses received before then.
 * Contacts stay (see the README: an erasure must still find every CRM that holds them).
 * A connection's `retentionDays` setting decides how long that connection's sync records are
 * kept (finished tasks, message and transcript links); without one, RETENTION_DAYS does.
 */
@Injectable()
export class RetentionService {
  constructor(
    private readonly repo: RetentionRepository,
    private readonly conversations: ConversationsRepository,
    private readonly links: SyncRepository,
    private readonly quarantine: QuarantineRepository,
    private readonly outbox: OutboxRepository,
    private readonly media: MediaCleanup,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Applies the policy once; returns what it removed (null when no retention is configured). */
  async run(now = new Date()): Promise<RetentionCounts | null> {
    const days = this.config.privacy.retentionDays;
    const connections = (await this.repo.connectionSettings()).map((c) => ({ id: c.id, days: retentionDaysOf(c.retentionDays) ?? days }));
    if (!days && !connections.some((c) => c.days)) return null;

    const counts = noCounts();
    if (days) {
      const cutoff = retentionCutoff(now, days);
      for (;;) {
        const batch = await this.repo.transaction((manager) => this.deleteMessagesBefore(manager, cutoff));
        counts.messages += batch.messages;
        // After the commit: a rolled-back batch must not have lost its files.
        counts.media += (await this.media.removeUnreferenced(batch.storageKeys)).removed;
        if (batch.messages < RETENTION_BATCH) break;
      }
      counts.conversations = await this.repo.transaction(async (manager) => {
        // With their ticket and transcript links.
        const ids = await this.conversations.deleteEmptyConversationsBefore(manager, cutoff);
        await this.links.deleteLinksOf(manager, ids);
        return ids.length;
      });
      counts.statusEvents = await this.conversations.deleteStatusEventsBefore(cutoff);
      counts.quarantine = await this.quarantine.deleteBefore(cutoff);
    }
    for (const connection of connections) {
      if (connection.days) counts.syncRecords += await this.deleteSyncRecordsBefore(connection.id, retentionCutoff(now, connection.days));
    }
    await this.repo.recordRun(utcDay(now), counts);
    this.logger.info({ ...counts }, 'retention run finished');
    return counts;
  }

  /** The policy in effect and the last days' counts (GET /api/v1/retention). */
  async overview(days = 30): Promise<RetentionOverview> {
    const global = this.config.privacy.retentionDays ?? null;
    const connections = (await this.repo.connectionSettings()).map((c) => {
      const own = retentionDaysOf(c.retentionDays);
      return { id: c.id, name: c.name, retentionDays: own ?? global, override: own !== undefined };
    });
    return { retentionDays: global, connections, days: await this.repo.recentStats(days) };
  }

  /**
   * Deletes up to a batch of messages sent before `cutoff`, with their remote links and delivery
   * statuses (their tasks go by foreign key). Returns how many went and the media files they used.
   */
  private async deleteMessagesBefore(manager: EntityManager, cutoff: Date): Promise<{ messages: number; storageKeys: string[] }> {
    const rows = await this.conversations.lockMessagesBefore(manager, cutoff, RETENTION_BATCH);
    if (rows.length === 0) return { messages: 0, storageKeys: [] };
    await this.links.deleteLinksOf(manager, rows.map((r) => r.id));
    await this.conversations.deleteMessages(manager, rows);
    return { messages: rows.length, storageKeys: [...new Set(rows.flatMap((r) => (r.storageKey ? [r.storageKey] : [])))] };
  }

  /**
   * A connection's sync records older than `cutoff`: finished sync tasks (done or dead) and the
   * links of messages and transcripts. Erasure tasks belong to their erasure's record.
   */
  private deleteSyncRecordsBefore(connectionId: string, cutoff: Date): Promise<number> {
    return this.repo.transaction(async (manager) => {
      const links = await this.links.deleteRecordLinksBefore(manager, connectionId, cutoff);
      const tasks = await this.outbox.deleteFinishedBefore(manager, connectionId, cutoff, QueueName.Privacy);
      return links + tasks;
    });
  }
}
