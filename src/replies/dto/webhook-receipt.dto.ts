import { ApiProperty } from '@nestjs/swagger';

/** What a connection's webhook delivery brought. */
export class WebhookReceiptDto {
  @ApiProperty({ type: 'integer', description: 'Agent replies in the delivery' })
  received: number;
  @ApiProperty({ type: 'integer', description: 'Of those, new ones stored (a redelivery stores none)' })
  stored: number;
}
