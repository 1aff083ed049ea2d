import { ApiProperty } from '@nestjs/swagger';
import type { ConversationEntity, ConversationStatus } from '../entities/conversation.entity';

/** One thread between a customer and one business number. */
export class ConversationDto implements ConversationEntity {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ format: 'uuid' })
  contactId: string;
  @ApiProperty({ description: "The business number's WhatsApp phone number id" })
  phoneNumberId: string;
  @ApiProperty({ type: String, nullable: true })
  displayPhoneNumber: string | null;
  @ApiProperty({ enum: ['open', 'closed'] })
  status: ConversationStatus;
  @ApiProperty()
  openedAt: Date;
  @ApiProperty({ type: Date, nullable: true })
  lastMessageAt: Date | null;
  @ApiProperty({ type: Date, nullable: true, description: "WhatsApp's time of the customer's latest message: the 24-hour window starts here" })
  lastInboundAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  firstResponseAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  resolvedAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  closedAt: Date | null;
  @ApiProperty()
  createdAt: Date;
  @ApiProperty()
  updatedAt: Date;
}
