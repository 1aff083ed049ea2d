import { ApiProperty } from '@nestjs/swagger';
import type { ContactEntity } from '../entities/contact.entity';

/** A WhatsApp customer. */
export class ContactDto implements ContactEntity {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ description: 'WhatsApp id (digits)', example: '15551234567' })
  waId: string;
  @ApiProperty({ description: 'E.164: what CRMs are searched by', example: '+15551234567' })
  e164: string;
  @ApiProperty({ type: String, nullable: true })
  profileName: string | null;
  @ApiProperty()
  createdAt: Date;
  @ApiProperty()
  updatedAt: Date;
}
