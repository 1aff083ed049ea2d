import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A signed webhook (or part of one) we could not understand, kept with the reason for an operator. */
@Entity('quarantine')
export class QuarantineEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) source: string;
  @Column({ type: 'text' }) reason: string;
  /** The raw text as received (the whole body, or the offending fragment as JSON). */
  @Column({ type: 'text' }) payload: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
