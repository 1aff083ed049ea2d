import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-docs';
import { type Page, PageOf } from '../common/pagination';
import { RequirePermission } from './access.decorators';
import { AuditService } from './audit.service';
import { AuditEntryDto } from './dto/audit-entry.dto';
import { ListAuditDto } from './dto/list-audit.dto';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequirePermission('audit:read')
  @ApiOperation({ summary: 'Calls that changed something or exported data, newest first: who, what, target, outcome, from where' })
  @ApiOkResponse({ type: PageOf(AuditEntryDto) })
  @ApiErrors({ 400: 'Invalid query, or a cursor this API did not return' })
  list(@Query() q: ListAuditDto): Promise<Page<AuditEntryDto>> {
    return this.audit.list({ actor: q.actor, since: q.since }, q.limit, q.cursor);
  }
}
