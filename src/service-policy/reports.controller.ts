import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../admin/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { ServiceReportDto } from './dto/service-report.dto';
import { ServiceReportsService } from './service-reports.service';
import type { ReportGroupBy } from './service-report';

const GROUP_BY: ReportGroupBy[] = ['day', 'number', 'route', 'connection'];
const MAX_SPAN_MS = 366 * 24 * 3600_000;

@ApiTags('reports')
@ApiBearerAuth()
@Controller('api/v1/reports')
export class ReportsController {
  constructor(private readonly reports: ServiceReportsService) {}

  @Get('service')
  @RequirePermission('reports:read')
  @ApiOperation({
    summary: 'Response times of the conversations opened in [from, to): first response and resolution (calendar and business hours), answered within 1 h, replies, triage',
    description: 'Definitions: README "Customer-service policy". Defaults: the last 30 days, grouped by day.',
  })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601 date or time (inclusive)' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601 date or time (exclusive); default now' })
  @ApiQuery({ name: 'groupBy', required: false, enum: GROUP_BY })
  @ApiOkResponse({ type: ServiceReportDto })
  @ApiErrors(400)
  async service(@Query('from') from?: string, @Query('to') to?: string, @Query('groupBy') groupBy?: string): Promise<ServiceReportDto> {
    const end = to ? parseDate(to, 'to') : new Date();
    const start = from ? parseDate(from, 'from') : new Date(end.getTime() - 30 * 24 * 3600_000);
    if (start >= end) throw new BadRequestException('from must be before to');
    if (end.getTime() - start.getTime() > MAX_SPAN_MS) throw new BadRequestException('a report spans at most 366 days');
    const by = (groupBy ?? 'day') as ReportGroupBy;
    if (!GROUP_BY.includes(by)) throw new BadRequestException(`groupBy is one of ${GROUP_BY.join(', ')}`);
    return this.reports.report(start, end, by);
  }
}

function parseDate(value: string, name: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new BadRequestException(`${name} must be an ISO 8601 date or time`);
  return date;
}
