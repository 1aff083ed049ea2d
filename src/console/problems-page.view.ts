import type { DeadLetter } from '../sync/dead-letters.service';
import type { QuarantineEntity } from '../whatsapp/entities/quarantine.entity';
import { when } from './connections-page.view';
import { type Html, html } from './html';
import type { RefusedReply } from './problems-page.repository';

export interface ProblemsPageData {
  deadLetters: DeadLetter[];
  moreDeadLetters: boolean;
  connectionNames: Map<string, string>;
  /** The connection the dead letters are filtered by. */
  connectionId?: string;
  /** null: the role may not read them. */
  quarantine: QuarantineEntity[] | null;
  refused: RefusedReply[] | null;
  canReplay: boolean;
  csrfToken: string;
  flash: Record<string, string | undefined>;
}

function flashOf(q: Record<string, string | undefined>): Html {
  if (q.replayed !== undefined) {
    const n = Number(q.replayed);
    return html`<p class="notice ok" role="status">${n === 1 ? 'The task is queued again.' : `${Number.isFinite(n) ? n : 0} tasks are queued again.`}</p>`;
  }
  if (q.gone) return html`<p class="notice" role="status">That dead letter is no longer there (replayed already?).</p>`;
  return html``;
}

function connectionFilter(d: ProblemsPageData): Html {
  return html`<form method="get" action="/console/problems" class="filters">
    <label>Connection
      <select name="connection">
        <option value="">All</option>
        ${[...d.connectionNames].map(([id, name]) => html`<option value="${id}"${id === d.connectionId ? html` selected` : ''}>${name}</option>`)}
      </select>
    </label>
    <button type="submit" class="secondary">Show</button>
  </form>`;
}

function deadLetters(d: ProblemsPageData): Html {
  const csrf = html`<input type="hidden" name="_csrf" value="${d.csrfToken}" />`;
  const replayAll =
    d.canReplay && d.connectionId && d.deadLetters.length > 0
      ? html`<form method="post" action="/console/problems/connections/${d.connectionId}/replay" class="inline">
          ${csrf}<button type="submit">Replay all of ${d.connectionNames.get(d.connectionId) ?? 'this connection'}</button>
        </form>`
      : '';
  if (d.deadLetters.length === 0) return html`${connectionFilter(d)}<p class="muted" id="no-dead-letters">No dead letters${d.connectionId ? ' for this connection' : ''}.</p>`;
  return html`${connectionFilter(d)}${replayAll}
    <div class="table-wrap">
      <table id="dead-letters">
        <thead><tr><th>When</th><th>Queue</th><th>Connection</th><th>Error</th><th>Attempts</th>${d.canReplay ? html`<th></th>` : ''}</tr></thead>
        <tbody>
          ${d.deadLetters.map(
            (l) => html`<tr data-dead-letter="${l.id}">
              <td>${when(l.updatedAt)}</td>
              <td>${l.queue}<br /><small class="muted">${l.kind}</small></td>
              <td>${l.connectionId ? html`<a href="/console/problems?connection=${l.connectionId}">${d.connectionNames.get(l.connectionId) ?? l.connectionId}</a>` : html`<span class="muted">—</span>`}</td>
              <td><small>${l.lastError ?? '—'}</small></td>
              <td>${l.attempts}</td>
              ${d.canReplay
                ? html`<td><form method="post" action="/console/problems/dead-letters/${l.id}/replay" class="inline">${csrf}<button type="submit" class="secondary">Replay</button></form></td>`
                : ''}
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${d.moreDeadLetters ? html`<p class="muted">Newest ${d.deadLetters.length} shown; <code>GET /api/v1/dead-letters</code> pages through all.</p>` : ''}`;
}

function quarantine(items: QuarantineEntity[]): Html {
  if (items.length === 0) return html`<p class="muted">Nothing quarantined.</p>`;
  return html`<div class="table-wrap">
    <table id="quarantine">
      <thead><tr><th>When</th><th>Kind</th><th>Source</th><th>Reason</th><th>Payload</th></tr></thead>
      <tbody>
        ${items.map(
          (q) => html`<tr>
            <td>${when(q.createdAt)}</td>
            <td>${q.kind}</td>
            <td>${q.source}</td>
            <td><small>${q.reason}</small></td>
            <td><details><summary>Raw payload</summary><pre class="payload">${q.payload}</pre></details></td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function refused(rows: RefusedReply[]): Html {
  if (rows.length === 0) return html`<p class="muted">No refused replies.</p>`;
  return html`<div class="table-wrap">
    <table id="refused-replies">
      <thead><tr><th>When</th><th>Reason</th><th>Detail</th><th>Origin</th><th>Author</th></tr></thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr>
            <td>${when(r.createdAt)}</td>
            <td>${r.reason}<br /><small class="muted">${r.category}${r.isTemplate ? ', template' : ''}</small></td>
            <td><small>${r.detail}</small></td>
            <td>${r.origin}</td>
            <td>${r.author ?? html`<span class="muted">—</span>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function renderProblemsPage(d: ProblemsPageData): Html {
  return html`<h1>Problems</h1>
    ${flashOf(d.flash)}
    <h2>Dead letters</h2>
    <p class="muted">Work that gave up (a request the vendor refused, a download that cannot succeed). Fix the cause, then replay.</p>
    ${deadLetters(d)}
    ${d.quarantine ? html`<h2>Quarantine</h2><p class="muted">Signed webhooks (or parts) that could not be understood.</p>${quarantine(d.quarantine)}` : ''}
    ${d.refused ? html`<h2>Refused replies</h2><p class="muted">Messages to customers refused before sending (consent, the 24-hour window, …).</p>${refused(d.refused)}` : ''}`;
}
