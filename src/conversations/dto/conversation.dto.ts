import { ApiProperty } from '@nestjs/swagger';
import type { ConversationEntity, ConversationStatus, TicketRoutingColumn } from '../entities/conversation.entity';

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
  @ApiProperty({ type: Date, nullable: true, description: "The first reply a person wrote (an agent in a connected system, or through the API); auto-replies don't count" })
  firstResponseAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  resolvedAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  closedAt: Date | null;
  @ApiProperty({ type: String, nullable: true, description: "The service policy's route, once known" })
  route: string | null;
  @ApiProperty({ type: [String], nullable: true, description: 'Only these connections receive its further messages (null: every one)' })
  routeConnections: string[] | null;
  @ApiProperty({ type: Object, nullable: true, description: "The route's ticket fields: group, priority, tags, assignee" })
  ticketRouting: TicketRoutingColumn | null;
  @ApiProperty({ description: 'How many times its route changed' })
  routeVersion: number;
  @ApiProperty()
  createdAt: Date;
  @ApiProperty()
  updatedAt: Date;
}
