import { Controller, ForbiddenException, Get, HttpCode, Inject, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { safeEqual } from '../common/crypto';
import { MetaSignatureGuard } from './meta-signature.guard';
import { WebhookIngestService } from './webhook-ingest.service';

/** Meta's WhatsApp webhook: the verification handshake and signed notifications. */
@ApiExcludeController()
@Controller('webhooks/whatsapp')
export class WhatsappWebhookController {
  constructor(
    private readonly ingest: WebhookIngestService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Meta calls this once when the callback URL is configured; echo the challenge as plain text. */
  @Get()
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

  @Post()
  @HttpCode(200)
  @UseGuards(MetaSignatureGuard)
  async receive(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<{ received: true }> {
    const result = await this.ingest.ingest(req.body as Buffer);
    res.locals.webhookOutcome = result.outcome;
    return { received: true };
  }
}
