import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeService } from '../../src/bootstrap';
import { launchBrowser, screenshot, signIn } from '../setup/browser';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { eventually, startTestService, tempDir, TEST_ADMIN_KEY, type TestService } from '../setup/test-service';

const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' };
/** A 1×1 PNG: a real image for the photo upload and the service's media download. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** Plays a customer on the sandbox phone in a browser; the service's own receiver, sender and worker do the rest. */
describe('console: the sandbox phone (Postgres, SANDBOX=true, built-in fake Cloud API)', () => {
  let database: TestDatabase;
  let service: TestService;
  let browser: Browser;
  let page: Page;
  const waId = '15550104242';

  beforeAll(async () => {
    database = await createTestDatabase();
    // startTestService sets no WHATSAPP_API_URL: the sandbox serves the Cloud API itself.
    service = await startTestService({ DATABASE_URL: database.url, SANDBOX: 'true' });
    browser = await launchBrowser();
    page = await browser.newPage();
    await signIn(page, service.url, TEST_ADMIN_KEY);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await database?.drop();
  });

  const inbound = (type: string) =>
    service.db.query(
      `SELECT m.wamid, m.type, m.body, m.content, m.context, m.media_status, m.conversation_id, k.wa_id FROM messages m JOIN contacts k ON k.id = m.contact_id
        WHERE m.direction = 'inbound' AND m.type = $1 ORDER BY m.seq`,
      [type],
    );

  it('points the Cloud API client at itself and allows exactly its own host:port through the egress policy', () => {
    const self = new URL(service.url);
    expect(service.config.whatsapp.apiUrl).toBe(`${service.url}/console/sandbox/graph`);
    expect(service.config.egressAllow).toBe(self.host);
    expect(describeService(service)).toMatch(/sandbox phone on at .*\/console\/sandbox, with the built-in fake Cloud API/);
  });

  it("sends a customer's message as a signed webhook: it arrives in the conversation, and an agent's reply comes back with ticks to read", async () => {
    await page.goto(`${service.url}/console/sandbox`);
    await page.fill('input[name="name"]', 'Ada Sandbox');
    await page.fill('input[name="number"]', `+${waId}`);
    await Promise.all([page.waitForURL(/\/console\/sandbox\?wa=15550104242/), page.click('button:has-text("Start as this customer")')]);
    await page.fill('input[name="text"]', 'Hello from the sandbox');
    await page.click('form.compose button[type="submit"]');

    // The service's 200 is the customer's second tick.
    await page.locator('.bubble[data-from="customer"] [data-tick="delivered"], .bubble[data-from="customer"] [data-tick="read"]').first().waitFor({ timeout: 10_000 });
    const [message] = await inbound('text');
    expect(message).toMatchObject({ wa_id: waId, body: 'Hello from the sandbox' });
    await expect(service.db.query(`SELECT k.profile_name FROM contacts k WHERE k.wa_id = $1`, [waId])).resolves.toEqual([{ profile_name: 'Ada Sandbox' }]);

    const reply = await fetch(`${service.url}/api/v1/conversations/${message.conversation_id}/replies`, { method: 'POST', headers: admin, body: JSON.stringify({ text: 'Hi Ada, this is the agent.' }) });
    expect(reply.status).toBe(202);

    // The worker sends it through the fake; the fake reports sent and delivered, and read once the
    // phone (this open page, polling) has shown it.
    const bubble = page.locator('.bubble[data-from="business"]', { hasText: 'Hi Ada, this is the agent.' });
    await bubble.waitFor({ timeout: 15_000 });
    await bubble.locator('[data-tick="read"]').waitFor({ timeout: 15_000 });
    const outbound = await eventually(async () => {
      const [row] = await service.db.query(`SELECT status FROM messages WHERE direction = 'outbound' AND body = $1`, ['Hi Ada, this is the agent.']);
      return row?.status === 'read' ? row : undefined;
    }, 'the reply read in the database');
    expect(outbound).toEqual({ status: 'read' });
    const statuses = await service.db.query(
      `SELECT e.status FROM message_status_events e JOIN messages m ON m.wamid = e.wamid WHERE m.body = $1 ORDER BY e.occurred_at, e.received_at`,
      ['Hi Ada, this is the agent.'],
    );
    expect(statuses.map((s: { status: string }) => s.status)).toEqual(['sent', 'delivered', 'read']);
    await screenshot(page, 'sandbox');

    // Both sides, on the operator's page of that conversation.
    const operator = await browser.newPage();
    await signIn(operator, service.url, TEST_ADMIN_KEY);
    await operator.goto(`${service.url}/console/conversations/${message.conversation_id}`);
    await expect(operator.locator('body').textContent()).resolves.toMatch(/Hello from the sandbox[\s\S]*Hi Ada, this is the agent\./);
    await operator.close();
  }, 60_000);

  it('sends a photo the service downloads from the fake, and a location', async () => {
    await page.goto(`${service.url}/console/sandbox?wa=${waId}`);
    await page.click('summary:has-text("Send a photo")');
    await page.setInputFiles('input[name="photo"]', { name: 'shop.png', mimeType: 'image/png', buffer: PNG });
    await page.fill('input[name="caption"]', 'the shop front');
    await page.click('button:has-text("Send photo")');
    await page.locator('.bubble[data-from="customer"][data-kind="image"] img').waitFor({ timeout: 10_000 });
    const image = await eventually(async () => (await inbound('image')).find((m: { media_status: string }) => m.media_status === 'stored'), 'the photo downloaded and stored');
    expect(image).toMatchObject({ wa_id: waId });

    await page.click('summary:has-text("Send a location")');
    await page.fill('input[name="latitude"]', '48.8584');
    await page.fill('input[name="longitude"]', '2.2945');
    await page.fill('input[name="placeName"]', 'Eiffel Tower');
    await page.click('button:has-text("Send location")');
    const [location] = await eventually(async () => {
      const rows = await inbound('location');
      return rows.length ? rows : undefined;
    }, 'the location stored');
    expect(JSON.stringify(location.content)).toContain('48.8584');
  }, 30_000);

  it("shows a menu's buttons; tapping one sends an interactive button_reply naming the menu", async () => {
    // What the service's auto-replies send, posted to the fake as the service's Cloud API client would.
    const graph = `${service.config.whatsapp.apiUrl}/v23.0/${service.config.whatsapp.phoneNumberId}/messages`;
    const menu = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: waId,
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'How can we help?' }, action: { buttons: [{ type: 'reply', reply: { id: 'sales', title: 'Sales' } }, { type: 'reply', reply: { id: 'support', title: 'Support' } }] } },
    };
    const refused = await fetch(graph, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body: JSON.stringify(menu) });
    expect(refused.status).toBe(401);
    await expect(refused.json()).resolves.toMatchObject({ error: { code: 190, type: 'OAuthException' } });
    const sent = await fetch(graph, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${service.config.whatsapp.accessToken}` }, body: JSON.stringify(menu) });
    expect(sent.status).toBe(200);
    const { messages } = (await sent.json()) as { messages: { id: string }[] };
    expect(messages[0].id).toMatch(/^wamid\./);

    await page.goto(`${service.url}/console/sandbox?wa=${waId}`);
    const menuBubble = page.locator('.bubble[data-from="business"][data-kind="buttons"]', { hasText: 'How can we help?' });
    await menuBubble.waitFor({ timeout: 5_000 });
    await menuBubble.locator('button:has-text("Support")').click();
    const [tap] = await eventually(async () => {
      const rows = await inbound('interactive');
      return rows.length ? rows : undefined;
    }, 'the button reply stored');
    expect(JSON.stringify(tap.content)).toContain('support');
    expect(JSON.stringify(tap.context)).toContain(messages[0].id);
  }, 30_000);

  it('works without script: a plain form post sends, and the page shows the chat', async () => {
    const noScript = await browser.newPage({ javaScriptEnabled: false });
    await signIn(noScript, service.url, TEST_ADMIN_KEY);
    await noScript.goto(`${service.url}/console/sandbox?wa=${waId}`);
    await noScript.fill('input[name="text"]', 'Sent without script');
    await Promise.all([noScript.waitForURL(/\/console\/sandbox\?wa=/), noScript.click('form.compose button[type="submit"]')]);
    await expect(noScript.locator('.bubble[data-from="customer"]', { hasText: 'Sent without script' }).count()).resolves.toBe(1);
    // A file form's token rides in its address (the guard runs before the body is read).
    const photos = await noScript.locator('.bubble[data-kind="image"]').count();
    await noScript.click('summary:has-text("Send a photo")');
    await noScript.setInputFiles('input[name="photo"]', { name: 'again.png', mimeType: 'image/png', buffer: PNG });
    await Promise.all([noScript.waitForURL(/\/console\/sandbox\?wa=/), noScript.click('button:has-text("Send photo")')]);
    await expect(noScript.locator('.bubble[data-kind="image"]').count()).resolves.toBe(photos + 1);
    await noScript.close();
    expect((await inbound('text')).map((m: { body: string }) => m.body)).toContain('Sent without script');
  }, 30_000);

  it('refuses a form without its CSRF token, and a role that may only read may not act as a customer', async () => {
    const anon = await fetch(`${service.url}/console/sandbox`, { redirect: 'manual' });
    expect(anon.status).toBe(303);
    const session = (await page.context().cookies()).find((c) => c.name === 'tb_console');
    const forged = await fetch(`${service.url}/console/sandbox/text`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `tb_console=${session?.value}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ wa: waId, text: 'forged' }).toString(),
    });
    expect(forged.status).toBe(403);
    const key = await fetch(`${service.url}/api/v1/api-keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'sandbox-auditor', role: 'auditor' }) });
    expect(key.status).toBe(201);
    const auditor = await browser.newPage();
    await signIn(auditor, service.url, ((await key.json()) as { key: string }).key);
    await auditor.goto(`${service.url}/console/sandbox?wa=${waId}`);
    await expect(auditor.locator('h1').textContent()).resolves.toBe('Sandbox phone');
    await auditor.fill('input[name="text"]', 'auditors do not write');
    await auditor.click('form.compose button[type="submit"]');
    await auditor.waitForTimeout(500);
    await auditor.close();
    const bodies = (await inbound('text')).map((m: { body: string }) => m.body);
    expect(bodies).not.toContain('auditors do not write');
    expect(bodies).not.toContain('forged');
  }, 30_000);
});

describe('console: no sandbox with DATABASE_URL and SANDBOX unset', () => {
  let database: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: database.url });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('answers 404 for the page and the built-in fake Cloud API, and keeps the configured Cloud API', async () => {
    expect(service.config.sandbox).toMatchObject({ enabled: false, fakeCloudApi: false });
    expect(service.config.whatsapp.apiUrl).toBe('https://graph.facebook.com');
    expect(service.config.egressAllow).toBe('');
    expect((await fetch(`${service.url}/console/sandbox`, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${service.url}/console/sandbox/chat?wa=15550104242`, { redirect: 'manual' })).status).toBe(404);
    const graph = `${service.url}/console/sandbox/graph/v23.0/106540352242922/messages`;
    const send = await fetch(graph, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer test-token' }, body: JSON.stringify({ messaging_product: 'whatsapp', to: '1555', type: 'text', text: { body: 'x' } }) });
    expect(send.status).toBe(404);
    expect((await fetch(`${service.url}/console/sandbox/graph/v23.0/123`, { headers: { authorization: 'Bearer test-token' } })).status).toBe(404);
  });
});

describe('console: the sandbox phone in embedded mode (the default there)', () => {
  const dataDir = tempDir('threadbridge-sandbox-embedded-');
  let service: TestService | undefined;

  afterAll(async () => {
    await service?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is on without SANDBOX, generates its webhook secret and token into DATA_DIR, and a message arrives', async () => {
    service = await startTestService({ DATA_DIR: dataDir, DATABASE_URL: undefined, REDIS_URL: undefined, WHATSAPP_APP_SECRET: undefined, WHATSAPP_ACCESS_TOKEN: undefined, WHATSAPP_PHONE_NUMBER_ID: undefined });
    expect(service.config.sandbox).toMatchObject({ enabled: true, fakeCloudApi: true });
    expect(fs.existsSync(path.join(dataDir, 'sandbox-app-secret'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'sandbox-access-token'))).toBe(true);
    const banner = describeService(service);
    expect(banner).toMatch(/WHATSAPP_APP_SECRET\s+configured/);
    // The banner names where the secrets are, never their values.
    expect(banner).not.toContain(service.config.whatsapp.appSecrets[0]);
    expect(banner).not.toContain(service.config.whatsapp.accessToken);

    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await signIn(page, service.url, TEST_ADMIN_KEY);
      await page.goto(`${service.url}/console/sandbox`);
      await Promise.all([page.waitForURL(/\/console\/sandbox\?wa=1555/), page.click('button:has-text("Start as this customer")')]);
      await page.fill('input[name="text"]', 'Hello, embedded');
      await page.click('form.compose button[type="submit"]');
      await eventually(async () => (await service!.db.query(`SELECT 1 FROM messages WHERE body = 'Hello, embedded'`)).length > 0, 'the message stored in PGlite');
    } finally {
      await browser.close();
    }
  }, 90_000);
});
