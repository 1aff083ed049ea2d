import { BadRequestException, Controller, HttpCode, Inject, NotFoundException, Param, Post, Req, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { ConnectionWebhooksService } from './connection-webhooks.service';
import { calledUrl } from './webhook-url';

/** Webhooks of connected CRMs/helpdesks (agent replies). The body arrives raw (src/app.setup.ts). */
@ApiExcludeController()
@Controller('webhooks/connections')
export class ConnectionWebhooksController {
  constructor(
    private readonly webhooks: ConnectionWebhooksService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post(':id')
  @HttpCode(200)
  async receive(@Param('id') id: string, @Req() req: Request): Promise<{ received: number; stored: number }> {
    const receipt = await this.webhooks.receive(id, {
      method: req.method,
      // Vendors sign the URL they called: behind a proxy, PUBLIC_URL's, not ours.
      url: calledUrl(this.config.publicUrl, { protocol: req.protocol, host: req.get('host'), originalUrl: req.originalUrl }),
      headers: req.headers,
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      receivedAt: new Date(),
    });
    switch (receipt.outcome) {
      case 'not_found':
        throw new NotFoundException('no connection taking agent replies here');
      case 'unauthorized':
        throw new UnauthorizedException('signature does not verify');
      case 'invalid':
        throw new BadRequestException(receipt.message);
      case 'accepted':
        return { received: receipt.replies, stored: receipt.stored };
    }
  }
}
