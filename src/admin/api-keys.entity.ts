import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An API key of the operator API. The key itself is never stored: only its sha256 and a prefix. */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) name: string;
  /** One of ROLES (see permissions.ts). */
  @Column({ type: 'text' }) role: string;
  /** Hex sha256 of the whole key; the key is looked up by it. */
  @Column({ name: 'key_hash', type: 'text', unique: true }) keyHash: string;
  /** The first characters of the key, so an operator can tell keys apart. */
  @Column({ type: 'text' }) prefix: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  /** When the key was last seen (to within the verification cache's lifetime). */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt: Date | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt: Date | null;
}
