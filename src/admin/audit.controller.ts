import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from './access.decorators';
import { AuditService } from './audit.service';
import { ListAuditDto } from './dto/list-audit.dto';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequirePermission('audit:read')
  @ApiOperation({ summary: 'Calls that changed something or exported data, newest first: who, what, target, outcome, from where' })
  list(@Query() q: ListAuditDto) {
    return this.audit.list({ actor: q.actor, since: q.since }, q.limit, q.cursor);
  }
}
