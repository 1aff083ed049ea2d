import { ApiProperty } from '@nestjs/swagger';
import type { DeadLetter } from '../dead-letters.service';

/** A task that gave up, with the reason. */
export class DeadLetterDto implements DeadLetter {
  @ApiProperty({ description: 'The task id (a decimal string)' })
  id: string;
  @ApiProperty({ example: 'crm-sync' })
  queue: string;
  @ApiProperty()
  kind: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  connectionId: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  conversationId: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  messageId: string | null;
  @ApiProperty({ type: 'integer' })
  attempts: number;
  @ApiProperty({ type: String, nullable: true })
  lastError: string | null;
  @ApiProperty()
  createdAt: Date;
  @ApiProperty()
  updatedAt: Date;
}

/** A dead letter put back in its queue. */
export class ReplayedDeadLetterDto {
  @ApiProperty()
  id: string;
  @ApiProperty({ enum: ['pending'] })
  status: 'pending';
}
