import { ApiProperty } from '@nestjs/swagger';
import type { RetentionStatEntity } from '../entities/retention-stat.entity';
import type { RetentionOverview } from '../retention.service';

export class ConnectionRetentionDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty()
  name: string;
  @ApiProperty({ type: 'integer', nullable: true, description: "How long its sync records are kept: its retentionDays setting, else RETENTION_DAYS" })
  retentionDays: number | null;
  @ApiProperty({ description: 'Whether the connection sets retentionDays itself' })
  override: boolean;
}

/** What the retention job removed on one UTC day (counts only). */
export class RetentionDayDto implements RetentionStatEntity {
  @ApiProperty({ format: 'date', example: '2026-12-01' })
  day: string;
  @ApiProperty({ type: 'integer' })
  runs: number;
  @ApiProperty({ type: 'integer' })
  messagesRemoved: number;
  @ApiProperty({ type: 'integer' })
  mediaRemoved: number;
  @ApiProperty({ type: 'integer' })
  conversationsRemoved: number;
  @ApiProperty({ type: 'integer' })
  syncRecordsRemoved: number;
  @ApiProperty()
  lastRunAt: Date;
}

/** The retention policy in effect and what the last runs removed. */
export class RetentionOverviewDto implements RetentionOverview {
  @ApiProperty({ type: 'integer', nullable: true, description: 'RETENTION_DAYS; null: messages and media are kept until the customer is erased' })
  retentionDays: number | null;
  @ApiProperty({ type: [ConnectionRetentionDto] })
  connections: ConnectionRetentionDto[];
  @ApiProperty({ type: [RetentionDayDto], description: 'Days with a run, newest first' })
  days: RetentionDayDto[];
}
