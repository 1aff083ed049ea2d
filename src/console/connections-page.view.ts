import type { ConnectionView } from '../connections/connections.service';
import { type Html, html } from './html';

export interface ConnectionsPageData {
  connections: ConnectionView[];
  /** Seconds since the oldest message not yet delivered to each connection was queued. */
  lagSeconds: Map<string, number>;
  /** Requests in each budget's current window (absent: unknown). */
  budgetUsed?: Map<string, number | null>;
  canManage: boolean;
  csrfToken: string;
  flash: Record<string, string | undefined>;
  now: Date;
}

/** 42 s, 5 min, 3.5 h, 2.1 d: how long, at a glance. */
export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** A moment in UTC, to the second: 2026-12-03 14:05:09 UTC. */
export function when(date: Date | string | null): string {
  if (!date) return '—';
  return `${new Date(date).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The status as the sync sees it: disabled by an operator, paused by a vendor's back-off, or the stored one. */
function status(c: ConnectionView, now: Date): Html {
  if (!c.enabled) return html`<span class="muted">disabled</span>`;
  if (c.status === 'needs_reauth') return html`<span class="bad">needs re-authentication</span>${c.lastError ? html`<br /><small>${c.lastError}</small>` : ''}`;
  if (c.status === 'disabled') return html`<span class="bad">disabled by the remote side</span>${c.lastError ? html`<br /><small>${c.lastError}</small>` : ''}`;
  if (c.retryAfter && new Date(c.retryAfter).getTime() > now.getTime()) return html`<span class="warn">paused until ${when(c.retryAfter)}</span>`;
  return html`<span class="ok">active</span>`;
}

function budget(c: ConnectionView, used: number | null | undefined): string {
  if (!c.budget) return '—';
  const limit = `${c.budget.requests} requests / ${duration(c.budget.perMs / 1000)}`;
  return typeof used === 'number' ? `${used} of ${limit} (${Math.round((100 * used) / c.budget.requests)} %)` : limit;
}

function lag(seconds: number | undefined): Html {
  if (seconds === undefined) return html`<span class="ok">up to date</span>`;
  return html`<span class="${seconds > 900 ? 'bad' : seconds > 60 ? 'warn' : ''}">${duration(seconds)} behind</span>`;
}

function actions(c: ConnectionView, csrfToken: string): Html {
  const csrf = html`<input type="hidden" name="_csrf" value="${csrfToken}" />`;
  return html`<div class="actions">
    <form method="post" action="/console/connections/${c.id}/enabled" class="inline">
      ${csrf}<input type="hidden" name="enabled" value="${c.enabled ? 'false' : 'true'}" />
      <button type="submit" class="secondary">${c.enabled ? 'Disable' : 'Enable'}</button>
    </form>
    <form method="post" action="/console/connections/${c.id}/recheck" class="inline">
      ${csrf}<button type="submit" class="secondary">Re-check credentials</button>
    </form>
    ${c.capabilities?.replies
      ? html`<form method="post" action="/console/connections/${c.id}/replies-setup" class="inline">
          ${csrf}<button type="submit" class="secondary">Set up replies</button>
        </form>`
      : ''}
  </div>`;
}

const DONE: Record<string, (q: Record<string, string | undefined>) => string> = {
  enabled: (q) => `${q.name} is enabled.`,
  disabled: (q) => `${q.name} is disabled: nothing is sent to it until it is enabled again.`,
  recheck: (q) => `${q.name}: the vendor accepted the stored credentials (status: ${q.status}).`,
  replies: (q) => `${q.name}: replies are set up; the vendor calls ${q.callback}.`,
};

const FAILED: Record<string, string> = { update: 'The change was not made', recheck: 'The credentials check failed', replies: 'Replies could not be set up' };

function flashOf(q: Record<string, string | undefined>): Html {
  if (q.done && DONE[q.done]) return html`<p class="notice ok" role="status">${DONE[q.done](q)}</p>`;
  if (q.failed && FAILED[q.failed]) return html`<p class="notice bad" role="alert">${FAILED[q.failed]}${q.name ? ` (${q.name})` : ''}: ${q.reason ?? 'unknown reason'}</p>`;
  return html``;
}

export function renderConnectionsPage(d: ConnectionsPageData): Html {
  return html`<h1>Connections</h1>
    ${flashOf(d.flash)}
    ${d.connections.length === 0
      ? html`<p class="notice">No connections yet. Create one with <code>POST /api/v1/connections</code>.</p>`
      : html`<div class="table-wrap">
          <table>
            <thead>
              <tr><th>Name</th><th>Connector</th><th>Status</th><th>Request budget</th><th>Sync lag</th><th>Last error</th>${d.canManage ? html`<th>Actions</th>` : ''}</tr>
            </thead>
            <tbody>
              ${d.connections.map(
                (c) => html`<tr data-connection="${c.name}">
                  <td><strong>${c.name}</strong><br /><small class="muted">${c.source}</small></td>
                  <td>${c.connectorName ?? c.connectorId}</td>
                  <td>${status(c, d.now)}</td>
                  <td>${budget(c, d.budgetUsed?.get(c.id))}</td>
                  <td>${lag(d.lagSeconds.get(c.id))}</td>
                  <td>${c.lastError ? html`<small>${c.lastError}</small>${c.failureCount ? html`<br /><small class="muted">${c.failureCount} failed calls in a row</small>` : ''}` : html`<span class="muted">—</span>`}</td>
                  ${d.canManage ? html`<td>${actions(c, d.csrfToken)}</td>` : ''}
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`}`;
}
