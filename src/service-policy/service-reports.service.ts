import { Injectable } from '@nestjs/common';
import { type BusinessHours, compileHours } from './hours';
import { ServicePolicyRepository } from './service-policy.repository';
import { type ReportGroupBy, serviceReport, type ServiceReportGroup } from './service-report';

/** Loads the conversations a report covers and the hours of each number; service-report.ts computes. */
@Injectable()
export class ServiceReportsService {
  constructor(private readonly repo: ServicePolicyRepository) {}

  async report(from: Date, to: Date, groupBy: ReportGroupBy): Promise<{ from: Date; to: Date; groupBy: ReportGroupBy; groups: ServiceReportGroup[] }> {
    const [rows, policies] = await Promise.all([this.repo.reportConversations(from, to), this.repo.all()]);
    const hours = new Map<string, BusinessHours>(policies.map((p) => [p.phoneNumberId, compileHours(p.policy)]));
    const fallback = hours.get('default') ?? null;
    const asOf = new Date(Math.min(to.getTime(), Date.now()));
    const groups = serviceReport(rows, {
      groupBy,
      hoursFor: (phoneNumberId) => hours.get(phoneNumberId) ?? fallback,
      timeZone: fallback?.timeZone ?? 'UTC',
      asOf,
    });
    return { from, to, groupBy, groups };
  }
}
