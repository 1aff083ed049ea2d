import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type TaskStatus = 'pending' | 'running' | 'done' | 'dead';

/** A durable unit of background work. The queue carries its id; this row is the truth. */
@Entity('outbox')
export class OutboxTaskEntity {
  @PrimaryColumn({ type: 'bigint', generated: 'increment' }) id: string;
  @Column({ type: 'text' }) queue: string;
  @Column({ type: 'text' }) kind: string;
  @Column({ name: 'dedupe_key', type: 'text', unique: true }) dedupeKey: string;
  @Column({ name: 'connection_id', type: 'uuid', nullable: true }) connectionId: string | null;
  @Column({ name: 'conversation_id', type: 'uuid', nullable: true }) conversationId: string | null;
  @Column({ name: 'message_id', type: 'uuid', nullable: true }) messageId: string | null;
  @Column({ type: 'jsonb', nullable: true }) payload: Record<string, unknown> | null;
  @Column({ type: 'text' }) status: TaskStatus;
  @Column({ type: 'integer' }) attempts: number;
  @Column({ name: 'next_attempt_at', type: 'timestamptz' }) nextAttemptAt: Date;
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true }) lockedUntil: Date | null;
  /** Names the current claim: only its holder may renew, finish or reschedule the task. */
  @Column({ name: 'lease_token', type: 'uuid', nullable: true }) leaseToken: string | null;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column({ name: 'done_at', type: 'timestamptz', nullable: true }) doneAt: Date | null;
  /** When a connector was last asked to create the remote object (see the migration's note). */
  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true }) dispatchedAt: Date | null;
}
