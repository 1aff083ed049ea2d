import { BadRequestException, Body, Controller, Headers, HttpStatus, Param, ParseUUIDPipe, Post, Res, UseFilters } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiHeader, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { CurrentPrincipal, RequirePermission } from '../admin/access.decorators';
import type { Principal } from '../admin/principal';
import { ApiErrors } from '../common/api-docs';
import { ReplyQueuedDto, ReplyRefusedDto } from './dto/reply-outcome.dto';
import { SendMessageDto, SendReplyDto } from './dto/send-reply.dto';
import { RepliesExceptionFilter } from './replies-exception.filter';
import type { ReplyOutcome } from './replies.types';
import { ReplyRouterService } from './reply-router.service';

const UUID_404 = new ParseUUIDPipe({ errorHttpStatusCode: 404 });
const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description: 'The same key again (for the same conversation or contact) returns the first message and sends nothing. Default: a new key.',
};

/** queued → 202 with the message id; refused → 422 with the reason and what to do. */
function answer(outcome: ReplyOutcome, res: Response): ReplyQueuedDto | ReplyRefusedDto {
  if (outcome.status === 'queued') {
    res.status(HttpStatus.ACCEPTED);
    return outcome;
  }
  res.status(HttpStatus.UNPROCESSABLE_ENTITY);
  return { statusCode: HttpStatus.UNPROCESSABLE_ENTITY, ...outcome };
}

function idempotencyKey(scope: string, header: string | undefined): string {
  if (header !== undefined && (header.length < 1 || header.length > 200)) throw new BadRequestException('Idempotency-Key must be 1 to 200 characters');
  return `api:${scope}:${header ?? randomUUID()}`;
}

@ApiTags('replies')
@ApiBearerAuth()
@UseFilters(RepliesExceptionFilter)
@Controller('api/v1')
export class RepliesController {
  constructor(private readonly router: ReplyRouterService) {}

  @Post('conversations/:id/replies')
  @RequirePermission('replies:send')
  @ApiOperation({ summary: "Answer a conversation on WhatsApp (free text inside the customer's 24-hour window); the answer also reaches every connected CRM" })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiAcceptedResponse({ description: 'Queued for sending', type: ReplyQueuedDto })
  @ApiUnprocessableEntityResponse({ description: 'Not sent (outside the window, consent…), and what to do', type: ReplyRefusedDto })
  @ApiErrors({ 400: 'Invalid body (each field named) or Idempotency-Key', 404: 'No conversation with this id' })
  async reply(
    @Param('id', UUID_404) conversationId: string,
    @Body() body: SendReplyDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<ReplyQueuedDto | ReplyRefusedDto> {
    const outcome = await this.router.replyInConversation(conversationId, {
      text: body.text,
      author: body.author ?? principal?.name ?? 'api',
      idempotencyKey: idempotencyKey(`conversation:${conversationId}`, key),
    });
    return answer(outcome, res);
  }

  @Post('contacts/:id/messages')
  @RequirePermission('replies:send')
  @ApiOperation({ summary: 'Send a registered template (its category checked by the consent gate) or free text to a contact, from any system' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiAcceptedResponse({ description: 'Queued for sending', type: ReplyQueuedDto })
  @ApiUnprocessableEntityResponse({ description: 'Not sent (consent, window, unregistered template…), and what to do', type: ReplyRefusedDto })
  @ApiErrors({ 400: 'Invalid body (each field named), neither text nor template, or an invalid Idempotency-Key', 404: 'No contact with this id' })
  async message(
    @Param('id', UUID_404) contactId: string,
    @Body() body: SendMessageDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<ReplyQueuedDto | ReplyRefusedDto> {
    if (!body.text && !body.template) throw new BadRequestException('give text, a template, or both (the text then fills {{agent.text}})');
    const outcome = await this.router.sendToContact(contactId, {
      text: body.text,
      template: body.template,
      author: body.author ?? principal?.name ?? 'api',
      idempotencyKey: idempotencyKey(`contact:${contactId}`, key),
    });
    return answer(outcome, res);
  }
}
