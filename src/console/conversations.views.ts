import type { AttemptRow, ConversationHeader, ConversationListRow, DeliveryRow, FilterChoices, MessageRow, StatusEventRow, TaskRow } from './console-read.repository';
import { type Html, html } from './html';

/** A time as operators read it, in UTC, inside a <time> element with the exact instant. */
export function at(value: Date | string | null | undefined): Html | string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return html`<time datetime="${date.toISOString()}">${date.toISOString().replace('T', ' ').slice(0, 19)} UTC</time>`;
}

function plus(e164: string): string {
  return e164.startsWith('+') ? e164 : `+${e164}`;
}

function number(row: { displayPhoneNumber: string | null; phoneNumberId: string }): string {
  return row.displayPhoneNumber ? `${row.displayPhoneNumber}` : row.phoneNumberId;
}

export function kilobytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function statusClass(status: string | null): string {
  if (status === 'failed' || status === 'dead') return 'bad';
  if (status === 'pending' || status === 'running') return 'warn';
  return 'ok';
}

export interface ListView {
  rows: ConversationListRow[];
  filters: { q?: string; status?: string; number?: string; connection?: string; route?: string };
  choices: FilterChoices;
  next?: string;
  first?: string;
}

export function conversationsList(view: ListView): Html {
  const { filters, choices } = view;
  const option = (value: string, label: string, selected?: string) => html`<option value="${value}"${selected === value ? html` selected` : ''}>${label}</option>`;
  return html`<h1>Conversations</h1>
    <form class="filters" method="get" action="/console/conversations" role="search">
      <label>Phone or name<input type="search" name="q" value="${filters.q ?? ''}" placeholder="+34 611… or Lucía" /></label>
      <label>Status<select name="status">${option('', 'any', filters.status ?? '')}${option('open', 'open', filters.status)}${option('closed', 'closed', filters.status)}</select></label>
      <label>Business number<select name="number">${option('', 'any', filters.number ?? '')}${choices.numbers.map((n) => option(n.phoneNumberId, number(n), filters.number))}</select></label>
      <label>Connection<select name="connection">${option('', 'any', filters.connection ?? '')}${choices.connections.map((c) => option(c.id, c.name, filters.connection))}</select></label>
      <label>Route<select name="route">${option('', 'any', filters.route ?? '')}${choices.routes.map((r) => option(r, r, filters.route))}</select></label>
      <button type="submit">Show</button>
    </form>
    ${view.rows.length === 0
      ? html`<p class="notice">No conversations match.</p>`
      : html`<div class="table-wrap"><table>
      <thead><tr><th>Customer</th><th>Number</th><th>Status</th><th>Route</th><th>Last message</th><th>Messages</th></tr></thead>
      <tbody>${view.rows.map(
        (r) => html`<tr data-conversation="${r.id}">
          <td><a href="/console/conversations/${r.id}">${r.profileName ?? plus(r.e164)}</a><br /><span class="muted">${plus(r.e164)}</span></td>
          <td>${number(r)}</td>
          <td class="${r.status === 'open' ? 'ok' : 'muted'}">${r.status}</td>
          <td>${r.route ?? html`<span class="muted">—</span>`}</td>
          <td>${at(r.lastMessageAt)}</td>
          <td>${r.messageCount}</td>
        </tr>`,
      )}</tbody></table></div>`}
    <nav class="pager" aria-label="Pages">
      ${view.first ? html`<a href="${view.first}">Newest</a>` : ''}
      ${view.next ? html`<a href="${view.next}" rel="next">Older →</a>` : ''}
    </nav>`;
}

/** Who wrote a message: the customer, or an agent and the system it came from. */
export function writtenBy(m: MessageRow): string {
  if (m.direction === 'inbound') return 'customer';
  const system =
    m.originConnectionName ??
    (m.origin === 'api' ? 'API' : m.origin === 'service-policy' ? 'auto' : m.origin === 'consent' ? 'consent confirmation' : (m.origin ?? 'unknown'));
  return m.author ? `${m.author} via ${system}` : system;
}

function mediaPart(m: MessageRow, mayDownload: boolean): Html | string {
  const media = m.media;
  if (!media) return '';
  const summary = [media.mimeType ?? m.type, kilobytes(media.sizeBytes)].filter(Boolean).join(' · ');
  if (m.mediaStatus !== 'stored') return html`<p class="muted">${summary} · ${m.mediaStatus === 'failed' ? 'download failed' : (m.mediaStatus ?? 'not stored')}</p>`;
  if (!mayDownload) return html`<p class="muted" data-media="summary">${summary}</p>`;
  const url = `/console/media/${m.id}`;
  if (/^image\/(jpeg|png|webp|gif)$/.test(media.mimeType ?? '')) {
    return html`<p><a href="${url}"><img src="${url}" alt="${media.caption ?? 'image'}" loading="lazy" style="max-width:100%;max-height:240px" /></a><br /><span class="muted">${summary}</span></p>`;
  }
  return html`<p><a href="${url}" download>Download</a> <span class="muted">${summary}</span></p>`;
}

function deliveryStatus(m: MessageRow): Html {
  if (m.direction === 'inbound') return html`<span class="muted">received</span>`;
  const status = m.status ?? 'pending';
  return html`<span class="${statusClass(status)}">${status}</span>${status === 'failed' && (m.errorCode || m.errorTitle) ? html` <span class="bad">(${m.errorCode ?? ''} ${m.errorTitle ?? ''})</span>` : ''}`;
}

/** Per connection: the task's state, the remote object it became, or why it did not. */
export function deliveriesOf(rows: DeliveryRow[]): Html {
  if (rows.length === 0) return html`<p class="muted">Not sent to any connection.</p>`;
  return html`<ul class="deliveries">${rows.map(
    (d) => html`<li data-connection="${d.connectionId}" data-task-status="${d.status}">
      <strong>${d.connectionName ?? d.connectionId}</strong>:
      <span class="${statusClass(d.status)}">${d.status}</span>
      <span class="muted">· ${d.attempts} attempt${d.attempts === 1 ? '' : 's'} · queued ${at(d.createdAt)}${d.doneAt ? html` · done ${at(d.doneAt)}` : ''}</span>
      ${d.remoteId ? html` · ${d.remoteUrl && /^https?:\/\//i.test(d.remoteUrl) ? html`<a href="${d.remoteUrl}" rel="noreferrer" target="_blank" data-remote-id="${d.remoteId}">${d.remoteId}</a>` : html`<code data-remote-id="${d.remoteId}">${d.remoteId}</code>`}` : ''}
      ${d.lastError && d.status !== 'done' ? html`<br /><span class="bad">${d.lastError}</span>` : ''}
      ${d.status === 'dead' ? html` <a href="/console/problems?task=${d.taskId}">See the dead letter</a>` : ''}
    </li>`,
  )}</ul>`;
}

export function conversationPage(c: ConversationHeader, messages: MessageRow[], deliveries: DeliveryRow[], mayDownload: boolean): Html {
  const byMessage = new Map<string, DeliveryRow[]>();
  for (const d of deliveries) byMessage.set(d.messageId, [...(byMessage.get(d.messageId) ?? []), d]);
  return html`<p><a href="/console/conversations">← Conversations</a></p>
    <h1>${c.profileName ?? plus(c.e164)} <span class="muted">${plus(c.e164)}</span></h1>
    <div class="card conversation-header">
      <div>Business number: <strong>${number(c)}</strong> <span class="muted">(${c.phoneNumberId})</span></div>
      <div>Status: <strong class="${c.status === 'open' ? 'ok' : 'muted'}">${c.status}</strong> · opened ${at(c.openedAt)}${c.closedAt ? html` · closed ${at(c.closedAt)}` : ''}</div>
      <div>Route: ${c.route ?? html`<span class="muted">none</span>`}${c.triagePath?.length ? html` · triage: ${c.triagePath.join(' → ')}` : ''}${c.triageState ? html` <span class="muted">(${c.triageState})</span>` : ''}</div>
    </div>
    <h2>Messages (${messages.length})</h2>
    <section class="messages">${messages.map(
      (m) => html`<article class="bubble ${m.direction}" id="message-${m.id}" data-message="${m.id}">
        <div class="muted">${m.type} · ${writtenBy(m)} · ${at(m.waTimestamp)} · ${deliveryStatus(m)}</div>
        ${m.body ? html`<p style="white-space:pre-wrap;margin:.3rem 0">${m.body}</p>` : ''}
        ${mediaPart(m, mayDownload)}
        <details class="where"><summary>Where it went</summary>${deliveriesOf(byMessage.get(m.id) ?? [])}</details>
        <a href="/console/conversations/${c.id}/messages/${m.id}" hx-get="/console/conversations/${c.id}/messages/${m.id}" hx-target="#history-${m.id}" hx-swap="innerHTML">History</a>
        <div id="history-${m.id}"></div>
      </article>`,
    )}</section>`;
}

interface HistoryEvent {
  at: Date;
  order: number;
  what: Html;
}

/** The message's own event history, from the database: received, stored, queued, each sync attempt, status changes, done/dead. */
export function messageHistory(m: MessageRow, tasks: TaskRow[], attempts: AttemptRow[], statuses: StatusEventRow[]): Html {
  const events: HistoryEvent[] = [];
  const add = (when: Date | string | null, order: number, what: Html) => {
    if (when) events.push({ at: new Date(when), order, what });
  };
  add(m.waTimestamp, 0, m.direction === 'inbound' ? html`received from WhatsApp (the customer's timestamp)` : html`written by ${writtenBy(m)}`);
  add(m.createdAt, 1, html`stored`);
  for (const t of tasks) {
    add(t.createdAt, 2, html`queued: ${t.queue} ${t.kind}${t.connectionName ? html` → <strong>${t.connectionName}</strong>` : ''} <span class="muted">(task ${t.taskId})</span>`);
    if (t.status === 'done') add(t.doneAt ?? t.updatedAt, 5, html`<span class="ok">done</span>: ${t.queue}${t.connectionName ? html` → ${t.connectionName}` : ''} after ${t.attempts} attempt${t.attempts === 1 ? '' : 's'}`);
    if (t.status === 'dead') {
      add(t.updatedAt, 5, html`<span class="bad">dead</span>: ${t.queue}${t.connectionName ? html` → ${t.connectionName}` : ''}${t.lastError ? html` — <span class="bad">${t.lastError}</span>` : ''} <a href="/console/problems?task=${t.taskId}">See the dead letter</a>`);
    }
  }
  for (const a of attempts) {
    add(
      a.startedAt,
      3,
      html`sync attempt: ${a.operation}${a.connectionName ? html` → <strong>${a.connectionName}</strong>` : ''}: <span class="${a.outcome === 'ok' ? 'ok' : 'bad'}" data-outcome="${a.outcome}">${a.outcome}</span> in <span data-duration>${a.durationMs} ms</span>${a.error ? html` — <span class="bad">${a.error}</span>` : ''}`,
    );
  }
  for (const s of statuses) {
    const error = s.errors?.[0];
    add(s.occurredAt, 4, html`WhatsApp status: <span class="${statusClass(s.status)}">${s.status}</span>${error ? html` — <span class="bad">${error.code ?? ''} ${error.title ?? error.message ?? ''}</span>` : ''}`);
  }
  events.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
  return html`<ol class="history" data-history="${m.id}">${events.map((e) => html`<li>${at(e.at)} — ${e.what}</li>`)}</ol>
    ${attempts.length === 0 ? html`<p class="muted">No sync attempts recorded.</p>` : ''}`;
}

export function messagePage(conversation: ConversationHeader, m: MessageRow, deliveries: DeliveryRow[], history: Html): Html {
  return html`<p><a href="/console/conversations/${conversation.id}#message-${m.id}">← ${conversation.profileName ?? plus(conversation.e164)}</a></p>
    <h1>Message <span class="muted">${m.type} · ${m.direction}</span></h1>
    <div class="card">
      <div class="muted">${writtenBy(m)} · ${at(m.waTimestamp)} · ${deliveryStatus(m)}</div>
      ${m.body ? html`<p style="white-space:pre-wrap">${m.body}</p>` : ''}
      <div class="muted">wamid <code>${m.wamid}</code></div>
    </div>
    <h2>Where it went</h2>
    ${deliveriesOf(deliveries)}
    <h2>History</h2>
    ${history}`;
}
