import type { ReportGroupBy, ServiceReportGroup } from '../service-policy/service-report';
import { duration } from './connections-page.view';
import { type Html, html } from './html';
import { barChart } from './reports-page.charts';

export interface ReportsPageData {
  from: Date;
  /** The last day included. */
  lastDay: Date;
  groupBy: ReportGroupBy;
  groupByOptions: ReportGroupBy[];
  groups: ServiceReportGroup[];
  problems: string[];
}

const GROUP_LABEL: Record<ReportGroupBy, string> = { day: 'Day', number: 'Business number', route: 'Route', connection: 'Connection' };

const ymd = (d: Date) => d.toISOString().slice(0, 10);
const seconds = (v: number | null | undefined) => (v === null || v === undefined ? '—' : duration(v));
const share = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${Math.round(v * 100)} %`);

export function renderReportsPage(d: ReportsPageData): Html {
  // Days read better as "12-03"; other keys (numbers, routes, connection ids) are shown as they are.
  const label = (key: string) => (d.groupBy === 'day' ? key.slice(5) : key.length > 12 ? `${key.slice(0, 10)}…` : key);
  const bars = (pick: (g: ServiceReportGroup) => number | null) => d.groups.map((g) => ({ label: label(g.key), value: pick(g) }));
  return html`<h1>Reports</h1>
    <form method="get" action="/console/reports" class="filters">
      <label>From <input type="date" name="from" value="${ymd(d.from)}" /></label>
      <label>To <input type="date" name="to" value="${ymd(d.lastDay)}" /></label>
      <label>Group by
        <select name="groupBy">${d.groupByOptions.map((g) => html`<option value="${g}"${g === d.groupBy ? html` selected` : ''}>${GROUP_LABEL[g]}</option>`)}</select>
      </label>
      <button type="submit">Show</button>
    </form>
    ${d.problems.map((p) => html`<p class="notice warn" role="alert">${p}</p>`)}
    <p class="muted">Conversations opened from ${ymd(d.from)} to ${ymd(d.lastDay)} (UTC days), calendar time. Definitions: the README's "Customer-service policy".</p>
    <div class="charts">
      ${barChart({ title: 'First response, median', bars: bars((g) => g.firstResponse.calendar.median), format: duration })}
      ${barChart({ title: 'Resolution, median', bars: bars((g) => g.resolution.calendar.median), format: duration })}
      ${barChart({ title: 'Answered within 1 h', bars: bars((g) => g.answeredWithin1h.calendar), format: (v) => `${Math.round(v * 100)} %`, max: 1 })}
    </div>
    <h2>Figures</h2>
    ${d.groups.length === 0
      ? html`<p class="muted">No conversations in this period.</p>`
      : html`<div class="table-wrap"><table id="report">
          <thead><tr>
            <th>${GROUP_LABEL[d.groupBy]}</th><th>Conversations</th><th>Answered</th><th>Resolved</th>
            <th>First response median / p90</th><th>Resolution median / p90</th><th>Within 1 h</th><th>Within 1 h (business hours)</th><th>Replies per conversation</th>
          </tr></thead>
          <tbody>
            ${d.groups.map(
              (g) => html`<tr>
                <td>${g.key}</td><td>${g.conversations}</td><td>${g.answered}</td><td>${g.resolved}</td>
                <td>${seconds(g.firstResponse.calendar.median)} / ${seconds(g.firstResponse.calendar.p90)}</td>
                <td>${seconds(g.resolution.calendar.median)} / ${seconds(g.resolution.calendar.p90)}</td>
                <td>${share(g.answeredWithin1h.calendar)}</td>
                <td>${share(g.answeredWithin1h.business)}</td>
                <td>${g.repliesPerConversation.mean.toFixed(1)}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`}`;
}
