import { Controller, HttpCode, Inject, Param, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { RequirePermission } from '../admin/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { ConnectionsExceptionFilter } from '../connections/connections-exception.filter';
import { RepliesExceptionFilter } from './replies-exception.filter';
import { ReplySetupResultDto } from './dto/reply-setup-result.dto';
import { ReplySetupService } from './reply-setup.service';
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
  @ApiOkResponse({ type: ReplySetupResultDto })
  @ApiErrors({
    400: 'The vendor refused the set-up (missing credentials or settings are named)',
    404: 'No connection with this id',
    409: 'The connector cannot set up replies',
    502: 'The vendor could not be reached',
  })
  setUp(@Param('id') id: string, @Req() req: Request): Promise<ReplySetupResultDto> {
    return this.setup.setUp(id, publicBase(this.config.publicUrl, { protocol: req.protocol, host: req.get('host') }));
  }
}
