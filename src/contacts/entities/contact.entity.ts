import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A WhatsApp customer, keyed by the wa_id Meta gives us. */
@Entity('contacts')
export class ContactEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'wa_id', type: 'text', unique: true }) waId: string;
  /** '+' and the wa_id digits: what CRMs are searched by. */
  @Column({ type: 'text' }) e164: string;
  @Column({ name: 'profile_name', type: 'text', nullable: true }) profileName: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
