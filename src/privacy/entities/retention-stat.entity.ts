import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What the retention job removed on one UTC day, in counts (never what it was). Counts are read as numbers. */
@Entity('retention_stats')
export class RetentionStatEntity {
  /** YYYY-MM-DD. */
  @PrimaryColumn({ type: 'date' }) day: string;
  @Column({ type: 'integer' }) runs: number;
  @Column({ name: 'messages_removed', type: 'bigint' }) messagesRemoved: number;
  @Column({ name: 'media_removed', type: 'bigint' }) mediaRemoved: number;
  @Column({ name: 'conversations_removed', type: 'bigint' }) conversationsRemoved: number;
  @Column({ name: 'sync_records_removed', type: 'bigint' }) syncRecordsRemoved: number;
  @Column({ name: 'last_run_at', type: 'timestamptz' }) lastRunAt: Date;
}
