import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ReceiptStatus = 'pending' | 'done' | 'not_found' | 'failed';
export type ReceiptTarget = 'local' | 'connection';

/** Where one erasure had to reach (this database, or one connection) and how it went there. */
@Entity('erasure_receipts')
export class ErasureReceiptEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'erasure_id', type: 'uuid' }) erasureId: string;
  @Column({ type: 'text' }) target: ReceiptTarget;
  /** 'local', or the connection's name when the erasure was requested. */
  @Column({ name: 'target_name', type: 'text' }) targetName: string;
  /** Null for 'local', and once the connection was deleted. */
  @Column({ name: 'connection_id', type: 'uuid', nullable: true }) connectionId: string | null;
  @Column({ name: 'connector_id', type: 'text', nullable: true }) connectorId: string | null;
  @Column({ type: 'text' }) status: ReceiptStatus;
  /** What happened, for the operator (the vendor's confirmation, the reason it failed…). */
  @Column({ type: 'text', nullable: true }) detail: string | null;
  @Column({ type: 'integer' }) attempts: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true }) completedAt: Date | null;
}
