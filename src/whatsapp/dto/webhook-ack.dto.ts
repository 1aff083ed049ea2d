import { ApiProperty } from '@nestjs/swagger';

/** The answer to a WhatsApp notification that was stored (or was a duplicate, a status, or quarantined). */
export class WebhookAckDto {
  @ApiProperty({ enum: [true] })
  received: true;
}
