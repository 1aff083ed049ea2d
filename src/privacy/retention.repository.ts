import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returnedRows } from '../database/query-result';
import { QueueName } from '../tasks/queues';
import type { RetentionStatEntity } from './entities/retention-stat.entity';
import type { RetentionCounts } from './retention.policy';

/** Queries of the retention job. What is old enough is decided by RetentionService. */
@Injectable()
export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Deletes up to `limit` messages sent before `cutoff`, with their delivery statuses and remote
   * links (their tasks go by foreign key). Rows another run holds are skipped. Returns how many
   * went and the media files they referred to.
   */
  async deleteMessagesBefore(manager: EntityManager, cutoff: Date, limit: number): Promise<{ messages: number; storageKeys: string[] }> {
    const rows: { id: string; wamid: string; storageKey: string | null }[] = await manager.query(
      `SELECT id, wamid, media->>'storageKey' AS "storageKey" FROM messages WHERE wa_timestamp < $1 LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [cutoff, limit],
    );
    if (rows.length === 0) return { messages: 0, storageKeys: [] };
    const ids = rows.map((r) => r.id);
    await manager.query(`DELETE FROM remote_links WHERE local_id = ANY($1::uuid[])`, [ids]);
    await manager.query(`DELETE FROM message_status_events WHERE wamid = ANY($1::text[])`, [rows.map((r) => r.wamid)]);
    await manager.query(`DELETE FROM messages WHERE id = ANY($1::uuid[])`, [ids]);
    return { messages: rows.length, storageKeys: [...new Set(rows.flatMap((r) => (r.storageKey ? [r.storageKey] : [])))] };
  }

  /** Conversations left without messages whose last activity is before `cutoff`, with their ticket and transcript links. */
  async deleteEmptyConversationsBefore(cutoff: Date): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const ids = returnedRows<{ id: string }>(
        await manager.query(
          `DELETE FROM conversations c WHERE COALESCE(c.last_message_at, c.opened_at) < $1
             AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)
           RETURNING id`,
          [cutoff],
        ),
      ).map((r) => r.id);
      if (ids.length) await manager.query(`DELETE FROM remote_links WHERE local_id = ANY($1::uuid[])`, [ids]);
      return ids.length;
    });
  }

  /** Delivery statuses received before `cutoff` (their messages are gone, or never arrived). */
  async deleteStatusEventsBefore(cutoff: Date): Promise<number> {
    return returnedRows(await this.dataSource.query(`DELETE FROM message_status_events WHERE received_at < $1 RETURNING 1`, [cutoff])).length;
  }

  /** Quarantined webhook fragments (raw payloads, personal data included) stored before `cutoff`. */
  async deleteQuarantineBefore(cutoff: Date): Promise<number> {
    return returnedRows(await this.dataSource.query(`DELETE FROM quarantine WHERE created_at < $1 RETURNING 1`, [cutoff])).length;
  }

  /** Every connection with its stored `retentionDays` setting (raw JSON value). */
  async connectionSettings(): Promise<{ id: string; name: string; retentionDays: unknown }[]> {
    return this.dataSource.query(`SELECT id, name, settings->'retentionDays' AS "retentionDays" FROM connections ORDER BY created_at, id`);
  }

  /**
   * A connection's sync records older than `cutoff`: finished sync tasks (done or dead) and the
   * links of messages and transcripts. Contact and ticket links stay while their local objects
   * do: erasure and ticket threading need them. Erasure tasks belong to their erasure's record.
   */
  async deleteSyncRecordsBefore(connectionId: string, cutoff: Date): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const links = returnedRows(
        await manager.query(
          `DELETE FROM remote_links WHERE connection_id = $1 AND entity_type IN ('message', 'transcript') AND updated_at < $2 RETURNING 1`,
          [connectionId, cutoff],
        ),
      ).length;
      const tasks = returnedRows(
        await manager.query(
          `DELETE FROM outbox WHERE connection_id = $1 AND status IN ('done', 'dead') AND updated_at < $2 AND queue <> '${QueueName.Privacy}' RETURNING 1`,
          [connectionId, cutoff],
        ),
      ).length;
      return links + tasks;
    });
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
