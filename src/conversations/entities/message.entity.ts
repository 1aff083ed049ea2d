import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type MessageDirection = 'inbound' | 'outbound';
export type MediaStatus = 'none' | 'pending' | 'stored' | 'failed';

/** A message's media as WhatsApp announced it (Meta's media id, type, hash, caption). */
export interface MessageMedia {
  /** Meta's media id (download: GET /{version}/{id}). */
  id: string;
  mimeType?: string;
  /** As Meta sends it (base64 in current payloads, hex in older ones). */
  sha256?: string;
  filename?: string;
  caption?: string;
  /** audio: true for a voice note recorded in WhatsApp. */
  voice?: boolean;
  /** sticker: animated or not. */
  animated?: boolean;
}

/** What we know of a media file attached to a message: what WhatsApp said of it, and what became of its download. */
export interface StoredMedia extends MessageMedia {
  /** Set once downloaded: the key in the media store and the verified size. */
  storageKey?: string;
  sizeBytes?: number;
  /** Set when the download failed for good. */
  failureReason?: string;
}

@Entity('messages')
export class MessageEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** Insertion order; breaks ties between messages with the same WhatsApp second. */
  @Column({ type: 'bigint', insert: false, update: false }) seq: string;
  @Column({ type: 'text', unique: true }) wamid: string;
  @Column({ name: 'conversation_id', type: 'uuid' }) conversationId: string;
  @Column({ name: 'contact_id', type: 'uuid' }) contactId: string;
  @Column({ type: 'text' }) direction: MessageDirection;
  @Column({ type: 'text' }) type: string;
  @Column({ type: 'text', nullable: true }) body: string | null;
  /** The type-specific object exactly as Meta sent it. */
  @Column({ type: 'jsonb', nullable: true }) content: unknown;
  @Column({ type: 'jsonb', nullable: true }) media: StoredMedia | null;
  @Column({ type: 'jsonb', nullable: true }) context: Record<string, unknown> | null;
  @Column({ type: 'jsonb', nullable: true }) referral: Record<string, unknown> | null;
  @Column({ type: 'jsonb', nullable: true }) errors: unknown[] | null;
  @Column({ type: 'boolean' }) forwarded: boolean;
  /** Its text held what Postgres cannot store (NUL, lone surrogates), replaced by U+FFFD; the original bytes are in the quarantine (kind normalised). */
  @Column({ name: 'content_normalised', type: 'boolean', default: false }) contentNormalised: boolean;
  @Column({ name: 'wa_timestamp', type: 'timestamptz' }) waTimestamp: Date;
  /** received (inbound) or pending/sent/delivered/read/failed (outbound). */
  @Column({ type: 'text' }) status: string;
  @Column({ name: 'status_rank', type: 'smallint' }) statusRank: number;
  @Column({ name: 'status_at', type: 'timestamptz', nullable: true }) statusAt: Date | null;
  @Column({ name: 'error_code', type: 'integer', nullable: true }) errorCode: number | null;
  @Column({ name: 'error_title', type: 'text', nullable: true }) errorTitle: string | null;
  @Column({ name: 'media_status', type: 'text' }) mediaStatus: MediaStatus;
  /** 'whatsapp' for customer messages; the connection id (or 'api') for replies written elsewhere. */
  @Column({ type: 'text' }) origin: string;
  @Column({ type: 'text', nullable: true }) author: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
