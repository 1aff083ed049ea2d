/**
 * The demo's story, one small function per step: `npm run demo` (demo.ts) prints it, and
 * test/e2e/demo.e2e-spec.ts runs it so it cannot silently rot.
 *
 * Everything goes the way it would in production: customers' messages arrive as signed Meta
 * webhooks, agents answer in the (fake) Zendesk, whose webhook emitter calls threadbridge, and
 * operators use the HTTP API. Outcomes are read from what the fake vendors received, polled until
 * they appear or a step's time runs out. Nothing reaches into threadbridge's code except to start
 * and stop it.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type HubspotFake, startHubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { type FakeComment, type FakeTicket, startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { type RunningService, startService } from '../../src/bootstrap';
import { createLogger } from '../../src/common/logger';
import { aLocationMessageWebhook, anImageMessageWebhook, aStatusWebhook, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, type SentMessage, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { allowFakes } from '../setup/test-env';

const APP_SECRET = 'demo-app-secret';
const ADMIN_KEY = 'demo-admin-key-0123456789';
const WHATSAPP_TOKEN = 'demo-whatsapp-token';
const HUBSPOT_TOKEN = 'demo-hubspot-token';
const ZENDESK_WEBHOOK_SECRET = 'demo-zendesk-signing-secret';
const HOUR_MS = 60 * 60_000;

/** Zendesk settings; PATCH replaces settings as a whole, so step 4 resends these with the template. */
const ZENDESK_SETTINGS = {
  subjectTemplate: 'WhatsApp: {{name}} ({{phone}})',
  // Zendesk has no per-comment delivery status: with this, "delivered" becomes a short internal note.
  reportDelivered: true,
};
const REPLY_TEMPLATE = { name: 'support_reply', language: 'en', category: 'utility', parameters: ['{{customer.name}}', '{{agent.text}}'] };

export interface DemoOptions {
  /** Receives each printed line. Default console.log. */
  print?: (line: string) => void;
  /** ANSI bold/dim. Default: when stdout is a terminal. */
  color?: boolean;
  /** How long each awaited outcome may take. Default 30 s. */
  stepTimeoutMs?: number;
  /** Leave the service and the fakes running after the story, until SIGINT/SIGTERM (`--keep`). */
  keep?: boolean;
}

/** What the demo showed, for the test that runs it. */
export interface DemoResult {
  zendeskTicket: { id: number; subject: string; requester: string; customerComments: string[] };
  replyOnPhone: { to: string; type: string; text: string };
  deliveryNote: string;
  hubspotReply: string;
  /** Comments on the ticket holding the agent's reply text: 1 (the agent's own) when nothing echoed back. */
  replyCopiesInZendesk: number;
  zendeskCommentCount: number;
  hubspot: { contacts: number; communications: number; transcripts: number };
  template: { to: string; name: string; language: string; parameters: string[] };
  /** Sends the fake Cloud API found out of line with Meta's OpenAPI document. */
  whatsAppSpecViolations: number;
}

/** A step's outcome did not appear in time. */
export class DemoTimeoutError extends Error {}

interface Printer {
  step(title: string): void;
  line(text?: string): void;
  bold(text: string): string;
  dim(text: string): string;
}

/** Everything a step needs: the running service, the fakes and the API as an operator uses it. */
interface Demo {
  service: RunningService;
  meta: MetaGraphFake;
  hubspot: HubspotFake;
  zendesk: ZendeskFake;
  api: AxiosInstance;
  out: Printer;
  stepTimeoutMs: number;
  closeFakes(): Promise<unknown>;
}

interface Customer {
  waId: string;
  name: string;
}

/** Runs the whole story; resolves with what it showed, rejects at the first step that fails. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = printer(options.print ?? ((line) => console.log(line)), options.color ?? process.stdout.isTTY === true);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadbridge-demo-'));
  out.line(out.bold('threadbridge demo') + out.dim(`  (embedded database in ${dataDir})`));

  out.step('Starting a fake WhatsApp Cloud API, a fake HubSpot, a fake Zendesk, and threadbridge in embedded mode…');
  const demo = await start(dataDir, out, options.stepTimeoutMs ?? 30_000).catch((error: unknown) => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  try {
    await connectHubspot(demo);
    const zendeskId = await connectZendesk(demo);

    const ana: Customer = { waId: '34612345678', name: 'Ana García' };
    await customerWrites(demo, ana);
    const ticket = await showZendeskTicket(demo, ana);

    const reply = await agentAnswersInZendesk(demo, ticket, 'Sorry about that, Ana! A replacement ships today; you will not need to return the damaged one.');
    const deliveryNote = await phoneConfirmsDelivery(demo, reply.sent, ticket);
    const copies = await replyShowsInHubspotOnly(demo, reply.text, ticket);

    const hubspot = await closeAndShowHubspot(demo, ana);

    const template = await lateReplyUsesTemplate(demo, zendeskId);
    // Let the last syncs (Ben's chat to HubSpot) finish, so stopping interrupts nothing.
    await waitForIdle(demo);

    out.line();
    out.line(out.bold('Done.') + out.dim(` HubSpot calls: ${demo.hubspot.requestCount()}, Zendesk calls: ${demo.zendesk.requestCount()}, WhatsApp sends: ${demo.meta.sent.length}`));
    if (options.keep) await keepRunning(demo, dataDir);
    return {
      zendeskTicket: ticket,
      replyOnPhone: { to: reply.sent.to, type: reply.sent.type, text: reply.text },
      deliveryNote,
      ...copies,
      hubspot,
      template,
      whatsAppSpecViolations: demo.meta.specViolations.length,
    };
  } finally {
    await demo.service.stop();
    await demo.closeFakes();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `--keep`: prints where everything runs and waits for Ctrl-C, so a newcomer can look around. */
async function keepRunning(demo: Demo, dataDir: string): Promise<void> {
  const { out, service } = demo;
  out.line();
  out.line(out.bold('Still running (--keep); Ctrl-C stops everything and removes the demo data.'));
  out.line(`  threadbridge   ${service.url}   API docs ${service.url}/docs`);
  out.line(`  admin API key  ${ADMIN_KEY}`);
  out.line(`  try            curl -s ${service.url}/api/v1/conversations -H 'Authorization: Bearer ${ADMIN_KEY}'`);
  out.line(`  fake WhatsApp  ${demo.meta.url}`);
  out.line(`  fake HubSpot   ${demo.hubspot.url}`);
  out.line(`  fake Zendesk   ${demo.zendesk.url}`);
  out.line(`  data dir       ${dataDir}`);
  // `on`, not `once`: a second Ctrl-C while stopping must not kill the process before it cleaned up.
  await new Promise<void>((resolve) => {
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
}

// ---------------------------------------------------------------------------------------------
// Set-up

async function start(dataDir: string, out: Printer, stepTimeoutMs: number): Promise<Demo> {
  // The fake Cloud API enforces the 24-hour window like Meta: free text to a customer who has not
  // written for a day is refused (131047), so step 4 shows the template is needed, not just chosen.
  const meta = await startMetaGraphFake({ accessToken: WHATSAPP_TOKEN, enforceWindow: true });
  const hubspot = await startHubspotFake({ accessTokens: [HUBSPOT_TOKEN], latencyMs: 20 });
  // Real Zendesk event webhooks deliver every comment, threadbridge's own API writes included.
  const zendesk = await startZendeskFake({ deliverApiComments: true });
  const closeFakes = () => Promise.all([zendesk.close(), hubspot.close(), meta.close()]);
  const service = await startService(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_API_KEY: ADMIN_KEY,
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: 'demo-verify-token',
      WHATSAPP_ACCESS_TOKEN: WHATSAPP_TOKEN,
      WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
      WHATSAPP_API_URL: meta.url,
      // The demo's fakes run on loopback, which the egress policy refuses unless named.
      EGRESS_ALLOW: allowFakes(meta, hubspot, zendesk),
      LOG_LEVEL: 'warn',
    },
    { logger: createLogger({ level: 'warn', redact: true }) },
  ).catch(async (error: unknown) => {
    await closeFakes();
    throw error;
  });
  out.line(out.dim(`  threadbridge on ${service.url} (webhook ${service.url}/webhooks/whatsapp)`));
  const api = axios.create({ baseURL: service.url, headers: { authorization: `Bearer ${ADMIN_KEY}` }, validateStatus: () => true });
  return { service, meta, hubspot, zendesk, api, out, stepTimeoutMs, closeFakes };
}

async function connectHubspot(demo: Demo): Promise<string> {
  demo.out.step('Connecting HubSpot (the access token is checked with HubSpot, then stored encrypted)…');
  const res = expectStatus(
    await demo.api.post('/api/v1/connections', {
      connectorId: 'hubspot',
      name: 'HubSpot sales',
      credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: demo.hubspot.url },
      settings: { tickets: { enabled: true, subjectTemplate: 'WhatsApp: {{name}} ({{phone}})' } },
    }),
    201,
    'connecting HubSpot',
  );
  demo.out.line(demo.out.dim(`  connection ${res.data.id}: ${res.data.status}, credentials ${JSON.stringify(res.data.credentials)}`));
  return res.data.id;
}

/**
 * Connects Zendesk, then does what a Zendesk admin does by hand (connectors/zendesk/README.md,
 * option B): a webhook subscribed to `ticket.comment_added`, pointing at this connection's
 * webhook URL and signed with the secret stored in the connection.
 */
async function connectZendesk(demo: Demo): Promise<string> {
  demo.out.step('Connecting Zendesk, and subscribing a Zendesk webhook to new ticket comments…');
  const res = expectStatus(
    await demo.api.post('/api/v1/connections', {
      connectorId: 'zendesk',
      name: 'Zendesk support',
      credentials: { ...demo.zendesk.credentials({ webhookSecret: ZENDESK_WEBHOOK_SECRET }), apiUserId: String(demo.zendesk.apiUser.id) },
      settings: ZENDESK_SETTINGS,
    }),
    201,
    'connecting Zendesk',
  );
  const callbackUrl = `${demo.service.url}/webhooks/connections/${res.data.id}`;
  demo.zendesk.configureWebhook({ id: 'threadbridge-replies', url: callbackUrl, secret: ZENDESK_WEBHOOK_SECRET, mode: 'event' });
  demo.out.line(demo.out.dim(`  connection ${res.data.id}: ${res.data.status}, credentials ${JSON.stringify(res.data.credentials)}`));
  demo.out.line(demo.out.dim(`  Zendesk webhook (zen:event-type:ticket.comment_added) → ${callbackUrl}`));
  return res.data.id;
}

// ---------------------------------------------------------------------------------------------
// 1. A customer writes; HubSpot and Zendesk both get the conversation

async function customerWrites(demo: Demo, customer: Customer): Promise<void> {
  demo.out.step(`${customer.name} writes to the business on WhatsApp (signed webhooks, as Meta sends them)…`);
  const photo = randomBytes(24_000);
  const { id: mediaId, sha256Base64 } = demo.meta.addMedia(photo, 'image/jpeg');
  const at = Math.floor(Date.now() / 1000) - 60;
  const who = { waId: customer.waId, name: customer.name };
  const first = JSON.stringify(aTextMessageWebhook({ ...who, wamid: nextWamid(customer.waId), text: 'Hola! My order #4411 arrived damaged 😞', timestamp: at }));
  const deliveries: [string, object | string, number][] = [
    ['text', first, at],
    ['photo', anImageMessageWebhook({ ...who, wamid: nextWamid(customer.waId), mediaId, sha256: sha256Base64, caption: 'This is how it looked', timestamp: at + 20 }), at + 20],
    ['location', aLocationMessageWebhook({ ...who, wamid: nextWamid(customer.waId), timestamp: at + 40 }), at + 40],
    ['the first message again (Meta retries a delivery)', first, at],
  ];
  for (const [what, payload, sentAt] of deliveries) {
    demo.meta.recordInbound(customer.waId, new Date(sentAt * 1000)); // Meta's own record: it opens the 24-hour window
    await metaWebhook(demo, what, payload);
  }
}

/** Waits until the ticket holds the customer's three messages, then prints it. */
async function showZendeskTicket(demo: Demo, customer: Customer): Promise<DemoResult['zendeskTicket']> {
  const { zendesk, out } = demo;
  const ticket = await waitFor(demo, `a Zendesk ticket with ${customer.name}'s three messages`, async () => {
    const found = ticketOf(zendesk, customer.waId);
    return found && customerComments(zendesk, found).join('\n').match(/\[\d\d:\d\d:\d\d\]/g)?.length === 3 ? found : undefined;
  });
  const requester = zendesk.user(ticket.requester_id);
  const comments = customerComments(zendesk, ticket);
  out.step('Zendesk: a ticket opened for the conversation');
  out.line(`  ${out.bold('Ticket')} #${ticket.id}: "${ticket.subject}"  (status ${ticket.status}, tags ${ticket.tags.join(', ')})`);
  out.line(`  ${out.bold('Requester')} #${requester?.id}: ${requester?.name}  phone ${requester?.phone}  external id ${requester?.external_id}`);
  out.line(`  ${out.bold("Customer's comments")} (public, authored by ${requester?.name}):`);
  for (const line of comments.flatMap((c) => c.split('\n')).filter(Boolean)) out.line(`    ${line}`);
  return { id: ticket.id, subject: ticket.subject, requester: requester?.name ?? '', customerComments: comments };
}

// ---------------------------------------------------------------------------------------------
// 2. The agent answers in Zendesk; the customer's phone receives it; the delivery is reported back

async function agentAnswersInZendesk(demo: Demo, ticket: { id: number }, text: string): Promise<{ text: string; sent: SentMessage }> {
  const { zendesk, meta, out } = demo;
  out.step(`${zendesk.agent.name} answers on ticket #${ticket.id} in Zendesk (a public comment)…`);
  await agentComments(demo, ticket.id, text);

  const sent = await waitFor(demo, 'the reply on the customer’s phone (fake Cloud API)', async () => meta.sent.find((m) => m.type === 'text' && textOf(m) === text));
  out.step("The customer's phone: the fake WhatsApp Cloud API received");
  out.line(`  to ${sent.to}, type ${sent.type}, wamid ${sent.wamid}`);
  out.line(`  text: "${textOf(sent)}"`);
  return { text, sent };
}

/** Meta reports `sent` then `delivered` (signed status webhooks); Zendesk gets a note for the latter. */
async function phoneConfirmsDelivery(demo: Demo, sent: SentMessage, ticket: { id: number }): Promise<string> {
  const { zendesk, out } = demo;
  out.step('WhatsApp reports the message sent, then delivered (status webhooks)…');
  for (const status of ['sent', 'delivered'] as const) {
    await metaWebhook(demo, status, aStatusWebhook({ wamid: sent.wamid, status, recipientId: sent.waId }));
  }
  const note = await waitFor(demo, 'the delivery note on the Zendesk ticket', async () =>
    zendesk.comments(ticket.id).find((c) => !c.public && c.body.startsWith('Delivered on WhatsApp')),
  );
  out.line(`  Zendesk ticket #${ticket.id} got an internal note: "${note.body.split('\n')[0]}"`);
  return note.body;
}

// ---------------------------------------------------------------------------------------------
// 3. The reply shows in HubSpot, and is not written back to Zendesk

async function replyShowsInHubspotOnly(demo: Demo, text: string, ticket: { id: number }): Promise<Pick<DemoResult, 'hubspotReply' | 'replyCopiesInZendesk' | 'zendeskCommentCount'>> {
  const { hubspot, zendesk, out } = demo;
  const communication = await waitFor(demo, 'the reply on the HubSpot timeline', async () =>
    hubspot.communications().find((c) => plain(c.properties.hs_communication_body).includes(text)),
  );
  // Nothing left queued: had threadbridge meant to copy the reply back to Zendesk, it would have by now.
  await waitForIdle(demo);
  out.step('HubSpot: the reply is on the contact’s timeline');
  out.line(`  communication #${communication.id} (${communication.properties.hs_communication_channel_type}): ${plain(communication.properties.hs_communication_body)}`);

  const comments = zendesk.comments(ticket.id);
  const copies = comments.filter((c) => c.body.includes(text)).length;
  out.step(`Zendesk: ticket #${ticket.id} has ${comments.length} comments; the reply is there once (the agent’s own), not copied back`);
  for (const c of comments) out.line(`  ${describeComment(zendesk, c)}`);
  if (copies !== 1) throw new Error(`the agent's reply is on the Zendesk ticket ${copies} times (expected once: the agent's own comment)`);
  return { hubspotReply: plain(communication.properties.hs_communication_body), replyCopiesInZendesk: copies, zendeskCommentCount: comments.length };
}

/** The conversation ends; HubSpot gets the transcript; then everything HubSpot holds is printed. */
async function closeAndShowHubspot(demo: Demo, customer: Customer): Promise<DemoResult['hubspot']> {
  const { api, hubspot, out } = demo;
  out.step('Support solves it; the conversation is closed, so its transcript goes to HubSpot (and Zendesk)…');
  const conversationId = await conversationOf(demo, customer);
  expectStatus(await api.post(`/api/v1/conversations/${conversationId}/close`), 200, 'closing the conversation');
  await waitFor(demo, 'the transcript in HubSpot', async () => hubspot.notes().length > 0);

  out.step('What HubSpot now holds');
  for (const contact of hubspot.contacts()) {
    const p = contact.properties;
    out.line();
    out.line(`  ${out.bold('Contact')} #${contact.id}: ${p.firstname} ${p.lastname ?? ''}  phone ${p.phone}  WhatsApp ${p.hs_whatsapp_phone_number}`);
    for (const ticket of hubspot.tickets()) {
      out.line(`  ${out.bold('Ticket')}  #${ticket.id}: "${ticket.properties.subject}"  (pipeline ${ticket.properties.hs_pipeline}, stage ${ticket.properties.hs_pipeline_stage})`);
    }
    out.line(`  ${out.bold('Timeline')} (WhatsApp communications, in order):`);
    for (const c of hubspot.communications()) {
      const when = new Date(c.properties.hs_timestamp).toISOString().slice(11, 19);
      out.line(`    ${when}  ${plain(c.properties.hs_communication_body)}`);
    }
    for (const note of hubspot.notes()) {
      out.line(`  ${out.bold('Transcript')} (note #${note.id}, attachments: ${note.properties.hs_attachment_ids || 'none'}):`);
      for (const line of stripHtml(note.properties.hs_note_body).split('\n').filter(Boolean)) out.line(`    ${out.dim(line)}`);
    }
  }
  out.line();
  out.line(`  ${out.bold('Files')} uploaded: ${hubspot.files().map((f) => `${f.name} (${f.bytes.length} bytes)`).join(', ')}`);
  const messages = expectStatus(await api.get(`/api/v1/conversations/${conversationId}/messages`), 200, 'listing the messages').data.data as unknown[];
  out.line(`  The repeated delivery left no trace: ${hubspot.communications().length} communications for ${messages.length} messages (3 from ${customer.name}, 1 reply).`);
  return { contacts: hubspot.contacts().length, communications: hubspot.communications().length, transcripts: hubspot.notes().length };
}

// ---------------------------------------------------------------------------------------------
// 4. A reply more than 24 hours after the customer's last message goes out as a template

async function lateReplyUsesTemplate(demo: Demo, zendeskId: string): Promise<DemoResult['template']> {
  const { api, zendesk, meta, out } = demo;
  out.step('Outside the 24-hour window, WhatsApp only takes approved templates: registering one and making it the Zendesk reply template…');
  const registered = expectStatus(await api.post('/api/v1/templates', REPLY_TEMPLATE), 201, 'registering the template');
  out.line(`  POST /api/v1/templates → HTTP ${registered.status}: ${REPLY_TEMPLATE.name} (${REPLY_TEMPLATE.language}, ${REPLY_TEMPLATE.category}), parameters ${REPLY_TEMPLATE.parameters.join(', ')}`);
  const patched = expectStatus(
    await api.patch(`/api/v1/connections/${zendeskId}`, { settings: { ...ZENDESK_SETTINGS, replyTemplate: { name: REPLY_TEMPLATE.name, language: REPLY_TEMPLATE.language } } }),
    200,
    'setting the reply template',
  );
  out.line(`  PATCH /api/v1/connections/${zendeskId} → HTTP ${patched.status}: settings.replyTemplate ${JSON.stringify(patched.data.settings.replyTemplate)}`);

  // A demo cannot wait a day. The 24-hour window counts from WhatsApp's own timestamp on the
  // customer's message (not from when the webhook arrived), so Ben's message carries yesterday's.
  const ben: Customer = { waId: '447700900123', name: 'Ben Carter' };
  const wroteAt = new Date(Date.now() - 25 * HOUR_MS);
  out.step(`${ben.name} wrote 25 hours ago (the webhook carries WhatsApp's timestamp ${wroteAt.toISOString()})…`);
  meta.recordInbound(ben.waId, wroteAt);
  await metaWebhook(demo, 'text', aTextMessageWebhook({ waId: ben.waId, name: ben.name, wamid: nextWamid(ben.waId), text: 'Is the blue jacket back in stock?', timestamp: wroteAt }));
  const ticket = await waitFor(demo, `a Zendesk ticket for ${ben.name}`, async () => {
    const found = ticketOf(zendesk, ben.waId);
    return found && customerComments(zendesk, found).length > 0 ? found : undefined;
  });
  out.line(`  Zendesk ticket #${ticket.id}: "${ticket.subject}"`);

  const text = 'Yes, it is back in stock in all sizes.';
  out.step(`${zendesk.agent.name} answers on ticket #${ticket.id}, 25 hours after Ben wrote…`);
  await agentComments(demo, ticket.id, text);
  const sent = await waitFor(demo, `the reply template on ${ben.name}'s phone`, async () => meta.sent.find((m) => m.waId === ben.waId && m.type === 'template'));
  const template = sent.body.template as { name: string; language: { code: string }; components?: { parameters?: { text?: string }[] }[] };
  const parameters = (template.components ?? []).flatMap((c) => c.parameters ?? []).map((p) => p.text ?? '');
  out.step(`${ben.name}'s phone: the fake WhatsApp Cloud API received a template message`);
  out.line(`  to ${sent.to}, type ${sent.type}, template ${out.bold(template.name)}, language ${template.language.code}`);
  parameters.forEach((p, i) => out.line(`  parameter {{${i + 1}}}: "${p}"`));
  return { to: sent.to, name: template.name, language: template.language.code, parameters };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * Delivers a signed Meta notification and prints threadbridge's answer. Like Meta, it delivers
 * again when the answer is not 200 (a few quick retries here; Meta's span hours).
 */
async function metaWebhook(demo: Demo, what: string, payload: object | string): Promise<void> {
  const res = await postMetaWebhook(`${demo.service.url}/webhooks/whatsapp`, payload, APP_SECRET, { retries: 3, backoffMs: 200 });
  demo.out.line(`  ${what.padEnd(52)} → HTTP ${res.status}${res.attempts > 1 ? ` (delivery ${res.attempts})` : ''}`);
  if (res.status !== 200) throw new Error(`threadbridge did not accept the WhatsApp webhook (${what}): HTTP ${res.status} ${JSON.stringify(res.body)}`);
}

/**
 * A public comment by the agent in Zendesk's UI; the fake's emitter then POSTs the signed
 * `ticket.comment_added` event to threadbridge, retrying a 5xx as Zendesk does.
 */
async function agentComments(demo: Demo, ticketId: number, text: string): Promise<void> {
  const { comment, deliveries } = await demo.zendesk.agentComment(ticketId, { body: text, public: true });
  for (const d of deliveries) {
    const answer = d.status ? `HTTP ${d.status}` : d.error;
    demo.out.line(demo.out.dim(`  Zendesk webhook: ${d.mode === 'event' ? 'zen:event-type:ticket.comment_added' : 'trigger'} for comment #${comment.id}, signed → POST ${new URL(d.url).pathname} → ${answer}${d.attempts > 1 ? ` (attempt ${d.attempts})` : ''}`));
  }
  if (!deliveries.some((d) => d.status === 200)) throw new Error(`threadbridge did not accept Zendesk's webhook for comment #${comment.id}: ${JSON.stringify(deliveries.map((d) => d.status ?? d.error))}`);
}

/** Polls `check` every 100 ms until it returns something truthy; DemoTimeoutError after the step's time. */
async function waitFor<T>(demo: Demo, what: string, check: () => Promise<T | undefined | null | false>): Promise<T> {
  const deadline = Date.now() + demo.stepTimeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new DemoTimeoutError(`timed out after ${demo.stepTimeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Until threadbridge has no task left to run, as its own /metrics gauge reports. */
async function waitForIdle(demo: Demo): Promise<void> {
  await waitFor(demo, 'threadbridge to finish its queued work (threadbridge_outbox_pending 0 on /metrics)', async () => {
    const metrics = await demo.api.get<string>('/metrics', { responseType: 'text' });
    return /^threadbridge_outbox_pending 0$/m.test(metrics.data);
  });
}

function expectStatus<T>(res: AxiosResponse<T>, status: number, what: string): AxiosResponse<T> {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status} ${JSON.stringify(res.data)}`);
  return res;
}

async function conversationOf(demo: Demo, customer: Customer): Promise<string> {
  const contacts = expectStatus(await demo.api.get('/api/v1/contacts'), 200, 'listing contacts').data.data as { id: string; waId: string }[];
  const contact = contacts.find((c) => c.waId === customer.waId);
  if (!contact) throw new Error(`threadbridge has no contact for ${customer.name}`);
  const conversations = expectStatus(await demo.api.get('/api/v1/conversations', { params: { contactId: contact.id } }), 200, 'listing conversations');
  return conversations.data.data[0].id;
}

/** The ticket whose requester is this WhatsApp customer (Zendesk user external_id `whatsapp:<wa_id>`). */
function ticketOf(zendesk: ZendeskFake, waId: string): FakeTicket | undefined {
  return zendesk.tickets().find((t) => zendesk.user(t.requester_id)?.external_id === `whatsapp:${waId}`);
}

/** Public comments authored by the ticket's requester: the customer's WhatsApp messages. */
function customerComments(zendesk: ZendeskFake, ticket: FakeTicket): string[] {
  return zendesk
    .comments(ticket.id)
    .filter((c) => c.public && c.author_id === ticket.requester_id)
    .map((c) => c.body);
}

function describeComment(zendesk: ZendeskFake, c: FakeComment): string {
  const author = zendesk.user(c.author_id)?.name ?? `user ${c.author_id}`;
  const firstLine = c.body.split('\n').find((l) => l.trim()) ?? '';
  return `#${c.id} ${c.public ? 'public  ' : 'internal'} by ${author.padEnd(17)} ${firstLine.length > 90 ? `${firstLine.slice(0, 89)}…` : firstLine}`;
}

function textOf(message: SentMessage): string | undefined {
  return (message.body.text as { body?: string } | undefined)?.body;
}

function stripHtml(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/(p|li|div|h\d|tr)>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}

/** HTML as one line of text. */
function plain(html: string): string {
  return stripHtml(html).replace(/\s*\n+\s*/g, ' ').trim();
}

function printer(print: (line: string) => void, color: boolean): Printer {
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);
  return {
    bold,
    dim,
    step: (title) => print(`\n${bold('▸')} ${title}`),
    line: (text = '') => print(text),
  };
}
