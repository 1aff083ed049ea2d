/**
 * npm run demo — threadbridge in one minute, on this machine alone.
 *
 * Starts the service in embedded mode (PGlite, outbox queue) beside a fake WhatsApp Cloud API and a
 * fake HubSpot, connects HubSpot, plays a short customer conversation through signed webhooks
 * (text, a photo, a location, and one delivery Meta repeats), ends the conversation, and prints
 * what HubSpot now holds: contact, ticket, timeline and transcript.
 */
import axios from 'axios';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startHubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { startService } from '../../src/bootstrap';
import { createLogger } from '../../src/common/logger';
import { aLocationMessageWebhook, anImageMessageWebhook, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';

const APP_SECRET = 'demo-app-secret';
const ADMIN_KEY = 'demo-admin-key-0123456789';
const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;
const step = (s: string) => console.log(`\n${bold('▸')} ${s}`);
const stripHtml = (html: string) => html.replace(/<br\s*\/?>|<\/(p|li|div|h\d|tr)>/g, '\n').replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadbridge-demo-'));
  console.log(bold('threadbridge demo') + dim(`  (embedded database in ${dataDir})`));

  step('Starting a fake WhatsApp Cloud API, a fake HubSpot, and threadbridge in embedded mode…');
  const meta = await startMetaGraphFake({ accessToken: 'demo-whatsapp-token' });
  const hubspot = await startHubspotFake({ accessTokens: ['demo-hubspot-token'], latencyMs: 20 });
  const service = await startService(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_API_KEY: ADMIN_KEY,
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: 'demo-verify-token',
      WHATSAPP_ACCESS_TOKEN: 'demo-whatsapp-token',
      WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
      WHATSAPP_API_URL: meta.url,
      LOG_LEVEL: 'warn',
    },
    { logger: createLogger({ level: 'warn', redact: true }) },
  );
  console.log(dim(`  threadbridge on ${service.url} (webhook ${service.url}/webhooks/whatsapp)`));
  const api = axios.create({ baseURL: service.url, headers: { authorization: `Bearer ${ADMIN_KEY}` }, validateStatus: () => true });

  try {
    step('Connecting HubSpot (the access token is checked with HubSpot, then stored encrypted)…');
    const connection = await api.post('/api/v1/connections', {
      connectorId: 'hubspot',
      name: 'HubSpot sales',
      credentials: { accessToken: 'demo-hubspot-token', baseUrl: hubspot.url },
      settings: { tickets: { enabled: true, subjectTemplate: 'WhatsApp: {{name}} ({{phone}})' } },
    });
    if (connection.status !== 201) throw new Error(`could not connect HubSpot: ${JSON.stringify(connection.data)}`);
    console.log(dim(`  connection ${connection.data.id}: ${connection.data.status}, credentials ${JSON.stringify(connection.data.credentials)}`));

    step('Ana writes to the business on WhatsApp (signed webhooks, as Meta sends them)…');
    const waId = '34612345678';
    const name = 'Ana García';
    const webhook = (payload: object | string) => postMetaWebhook(`${service.url}/webhooks/whatsapp`, payload, APP_SECRET);
    const photo = randomBytes(24_000);
    const { id: mediaId, sha256Base64 } = meta.addMedia(photo, 'image/jpeg');
    const now = Math.floor(Date.now() / 1000) - 60;
    const first = JSON.stringify(aTextMessageWebhook({ waId, name, wamid: nextWamid(waId), text: 'Hola! My order #4411 arrived damaged 😞', timestamp: now }));
    const deliveries: [string, object | string][] = [
      ['text', first],
      ['photo', anImageMessageWebhook({ waId, name, wamid: nextWamid(waId), mediaId, sha256: sha256Base64, caption: 'This is how it looked', timestamp: now + 20 })],
      ['location', aLocationMessageWebhook({ waId, name, wamid: nextWamid(waId), timestamp: now + 40 })],
      ['the first message again (Meta retries a delivery)', first],
    ];
    for (const [what, payload] of deliveries) {
      const res = await webhook(payload);
      console.log(`  ${what.padEnd(52)} → HTTP ${res.status}`);
    }

    await waitFor('the sync to HubSpot', async () => {
      const counts = await service.app.get((await import('typeorm')).DataSource).query(
        `SELECT count(*)::int AS open FROM outbox WHERE status IN ('pending', 'running')`,
      );
      return counts[0].open === 0 && hubspot.communications().length >= 3;
    });

    const conversations = await api.get('/api/v1/conversations');
    const conversationId = conversations.data.data[0].id;
    step('Support solves it; the conversation is closed, so its transcript goes to HubSpot…');
    await api.post(`/api/v1/conversations/${conversationId}/close`);
    await waitFor('the transcript', async () => hubspot.notes().length > 0);

    step('What HubSpot now holds');
    for (const contact of hubspot.contacts()) {
      const p = contact.properties;
      console.log(`\n  ${bold('Contact')} #${contact.id}: ${p.firstname} ${p.lastname ?? ''}  phone ${p.phone}  WhatsApp ${p.hs_whatsapp_phone_number}`);
      for (const ticket of hubspot.tickets()) {
        console.log(`  ${bold('Ticket')}  #${ticket.id}: "${ticket.properties.subject}"  (pipeline ${ticket.properties.hs_pipeline}, stage ${ticket.properties.hs_pipeline_stage})`);
      }
      console.log(`  ${bold('Timeline')} (WhatsApp communications, in order):`);
      for (const c of hubspot.communications()) {
        const when = new Date(c.properties.hs_timestamp).toISOString().slice(11, 19);
        console.log(`    ${when}  ${stripHtml(c.properties.hs_communication_body).replace(/\n+/g, ' ').trim()}`);
      }
      for (const note of hubspot.notes()) {
        console.log(`  ${bold('Transcript')} (note #${note.id}, attachments: ${note.properties.hs_attachment_ids || 'none'}):`);
        for (const line of stripHtml(note.properties.hs_note_body).split('\n').filter(Boolean)) console.log(`    ${dim(line)}`);
      }
    }
    console.log(`\n  ${bold('Files')} uploaded: ${hubspot.files().map((f) => `${f.name} (${f.bytes.length} bytes)`).join(', ')}`);
    console.log(`\n  The repeated delivery left no trace: ${hubspot.communications().length} communications for 3 messages.`);
    console.log(dim(`  HubSpot calls made: ${hubspot.requestCount()}`));
  } finally {
    await service.stop();
    await hubspot.close();
    await meta.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
