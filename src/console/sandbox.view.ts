import { type Html, html, raw } from './html';
import type { SandboxCustomer, SandboxEntry, SandboxTick } from './sandbox.store';

/** The sandbox phone's own styles (the console's stylesheet has the bubbles). */
const SANDBOX_CSS = raw(`<style>
.sandbox { display: grid; grid-template-columns: minmax(220px, 1fr) minmax(300px, 2fr); gap: 1rem; align-items: start; }
.sandbox form.stack { display: flex; flex-direction: column; gap: .5rem; }
.sandbox .phone { max-width: 520px; }
.sandbox .card > h2:first-child { margin-top: 0; }
.sandbox .chat { min-height: 240px; max-height: 60vh; overflow-y: auto; padding: .5rem; background: #efeae2; border-radius: 8px; }
.sandbox .bubble { position: relative; }
.sandbox .bubble img { max-width: 100%; border-radius: 6px; display: block; }
.sandbox .meta { font-size: .75em; color: var(--muted); text-align: right; }
.sandbox .tick { letter-spacing: -.2em; margin-left: .3em; }
.sandbox .tick.read { color: #1d9bf0; }
.sandbox .tick.failed { color: var(--bad); letter-spacing: 0; }
.sandbox .menu { display: flex; flex-wrap: wrap; gap: .35rem; margin-top: .4rem; }
.sandbox .menu form { display: inline; }
.sandbox .template { font-size: .8em; color: var(--muted); }
.sandbox .compose { display: flex; gap: .5rem; margin-top: .6rem; }
.sandbox .compose input[type=text] { flex: 1; }
.sandbox details { margin-top: .5rem; }
.sandbox ul.customers { list-style: none; padding: 0; margin: 0; }
.sandbox ul.customers li { padding: .2rem 0; }
@media (max-width: 760px) { .sandbox { grid-template-columns: 1fr; } }
</style>`);

export function formatNumber(waId: string): string {
  return `+${waId}`;
}

/** Hours and minutes in UTC (the server renders; the title has the whole instant). */
const time = (at: Date) => html`<time datetime="${at.toISOString()}" title="${at.toISOString()}">${at.toISOString().slice(11, 16)}</time>`;

/** A business message's ticks (sent ✓, delivered ✓✓, read blue); a customer's: ✓✓ once the service took it, blue once it read it. */
function ticks(tick: SandboxTick, problem?: string): Html {
  switch (tick) {
    case 'pending':
      return html`<span class="tick pending" data-tick="pending" title="sending">🕓</span>`;
    case 'sent':
      return html`<span class="tick sent" data-tick="sent" title="sent">✓</span>`;
    case 'delivered':
      return html`<span class="tick delivered" data-tick="delivered" title="delivered">✓✓</span>`;
    case 'read':
      return html`<span class="tick read" data-tick="read" title="read">✓✓</span>`;
    case 'failed':
      return html`<span class="tick failed" data-tick="failed" title="${problem ?? 'failed'}">⚠ ${problem ?? 'not delivered'}</span>`;
  }
}

function mediaPart(entry: SandboxEntry): Html {
  const m = entry.media;
  if (!m) return html``;
  if (m.id && (entry.kind === 'image' || entry.kind === 'sticker')) return html`<img src="/console/sandbox/media/${m.id}" alt="${entry.caption ?? 'photo'}" />`;
  if (m.id) return html`<a href="/console/sandbox/media/${m.id}">${m.filename ?? `${entry.kind} file`}</a>`;
  // A link is shown, never fetched: the sandbox makes no outbound requests for the service.
  return html`<span class="muted">${entry.kind} from a link:</span> <code>${m.link ?? ''}</code>`;
}

function menu(entry: SandboxEntry, waId: string, csrf: string): Html {
  if (!entry.buttons?.length) return html``;
  return html`<div class="menu">${entry.buttons.map(
    (b) => html`<form method="post" action="/console/sandbox/button" hx-post="/console/sandbox/button" hx-target="#sandbox-chat">
      <input type="hidden" name="_csrf" value="${csrf}" />
      <input type="hidden" name="wa" value="${waId}" />
      <input type="hidden" name="replyTo" value="${entry.wamid}" />
      <input type="hidden" name="id" value="${b.id}" />
      <input type="hidden" name="title" value="${b.title}" />
      <input type="hidden" name="list" value="${entry.kind === 'list' ? '1' : ''}" />
      <button type="submit" class="secondary" title="${b.description ?? ''}">${b.title}</button>
    </form>`,
  )}</div>`;
}

function content(entry: SandboxEntry): Html {
  switch (entry.kind) {
    case 'location': {
      const l = entry.location!;
      return html`📍 <a href="https://www.openstreetmap.org/?mlat=${l.latitude}&amp;mlon=${l.longitude}" rel="noreferrer" target="_blank">${l.latitude}, ${l.longitude}</a>${l.name ? html` · ${l.name}` : ''}${l.address ? html`<br /><span class="muted">${l.address}</span>` : ''}`;
    }
    case 'template': {
      const t = entry.template!;
      return html`<div class="template">Template <strong>${t.name}</strong>${t.language ? ` (${t.language})` : ''}</div>${t.params.length ? html`<div>${t.params.join(' · ')}</div>` : ''}`;
    }
    case 'button':
      return html`<span class="muted">tapped</span> <strong>${entry.text ?? ''}</strong>`;
    case 'reaction':
      return html`<span class="muted">reacted</span> ${entry.text ?? ''}`;
    case 'buttons':
    case 'list':
      return html`${entry.header ? html`<strong>${entry.header}</strong><br />` : ''}${entry.text ?? ''}${entry.footer ? html`<div class="muted">${entry.footer}</div>` : ''}`;
    default:
      return html`${mediaPart(entry)}${entry.caption ? html`<div>${entry.caption}</div>` : ''}${entry.text !== undefined ? html`<span class="text">${entry.text}</span>` : ''}`;
  }
}

/** The chat: both sides in order, the customer's own messages on the right, as on their phone. */
export function chatFragment(customer: SandboxCustomer | undefined, csrf: string): Html {
  if (!customer || customer.entries.length === 0) return html`<p class="muted" data-empty>No messages yet: write something below.</p>`;
  return html`${customer.entries.map(
    (e) => html`<div class="bubble ${e.from === 'customer' ? 'outbound' : 'inbound'}" data-from="${e.from}" data-kind="${e.kind}" data-wamid="${e.wamid}">
      ${content(e)}${e.from === 'business' ? menu(e, customer.waId, csrf) : ''}
      <div class="meta">${time(e.at)}${ticks(e.tick, e.problem)}</div>
    </div>`,
  )}`;
}

export interface SandboxPageModel {
  csrf: string;
  customer?: SandboxCustomer;
  others: SandboxCustomer[];
  freshNumber: string;
  fakeCloudApi: boolean;
  error?: string;
}

/** The sandbox phone's page body. */
export function sandboxBody(m: SandboxPageModel): Html {
  const c = m.customer;
  const csrfField = html`<input type="hidden" name="_csrf" value="${m.csrf}" />`;
  const waField = c ? html`<input type="hidden" name="wa" value="${c.waId}" />` : '';
  const resetOnSuccess = raw(`hx-on::after-request="if (event.detail.successful) this.reset()"`);
  return html`${SANDBOX_CSS}
    <h1>Sandbox phone</h1>
    <p class="muted">
      Play a WhatsApp customer. What you send reaches this service as Meta's signed webhooks, and goes on to every connected CRM or helpdesk like a real customer's message.
      ${m.fakeCloudApi
        ? 'What the service sends back (agent replies, templates, auto-replies, menus) arrives here through the built-in fake Cloud API, with its ticks: sent ✓, delivered ✓✓, read in blue once this chat is open.'
        : html`<strong>WHATSAPP_API_URL is set</strong>: the service's sends go there, so nothing the business sends appears here.`}
    </p>
    ${m.error ? html`<p class="notice bad" role="alert">${m.error}</p>` : ''}
    <div class="sandbox">
      <section class="card">
        <h2>Who you are</h2>
        <form method="post" action="/console/sandbox/customer" class="stack">
          ${csrfField}
          <label>Name <input name="name" required maxlength="100" value="Sam Sandbox" /></label>
          <label>Number <input name="number" required inputmode="tel" value="${formatNumber(m.freshNumber)}" /></label>
          <button type="submit">${c ? 'Be this customer instead' : 'Start as this customer'}</button>
        </form>
        ${m.others.length
          ? html`<h2>Sandbox customers</h2>
              <ul class="customers">${m.others.map((o) => html`<li><a href="/console/sandbox?wa=${o.waId}"${o.waId === c?.waId ? html` aria-current="true"` : ''}>${o.name}</a> <span class="muted">${formatNumber(o.waId)}</span></li>`)}</ul>`
          : ''}
      </section>
      ${c
        ? html`<section class="card phone" aria-label="Phone">
            <h2 data-customer="${c.waId}">${c.name} <span class="muted">${formatNumber(c.waId)}</span></h2>
            <div id="sandbox-chat" class="chat" hx-get="/console/sandbox/chat?wa=${c.waId}" hx-trigger="every 2s" hx-swap="innerHTML" aria-live="polite">
              ${chatFragment(c, m.csrf)}
            </div>
            <noscript><p><a href="/console/sandbox?wa=${c.waId}">Refresh the chat</a></p></noscript>
            <form method="post" action="/console/sandbox/text" hx-post="/console/sandbox/text" hx-target="#sandbox-chat" ${resetOnSuccess} class="compose">
              ${csrfField}${waField}
              <input type="text" name="text" required maxlength="4096" placeholder="Message" aria-label="Message" autocomplete="off" />
              <button type="submit">Send</button>
            </form>
            <details>
              <summary>Send a photo</summary>
              <!-- A file form cannot be read before the console checks its token, so the token also rides in the address. -->
              <form method="post" enctype="multipart/form-data" action="/console/sandbox/photo?_csrf=${m.csrf}" hx-post="/console/sandbox/photo" hx-encoding="multipart/form-data" hx-target="#sandbox-chat" ${resetOnSuccess} class="stack">
                ${csrfField}${waField}
                <label>Photo (JPEG, PNG or WebP, up to 5 MB) <input type="file" name="photo" accept="image/jpeg,image/png,image/webp" required /></label>
                <label>Caption <input type="text" name="caption" maxlength="1024" /></label>
                <button type="submit">Send photo</button>
              </form>
            </details>
            <details>
              <summary>Send a location</summary>
              <form method="post" action="/console/sandbox/location" hx-post="/console/sandbox/location" hx-target="#sandbox-chat" ${resetOnSuccess} class="stack">
                ${csrfField}${waField}
                <label>Latitude <input name="latitude" type="number" step="any" min="-90" max="90" required value="52.520008" /></label>
                <label>Longitude <input name="longitude" type="number" step="any" min="-180" max="180" required value="13.404954" /></label>
                <label>Place name <input name="placeName" maxlength="200" /></label>
                <label>Address <input name="address" maxlength="500" /></label>
                <button type="submit">Send location</button>
              </form>
            </details>
          </section>`
        : html`<section class="card"><p class="muted">Pick a name and a number to start a chat.</p></section>`}
    </div>`;
}
