import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import type { Browser, Page } from 'playwright-core';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { launchBrowser, screenshot, signIn } from '../setup/browser';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true, maxRedirects: 0 });
const asAdmin = { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } };

/**
 * The console's conversation pages in a real browser, on Postgres + Redis with a fake Zendesk: an
 * agent reads conversations and their messages (and finds nothing that erases or replays); an
 * admin sees where each message went — the Zendesk comment it became, or the error it died of —
 * and the message's own history with each sync attempt. Then the session itself over HTTP.
 */
describe('console: conversations', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let zendesk: ZendeskFake;
  let service: TestService;
  let browser: Browser;
  let agentKey: { id: string; key: string };
  let synced: { conversationId: string; messageId: string };
  let dead: { conversationId: string; messageId: string };

  const createKey = async (name: string, role: string) => {
    const created = await http.post(`${service.url}/api/v1/api-keys`, { name, role }, asAdmin);
    expect(created.status).toBe(201);
    return { id: created.data.id as string, key: created.data.key as string };
  };
  const write = async (waId: string, name: string, text: string, timestamp = new Date()) => {
    const body = aTextMessageWebhook({ wamid: nextWamid(waId), waId, name, text, timestamp });
    expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, body, TEST_APP_SECRET)).status).toBe(200);
    return eventually(async () => {
      const [row] = await service.db.query(`SELECT m.id AS "messageId", m.conversation_id AS "conversationId" FROM messages m WHERE m.body = $1`, [text]);
      return row as { messageId: string; conversationId: string } | undefined;
    }, 'the message stored');
  };
  const taskStatus = async (messageId: string) => (await service.db.query(`SELECT status FROM outbox WHERE queue = 'crm-sync' AND message_id = $1`, [messageId]))[0]?.status;
  const newPage = async (): Promise<Page> => (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  /** Buttons, forms and links that would erase or replay anything. */
  const destructiveControls = (page: Page) =>
    page.$$eval('button, form, a, input[type="submit"]', (els) =>
      els.filter((e) => /erase|replay|delete/i.test(`${e.textContent ?? ''} ${e.getAttribute('action') ?? ''} ${e.getAttribute('href') ?? ''} ${e.getAttribute('value') ?? ''}`)).length,
    );

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    zendesk = await startZendeskFake();
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, EGRESS_ALLOW: allowFakes(zendesk) });
    const created = await http.post(
      `${service.url}/api/v1/connections`,
      { connectorId: 'zendesk', name: 'Zendesk support', credentials: zendesk.credentials(), settings: { commentCoalesceMs: 200 } },
      asAdmin,
    );
    expect(created.status).toBe(201);
    agentKey = await createKey('Agent Ana', 'agent');

    synced = await write('34611000101', 'Lucía Pérez', 'Hola, mi pedido no ha llegado');
    await eventually(async () => (await taskStatus(synced.messageId)) === 'done', 'the first message synced');
    // Zendesk refuses the next customer's ticket (422: dead at once, nothing to retry).
    zendesk.failNext(422, { method: 'POST', path: /tickets/, times: 10 });
    // WhatsApp's times have whole seconds: a later second, so "newest first" has one answer.
    dead = await write('34611000102', 'Tomás Ruiz', 'Quiero cambiar la dirección', new Date(Date.now() + 1000));
    await eventually(async () => (await taskStatus(dead.messageId)) === 'dead', 'the second message dead');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await zendesk?.close();
    await redis?.close();
    await database?.drop();
  });

  it('shows an agent the conversations and a conversation’s messages, with nothing to erase or replay', async () => {
    const page = await newPage();
    await signIn(page, service.url, agentKey.key);
    await page.goto(`${service.url}/console/conversations`);
    const rows = page.locator('tr[data-conversation]');
    expect(await rows.count()).toBe(2);
    // Newest first.
    await expect(rows.nth(0).textContent()).resolves.toContain('Tomás Ruiz');
    await expect(rows.nth(1).textContent()).resolves.toContain('+34611000101');
    expect(await destructiveControls(page)).toBe(0);
    await screenshot(page, 'conversations');

    await page.fill('input[name="q"]', 'lucía');
    await Promise.all([page.waitForURL(/q=/), page.click('form.filters button[type="submit"]')]);
    expect(await rows.count()).toBe(1);
    await page.goto(`${service.url}/console/conversations?q=%2B34%20611%20000102`);
    expect(await rows.count()).toBe(1);
    await expect(rows.nth(0).textContent()).resolves.toContain('Tomás Ruiz');
    await page.goto(`${service.url}/console/conversations?status=closed`);
    expect(await rows.count()).toBe(0);

    await page.goto(`${service.url}/console/conversations`);
    await Promise.all([page.waitForURL(new RegExp(synced.conversationId)), page.click(`a[href="/console/conversations/${synced.conversationId}"]`)]);
    const bubble = page.locator(`article[data-message="${synced.messageId}"]`);
    await expect(bubble.textContent()).resolves.toContain('Hola, mi pedido no ha llegado');
    await expect(bubble.textContent()).resolves.toContain('customer');
    expect(await destructiveControls(page)).toBe(0);

    await page.goto(`${service.url}/console/conversations/${synced.conversationId}/messages/${synced.messageId}`);
    await expect(page.locator('[data-history]').textContent()).resolves.toContain('stored');
    expect(await destructiveControls(page)).toBe(0);
  });

  it('shows an admin where a message went, and its history with the sync attempt', async () => {
    const page = await newPage();
    await signIn(page, service.url, TEST_ADMIN_KEY);
    await page.goto(`${service.url}/console/conversations/${synced.conversationId}`);
    const bubble = page.locator(`article[data-message="${synced.messageId}"]`);
    await bubble.locator('summary').click();
    const delivery = bubble.locator('.deliveries li');
    await expect(delivery.textContent()).resolves.toMatch(/Zendesk support:\s*done/);
    const [link] = await service.db.query(`SELECT remote_id, remote_url FROM remote_links WHERE entity_type = 'message' AND local_id = $1`, [synced.messageId]);
    expect(link).toBeDefined();
    const remote = delivery.locator(`[data-remote-id="${link.remote_id}"]`);
    await expect(remote.textContent()).resolves.toBe(String(link.remote_id));
    if (link.remote_url) await expect(remote.getAttribute('href')).resolves.toBe(link.remote_url);

    // The history opens inline (htmx) under the bubble.
    await bubble.locator('a', { hasText: 'History' }).click();
    const inline = bubble.locator('[data-history]');
    await inline.waitFor();
    await expect(inline.locator('[data-outcome]').first().getAttribute('data-outcome')).resolves.toBe('ok');
    await screenshot(page, 'conversation');

    await page.goto(`${service.url}/console/conversations/${synced.conversationId}/messages/${synced.messageId}`);
    const history = await page.locator('[data-history]').textContent();
    expect(history).toMatch(/received from WhatsApp[\s\S]*stored[\s\S]*queued: crm-sync message → Zendesk support[\s\S]*sync attempt: timeline\.append → Zendesk support: ok in \d+ ms[\s\S]*done/);
    await screenshot(page, 'message-history');

    // The one Zendesk refused: dead, with the error and a way to the dead letter.
    await page.goto(`${service.url}/console/conversations/${dead.conversationId}`);
    const refused = page.locator(`article[data-message="${dead.messageId}"] .deliveries li`);
    await expect(refused.getAttribute('data-task-status')).resolves.toBe('dead');
    await expect(refused.textContent()).resolves.toMatch(/Zendesk support:\s*dead/);
    const [task] = await service.db.query(`SELECT last_error FROM outbox WHERE message_id = $1 AND queue = 'crm-sync'`, [dead.messageId]);
    expect(task.last_error).toBeTruthy();
    await expect(refused.textContent()).resolves.toContain(task.last_error);
    expect(await refused.locator('a[href^="/console/problems"]').count()).toBe(1);
    await page.goto(`${service.url}/console/conversations/${dead.conversationId}/messages/${dead.messageId}`);
    // The customer's contact was found (ok), then the ticket refused: the failed attempt with its kind and error.
    const outcomes = await page.locator('[data-history] [data-outcome]').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')));
    expect(outcomes.some((o) => o !== 'ok')).toBe(true);
    await expect(page.locator('[data-history]').textContent()).resolves.toMatch(/sync attempt: tickets\.ensure → Zendesk support: \w+ in \d+ ms — /);
    // The recorded error never quotes the customer's number.
    const attempts = await service.db.query(`SELECT error FROM sync_attempts WHERE conversation_id = $1`, [dead.conversationId]);
    expect(attempts.length).toBeGreaterThan(0);
    for (const a of attempts) expect(String(a.error ?? '')).not.toMatch(/34611000102/);
  });

  it('signs a browser out when its key is revoked', async () => {
    const key = await createKey('Agent Bea', 'agent');
    const page = await newPage();
    await signIn(page, service.url, key.key);
    await page.goto(`${service.url}/console/conversations`);
    expect(page.url()).toContain('/console/conversations');
    expect((await http.delete(`${service.url}/api/v1/api-keys/${key.id}`, asAdmin)).status).toBeLessThan(300);
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
  });

  describe('the session', () => {
    const signInOverHttp = async (apiKey: string) => {
      const res = await http.post(`${service.url}/console/sign-in`, new URLSearchParams({ apiKey }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(303);
      const setCookie = (res.headers['set-cookie'] ?? [])[0] ?? '';
      return { setCookie, cookie: setCookie.split(';')[0] };
    };
    const get = (path: string, cookie: string) => http.get(`${service.url}${path}`, { headers: { cookie } });

    it('is an HttpOnly, SameSite=Strict cookie for /console only', async () => {
      const { setCookie, cookie } = await signInOverHttp(agentKey.key);
      expect(setCookie).toMatch(/;\s*HttpOnly/i);
      expect(setCookie).toMatch(/;\s*SameSite=Strict/i);
      expect(setCookie).toMatch(/;\s*Path=\/console(;|$)/i);
      expect((await get('/console/conversations', cookie)).status).toBe(200);
    });

    it('is refused once past its expiry', async () => {
      const { cookie } = await signInOverHttp(agentKey.key);
      expect((await get('/console/conversations', cookie)).status).toBe(200);
      await service.db.query(`UPDATE console_sessions SET expires_at = now() - interval '1 minute'`);
      const res = await get('/console/conversations', cookie);
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^\/console\/sign-in/);
    });

    it('ends when its key is revoked', async () => {
      const key = await createKey('Agent Carla', 'agent');
      const { cookie } = await signInOverHttp(key.key);
      expect((await get('/console/conversations', cookie)).status).toBe(200);
      await http.delete(`${service.url}/api/v1/api-keys/${key.id}`, asAdmin);
      const res = await get(`/console/conversations/${synced.conversationId}`, cookie);
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^\/console\/sign-in/);
    });

    it('serves media only to roles that may export, and pages are read-only for everyone', async () => {
      const { cookie } = await signInOverHttp(agentKey.key);
      expect((await get(`/console/media/${synced.messageId}`, cookie)).status).toBe(403);
      // A form post to a page without its CSRF token is refused before anything else.
      const posted = await http.post(`${service.url}/console/conversations/${synced.conversationId}`, '_csrf=wrong', {
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(posted.status).toBeGreaterThanOrEqual(400);
    });
  });
});
