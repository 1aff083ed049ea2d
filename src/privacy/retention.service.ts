import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
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
        const batch = await this.repo.transaction((manager) => this.repo.deleteMessagesBefore(manager, cutoff, RETENTION_BATCH));
        counts.messages += batch.messages;
        // After the commit: a rolled-back batch must not have lost its files.
        counts.media += (await this.media.removeUnreferenced(batch.storageKeys)).removed;
        if (batch.messages < RETENTION_BATCH) break;
      }
      counts.conversations = await this.repo.deleteEmptyConversationsBefore(cutoff);
      counts.statusEvents = await this.repo.deleteStatusEventsBefore(cutoff);
      counts.quarantine = await this.repo.deleteQuarantineBefore(cutoff);
    }
    for (const connection of connections) {
      if (connection.days) counts.syncRecords += await this.repo.deleteSyncRecordsBefore(connection.id, retentionCutoff(now, connection.days));
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
}
