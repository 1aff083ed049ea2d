import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What an erasure removed from this database: counts only, never what the rows held. */
export interface ErasedCounts {
  messages: number;
  conversations: number;
  mediaFiles: number;
  remoteLinks: number;
  statusEvents: number;
  consentEvents: number;
}

/** A right-to-be-forgotten request. Holds no personal data: it proves the erasure happened. */
@Entity('erasure_requests')
export class ErasureRequestEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** The erased contact's former id (the contact row itself is gone). */
  @Column({ name: 'contact_id', type: 'uuid' }) contactId: string;
  @Column({ type: 'jsonb' }) erased: ErasedCounts;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt: Date;
  /** Set when no receipt is pending any more. */
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true }) completedAt: Date | null;
}
