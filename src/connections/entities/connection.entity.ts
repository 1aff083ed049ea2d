import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type ConnectionStatus = 'active' | 'needs_reauth' | 'disabled';

/** One configured instance of a connector: its encrypted credentials, settings and sync state. */
@Entity('connections')
export class ConnectionEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'connector_id', type: 'text' }) connectorId: string;
  @Column({ type: 'text', unique: true }) name: string;
  /** AES-256-GCM ciphertext of the credentials JSON; never returned by the API. */
  @Column({ name: 'credentials_enc', type: 'text' }) credentialsEnc: string;
  @Column({ type: 'jsonb' }) settings: Record<string, unknown>;
  @Column({ type: 'text' }) status: ConnectionStatus;
  @Column({ type: 'boolean' }) enabled: boolean;
  /** No call to this connection's vendor before this time (a Retry-After, honoured by every worker). */
  @Column({ name: 'retry_after', type: 'timestamptz', nullable: true }) retryAfter: Date | null;
  @Column({ name: 'failure_count', type: 'integer' }) failureCount: number;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  /** 'api' or 'env' (declared by environment variables and updated at boot). */
  @Column({ type: 'text' }) source: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
