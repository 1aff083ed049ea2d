import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ReplyRefusal } from '../replies.types';

/** Every refusal reason, checked against ReplyRefusal both ways by the type checker. */
const REFUSALS: Record<ReplyRefusal, true> = {
  unknown_contact: true,
  marketing_opted_out: true,
  no_marketing_opt_in: true,
  transactional_opted_out: true,
  outside_service_window: true,
  no_reply_template: true,
  template_not_registered: true,
  invalid_message: true,
  unknown_conversation: true,
  attachments_not_sent: true,
};

/** A reply taken: it is sent in the background. */
export class ReplyQueuedDto {
  @ApiProperty({ enum: ['queued'] })
  status: 'queued';
  @ApiProperty({ format: 'uuid', description: 'The outbound message (its text, or without text its first file)' })
  messageId: string;
  @ApiProperty({ enum: ['text', 'template'], description: 'Free text inside the 24-hour window, or a template' })
  mode: 'text' | 'template';
  @ApiProperty({ description: 'The Idempotency-Key was used before: this is the first message, nothing new was sent' })
  duplicate: boolean;
  @ApiPropertyOptional({ description: 'What of the reply did not go (files WhatsApp would not take…)' })
  detail?: string;
}

/** A reply threadbridge did not send, why, and what to do. */
export class ReplyRefusedDto {
  @ApiProperty({ type: 'integer', enum: [422] })
  statusCode: number;
  @ApiProperty({ enum: ['refused'] })
  status: 'refused';
  @ApiProperty({ enum: Object.keys(REFUSALS) })
  reason: ReplyRefusal;
  @ApiProperty({ description: 'Why, and what to do' })
  detail: string;
}
