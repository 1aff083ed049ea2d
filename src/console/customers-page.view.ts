import type { ConsentEvent, ConsentState } from '../consent/consent.types';
import type { ContactEntity } from '../contacts/entities/contact.entity';
import type { ErasureView } from '../privacy/privacy.types';
import { when } from './connections-page.view';
import { type Html, html } from './html';
import type { CustomerRow } from './customers-page.repository';

export function renderCustomersPage(d: { query: string; customers: CustomerRow[] }): Html {
  return html`<h1>Customers</h1>
    <form method="get" action="/console/customers" class="filters" role="search">
      <label>Phone or name <input type="search" name="q" value="${d.query}" placeholder="+31 6 1234 or Maria" /></label>
      <button type="submit">Search</button>
    </form>
    ${d.customers.length === 0
      ? html`<p class="muted">No customers${d.query ? ' match' : ' yet'}.</p>`
      : html`<div class="table-wrap">
          <table id="customers">
            <thead><tr><th>Phone</th><th>Name</th><th>Last message</th><th>First seen</th></tr></thead>
            <tbody>
              ${d.customers.map(
                (c) => html`<tr>
                  <td><a href="/console/customers/${c.id}">${c.e164}</a></td>
                  <td>${c.profileName ?? html`<span class="muted">—</span>`}</td>
                  <td>${when(c.lastMessageAt)}</td>
                  <td>${when(c.createdAt)}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`}`;
}

const STATUS_CLASS: Record<string, string> = { opted_in: 'ok', opted_out: 'bad', unknown: 'muted' };

function consentState(state: ConsentState): Html {
  return html`<div class="table-wrap"><table id="consent-state">
    <thead><tr><th>Scope</th><th>Now</th><th>Since</th><th>Source</th></tr></thead>
    <tbody>
      ${Object.entries(state).map(
        ([scope, s]) => html`<tr><td>${scope}</td><td class="${STATUS_CLASS[s.status] ?? ''}">${s.status.replace('_', ' ')}</td><td>${when(s.changedAt)}</td><td>${s.source ?? '—'}</td></tr>`,
      )}
    </tbody>
  </table></div>`;
}

function ledger(events: ConsentEvent[]): Html {
  if (events.length === 0) return html`<p class="muted">No consent recorded.</p>`;
  return html`<div class="table-wrap"><table id="consent-ledger">
    <thead><tr><th>When</th><th>Change</th><th>Source</th><th>Who</th><th>Evidence</th></tr></thead>
    <tbody>
      ${events.map(
        (e) => html`<tr>
          <td>${when(e.occurredAt)}</td>
          <td>${e.action.replace('_', ' ')} · ${e.scope}</td>
          <td>${e.source}</td>
          <td>${e.actor}</td>
          <td><small>${e.evidenceText ?? '—'}</small></td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

export interface CustomerPageData {
  contact: ContactEntity;
  /** null: the role may not read consent. */
  consent: { state: ConsentState; events: ConsentEvent[] } | null;
  canExport: boolean;
  canErase: boolean;
  csrfToken: string;
}

export function renderCustomerPage(d: CustomerPageData): Html {
  const c = d.contact;
  return html`<p><a href="/console/customers">← Customers</a></p>
    <h1>${c.profileName ?? c.e164}</h1>
    <div class="card">
      <p><strong>${c.e164}</strong> <span class="muted">(WhatsApp id ${c.waId})</span></p>
      <p class="muted">First seen ${when(c.createdAt)}</p>
      ${d.canExport || d.canErase
        ? html`<div class="actions">
            ${d.canExport
              ? html`<form method="post" action="/console/customers/${c.id}/export" class="inline">
                  <input type="hidden" name="_csrf" value="${d.csrfToken}" />
                  <button type="submit" class="secondary">Export (JSON)</button>
                </form>`
              : ''}
            ${d.canErase
              ? html`<form method="get" action="/console/customers/${c.id}/erase" class="inline"><button type="submit" class="danger" id="erase">Erase…</button></form>`
              : ''}
          </div>`
        : ''}
    </div>
    ${d.consent
      ? html`<h2>Consent</h2>${consentState(d.consent.state)}<h2>Consent ledger</h2>${ledger(d.consent.events)}`
      : ''}`;
}

export function renderErasePage(d: { contact: ContactEntity; csrfToken: string; mismatch: boolean }): Html {
  const c = d.contact;
  return html`<p><a href="/console/customers/${c.id}">← ${c.profileName ?? c.e164}</a></p>
    <h1>Erase ${c.profileName ?? c.e164}</h1>
    <div class="card">
      <p>This removes the customer's conversations, messages, media, consent ledger and links here at once, and asks every connected system that supports it to delete the contact. It cannot be undone.</p>
      ${d.mismatch ? html`<p class="bad" role="alert">That is not this customer's phone number. Nothing was erased.</p>` : ''}
      <form method="post" action="/console/customers/${c.id}/erase">
        <input type="hidden" name="_csrf" value="${d.csrfToken}" />
        <label>Type the phone number (${c.e164}) to confirm
          <input name="confirm" inputmode="tel" autocomplete="off" required />
        </label>
        <p><button type="submit" class="danger">Erase this customer</button></p>
      </form>
    </div>`;
}

const RECEIPT_CLASS: Record<string, string> = { done: 'ok', not_found: 'ok', pending: 'warn', failed: 'bad' };

export function renderErasurePage(e: ErasureView): Html {
  const counts = Object.entries(e.erased).map(([k, v]) => `${v} ${k.replace(/([A-Z])/g, ' $1').toLowerCase()}`);
  return html`<p><a href="/console/customers">← Customers</a></p>
    <h1>Erasure</h1>
    <div class="card">
      <p>Status: <strong class="${RECEIPT_CLASS[e.status] ?? ''}" id="erasure-status">${e.status}</strong></p>
      <p class="muted">Requested ${when(e.requestedAt)}${e.completedAt ? `, completed ${when(e.completedAt)}` : ''}. Removed here: ${counts.join(', ')}.</p>
      <p class="muted">Follow it in the API at <code>GET /api/v1/erasures/${e.id}</code>; reload this page for the connections' progress.</p>
    </div>
    <h2>Receipts</h2>
    <div class="table-wrap"><table id="receipts">
      <thead><tr><th>System</th><th>Status</th><th>Detail</th><th>Attempts</th><th>Updated</th></tr></thead>
      <tbody>
        ${e.receipts.map(
          (r) => html`<tr data-target="${r.targetName}">
            <td>${r.targetName}${r.connectorId ? html`<br /><small class="muted">${r.connectorId}</small>` : ''}</td>
            <td class="${RECEIPT_CLASS[r.status] ?? ''}">${r.status.replace('_', ' ')}</td>
            <td><small>${r.detail ?? '—'}</small></td>
            <td>${r.attempts}</td>
            <td>${when(r.completedAt ?? r.updatedAt)}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>`;
}
