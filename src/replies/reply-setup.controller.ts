import { Controller, HttpCode, Inject, Param, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBadGatewayResponse, ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { RequirePermission } from '../admin/access.decorators';
import { ConnectionsExceptionFilter } from '../connections/connections-exception.filter';
import { RepliesExceptionFilter } from './replies-exception.filter';
import { ReplySetupService, type ReplySetupResult } from './reply-setup.service';
import { publicBase } from './webhook-url';

@ApiTags('connections')
@ApiBearerAuth()
@UseFilters(RepliesExceptionFilter, ConnectionsExceptionFilter)
@Controller('api/v1/connections')
export class ReplySetupController {
  constructor(
    private readonly setup: ReplySetupService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post(':id/replies/setup')
  @RequirePermission('connections:manage')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Set up agent replies in the vendor (webhook/trigger, or channel) pointing at <PUBLIC_URL>/webhooks/connections/:id, and store what it returns with the connection. Run once per connection; without PUBLIC_URL the request's own address is used",
  })
  @ApiOkResponse({ description: '{ callbackUrl, stored: { credentials, settings } (key names), connection }' })
  @ApiNotFoundResponse({ description: 'No connection with this id' })
  @ApiConflictResponse({ description: 'The connector cannot set up replies' })
  @ApiBadRequestResponse({ description: 'The vendor refused the set-up (missing credentials or settings are named)' })
  @ApiBadGatewayResponse({ description: 'The vendor could not be reached' })
  setUp(@Param('id') id: string, @Req() req: Request): Promise<ReplySetupResult> {
    return this.setup.setUp(id, publicBase(this.config.publicUrl, { protocol: req.protocol, host: req.get('host') }));
  }
}
