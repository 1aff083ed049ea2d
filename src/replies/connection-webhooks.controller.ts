import { BadRequestException, Controller, HttpCode, Inject, NotFoundException, Param, Post, Req, UnauthorizedException } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { ApiErrors, ApiOtherErrors } from '../common/api-docs';
import { WebhookReceiptDto } from './dto/webhook-receipt.dto';
import { ConnectionWebhooksService } from './connection-webhooks.service';
import { calledUrl } from './webhook-url';

/** Webhooks of connected CRMs/helpdesks (agent replies). The body arrives raw (src/http-pipeline.ts). */
@ApiTags('webhooks')
@Controller('webhooks/connections')
export class ConnectionWebhooksController {
  constructor(
    private readonly webhooks: ConnectionWebhooksService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post(':id')
  @HttpCode(200)
  @ApiOperation({ summary: "A connected CRM's webhook (agent replies), verified with the connector's signature scheme over the raw body" })
  @ApiBody({ description: "The vendor's payload, as it sends it", schema: { type: 'object', additionalProperties: true } })
  @ApiOkResponse({ type: WebhookReceiptDto })
  @ApiErrors(
    { 400: 'The payload could not be understood', 401: 'The signature does not verify', 404: 'No connection taking agent replies here' },
    413,
    503,
  )
  @ApiOtherErrors()
  async receive(@Param('id') id: string, @Req() req: Request): Promise<WebhookReceiptDto> {
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
