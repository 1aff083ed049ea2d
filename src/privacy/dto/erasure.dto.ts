import { ApiProperty } from '@nestjs/swagger';
import type { ReceiptStatus, ReceiptTarget } from '../entities/erasure-receipt.entity';
import type { ErasedCounts } from '../entities/erasure-request.entity';
import type { ErasureStatus } from '../erasure.policy';
import type { ErasureView, ReceiptView } from '../privacy.types';

/** What this database removed (counts only). */
export class ErasedCountsDto implements ErasedCounts {
  @ApiProperty({ type: 'integer' })
  messages: number;
  @ApiProperty({ type: 'integer' })
  conversations: number;
  @ApiProperty({ type: 'integer' })
  mediaFiles: number;
  @ApiProperty({ type: 'integer' })
  remoteLinks: number;
  @ApiProperty({ type: 'integer' })
  statusEvents: number;
  @ApiProperty({ type: 'integer' })
  consentEvents: number;
}

/** Where an erasure had to reach (this database, or one connection) and how it went there. */
export class ErasureReceiptDto implements ReceiptView {
  @ApiProperty({ enum: ['local', 'connection'] })
  target: ReceiptTarget;
  @ApiProperty({ description: "'local', or the connection's name when the erasure was requested" })
  targetName: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: "Null for 'local', and once the connection was deleted" })
  connectionId: string | null;
  @ApiProperty({ type: String, nullable: true })
  connectorId: string | null;
  @ApiProperty({ enum: ['pending', 'done', 'not_found', 'failed'] })
  status: ReceiptStatus;
  @ApiProperty({ type: String, nullable: true, description: "What happened (the vendor's confirmation, the reason it failed…)" })
  detail: string | null;
  @ApiProperty({ type: 'integer' })
  attempts: number;
  @ApiProperty()
  updatedAt: Date;
  @ApiProperty({ type: Date, nullable: true })
  completedAt: Date | null;
}

/** A right-to-be-forgotten request and where it reached. */
export class ErasureDto implements ErasureView {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ format: 'uuid' })
  contactId: string;
  @ApiProperty({ enum: ['pending', 'done', 'incomplete'] })
  status: ErasureStatus;
  @ApiProperty()
  requestedAt: Date;
  @ApiProperty({ type: Date, nullable: true, description: 'Set when no receipt is pending any more' })
  completedAt: Date | null;
  @ApiProperty({ type: ErasedCountsDto })
  erased: ErasedCountsDto;
  @ApiProperty({ type: [ErasureReceiptDto] })
  receipts: ErasureReceiptDto[];
}
