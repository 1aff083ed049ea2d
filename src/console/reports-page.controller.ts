import { Controller, Get, Header, Inject, Query, Req, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { RequirePermission } from '../admin/access.decorators';
import type { ReportGroupBy } from '../service-policy/service-report';
import { ServiceReportsService } from '../service-policy/service-reports.service';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { type ConsoleRequest, ConsoleGuard } from './console.guard';
import { page } from './layout';
import { queuesMenu } from './queues';
import { renderReportsPage } from './reports-page.view';

const GROUP_BY: ReportGroupBy[] = ['day', 'number', 'route', 'connection'];
const DAY_MS = 24 * 3600_000;
const MAX_SPAN_MS = 366 * DAY_MS;

/** A form's YYYY-MM-DD as the start of that day (UTC); undefined when empty or not a date. */
function day(value: string | undefined): Date | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The service-policy report (the API's GET /api/v1/reports/service) for a period chosen in a
 * form: medians of first response and resolution and the share answered within 1 h, as charts
 * and as the table of figures. Dates are whole days; "to" is included.
 */
@ApiExcludeController()
@UseFilters(ConsoleExceptionFilter)
@UseGuards(ConsoleGuard)
@Controller('console/reports')
export class ReportsPageController {
  constructor(
    private readonly reports: ServiceReportsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @RequirePermission('reports:read')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  async show(@Req() req: Request, @Query('from') fromText?: string, @Query('to') toText?: string, @Query('groupBy') groupByText?: string): Promise<string> {
    const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
    const lastDay = day(toText) ?? today;
    let from = day(fromText) ?? new Date(lastDay.getTime() - 29 * DAY_MS);
    const problems: string[] = [];
    if ((fromText && !day(fromText)) || (toText && !day(toText))) problems.push('Dates are written YYYY-MM-DD; the last 30 days are shown.');
    const to = new Date(lastDay.getTime() + DAY_MS);
    if (from >= to) {
      problems.push('"From" must not be after "to"; the 30 days up to "to" are shown.');
      from = new Date(to.getTime() - 30 * DAY_MS);
    }
    if (to.getTime() - from.getTime() > MAX_SPAN_MS) {
      problems.push('A report spans at most 366 days; the 366 days up to "to" are shown.');
      from = new Date(to.getTime() - MAX_SPAN_MS);
    }
    const groupBy = GROUP_BY.includes(groupByText as ReportGroupBy) ? (groupByText as ReportGroupBy) : 'day';
    const report = await this.reports.report(from, to, groupBy);
    const body = renderReportsPage({ from, lastDay: new Date(to.getTime() - DAY_MS), groupBy, groupByOptions: GROUP_BY, groups: report.groups, problems });
    return page(req as ConsoleRequest, { title: 'Reports', body, extraSections: queuesMenu(this.config) });
  }
}
