import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { RetentionStatEntity } from './entities/retention-stat.entity';
import type { RetentionCounts } from './retention.policy';

/**
 * The retention job's own records (retention_stats) and what it reads. What is old enough is
 * decided by RetentionService; the rows are deleted by the modules that own them.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }









  /** Every connection with its stored `retentionDays` setting (raw JSON value). */
  async connectionSettings(): Promise<{ id: string; name: string; retentionDays: unknown }[]> {
    return this.dataSource.query(`SELECT id, name, settings->'retentionDays' AS "retentionDays" FROM connections ORDER BY created_at, id`);
  }



  /** Adds a run's counts to its day. */
  async recordRun(day: string, counts: RetentionCounts): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO retention_stats (day, runs, messages_removed, media_removed, conversations_removed, sync_records_removed, last_run_at)
       VALUES ($1, 1, $2, $3, $4, $5, now())
       ON CONFLICT (day) DO UPDATE SET runs = retention_stats.runs + 1,
         messages_removed = retention_stats.messages_removed + EXCLUDED.messages_removed,
         media_removed = retention_stats.media_removed + EXCLUDED.media_removed,
         conversations_removed = retention_stats.conversations_removed + EXCLUDED.conversations_removed,
         sync_records_removed = retention_stats.sync_records_removed + EXCLUDED.sync_records_removed,
         last_run_at = now()`,
      [day, counts.messages, counts.media, counts.conversations, counts.syncRecords],
    );
  }

  /** The most recent days with a run, newest first. */
  async recentStats(days: number): Promise<RetentionStatEntity[]> {
    return this.dataSource.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, runs, messages_removed::int AS "messagesRemoved", media_removed::int AS "mediaRemoved",
              conversations_removed::int AS "conversationsRemoved", sync_records_removed::int AS "syncRecordsRemoved", last_run_at AS "lastRunAt"
       FROM retention_stats ORDER BY day DESC LIMIT $1`,
      [days],
    );
  }
}
