import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A signed webhook (or part of one) we could not understand, kept with the reason for an operator. */
@Entity('quarantine')
export class QuarantineEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) source: string;
  @Column({ type: 'text' }) reason: string;
  /** The raw text as received (the whole body, or the offending fragment as JSON). */
  @Column({ type: 'text' }) payload: string;
  /** quarantined: not understood, nothing stored; normalised: stored with unstorable characters replaced. */
  @Column({ type: 'text', default: 'quarantined' }) kind: 'quarantined' | 'normalised';
  /** The delivery's exact bytes (base64 in the API), when they are not the payload text itself. */
  @Column({ type: 'bytea', nullable: true, select: false }) raw: Buffer | null;
  /** The messages a normalised delivery stored. */
  @Column({ type: 'text', array: true, nullable: true }) wamids: string[] | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
