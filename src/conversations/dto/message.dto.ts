import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { MediaStatus, MessageDirection, MessageEntity, StoredMedia } from '../entities/message.entity';

/** A message's media file: what WhatsApp said of it, and what became of its download. */
export class StoredMediaDto implements StoredMedia {
  @ApiProperty({ description: "Meta's media id" })
  id: string;
  @ApiPropertyOptional()
  mimeType?: string;
  @ApiPropertyOptional()
  sha256?: string;
  @ApiPropertyOptional()
  filename?: string;
  @ApiPropertyOptional()
  caption?: string;
  @ApiPropertyOptional({ description: 'audio: a voice note' })
  voice?: boolean;
  @ApiPropertyOptional({ description: 'sticker: animated' })
  animated?: boolean;
  @ApiPropertyOptional({ description: 'Set once downloaded' })
  storageKey?: string;
  @ApiPropertyOptional({ type: 'integer', description: 'Set once downloaded' })
  sizeBytes?: number;
  @ApiPropertyOptional({ description: 'Set when the download failed for good' })
  failureReason?: string;
}

const ANY_JSON = { description: 'As Meta sent it', nullable: true } as const;

/** A WhatsApp message, inbound or outbound. */
export class MessageDto implements MessageEntity {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ description: 'Insertion order (a decimal string); breaks ties between messages of the same second' })
  seq: string;
  @ApiProperty({ description: "WhatsApp's message id" })
  wamid: string;
  @ApiProperty({ format: 'uuid' })
  conversationId: string;
  @ApiProperty({ format: 'uuid' })
  contactId: string;
  @ApiProperty({ enum: ['inbound', 'outbound'] })
  direction: MessageDirection;
  @ApiProperty({ example: 'text' })
  type: string;
  @ApiProperty({ type: String, nullable: true })
  body: string | null;
  @ApiProperty({ ...ANY_JSON, description: 'The type-specific object as Meta sent it' })
  content: unknown;
  @ApiProperty({ type: StoredMediaDto, nullable: true })
  media: StoredMediaDto | null;
  @ApiProperty({ type: 'object', additionalProperties: true, ...ANY_JSON })
  context: Record<string, unknown> | null;
  @ApiProperty({ type: 'object', additionalProperties: true, ...ANY_JSON })
  referral: Record<string, unknown> | null;
  @ApiProperty({ type: 'array', items: {}, ...ANY_JSON })
  errors: unknown[] | null;
  @ApiProperty()
  forwarded: boolean;
  @ApiProperty({ description: 'Its text held characters Postgres cannot store, replaced by U+FFFD (the original is in the quarantine)' })
  contentNormalised: boolean;
  @ApiProperty({ description: 'When WhatsApp says it was sent' })
  waTimestamp: Date;
  @ApiProperty({ description: 'received (inbound) or pending, sent, delivered, read, failed (outbound)' })
  status: string;
  @ApiProperty({ type: 'integer' })
  statusRank: number;
  @ApiProperty({ type: Date, nullable: true })
  statusAt: Date | null;
  @ApiProperty({ type: 'integer', nullable: true })
  errorCode: number | null;
  @ApiProperty({ type: String, nullable: true })
  errorTitle: string | null;
  @ApiProperty({ enum: ['none', 'pending', 'stored', 'failed'] })
  mediaStatus: MediaStatus;
  @ApiProperty({ description: "'whatsapp' for customer messages; the connection id (or 'api') for replies written elsewhere" })
  origin: string;
  @ApiProperty({ type: String, nullable: true })
  author: string | null;
  @ApiProperty()
  createdAt: Date;
}
