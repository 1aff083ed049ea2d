import { Controller, ForbiddenException, Get, Inject, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { ApiErrors, ApiOtherErrors } from '../common/api-docs';
import { safeEqual } from '../common/crypto';

/**
 * Meta's verification handshake for the WhatsApp webhook. The signed notifications themselves
 * (POST) are received by WhatsAppWebhookReceiver, ahead of Nest's router (see there why).
 */
@ApiTags('webhooks')
@Controller('webhooks/whatsapp')
export class WhatsappWebhookController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Meta calls this once when the callback URL is configured; echo the challenge as plain text. */
  @Get()
  @ApiOperation({ summary: "Meta's subscription handshake: echoes hub.challenge when hub.verify_token is WHATSAPP_VERIFY_TOKEN" })
  @ApiQuery({ name: 'hub.mode', required: true, schema: { type: 'string', enum: ['subscribe'] } })
  @ApiQuery({ name: 'hub.verify_token', required: true, type: String })
  @ApiQuery({ name: 'hub.challenge', required: true, type: String })
  @ApiOkResponse({ description: 'The challenge, as plain text', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiErrors({ 403: 'Wrong mode or verify token, or no challenge' })
  @ApiOtherErrors()
  verify(
    @Query('hub.mode') mode: string | undefined,
    @Query('hub.verify_token') token: string | undefined,
    @Query('hub.challenge') challenge: string | undefined,
    @Res() res: Response,
  ): void {
    const expected = this.config.whatsapp.verifyToken;
    if (mode !== 'subscribe' || !expected || !token || !safeEqual(token, expected) || challenge === undefined) {
      throw new ForbiddenException('verification failed');
    }
    res.status(200).type('text/plain').send(challenge);
  }
}
