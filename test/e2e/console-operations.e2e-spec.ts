import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { launchBrowser, screenshot, signIn } from '../setup/browser';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, type TestService } from '../setup/test-service';

const NUMBER = '106540352242922';
const HOUR_MS = 3600_000;
const http = axios.create({ validateStatus: () => true, maxRedirects: 0 });
const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

/**
 * The console's operations pages in a real browser (Debian's Chromium, no script needed by the
 * pages) against the real service on Postgres and Redis, with a fake Zendesk: an admin replays a
 * dead letter and erases a customer; an agent and an auditor see what their roles allow and no
 * more; the reports chart seeded conversations; Bull Board answers at /console/queues.
 */
describe('Console: connections, problems, customers, reports, queues', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let zendesk: ZendeskFake;
  let service: TestService;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let connectionId: string;
  const keys: Record<string, string> = {};

  /** A customer who wrote a message `daysAgo` (answered after 10 min, closed after an hour), as the ingest leaves them. */
  async function seedCustomer(waId: string, name: string, daysAgo: number): Promise<{ contactId: string; conversationId: string; messageId: string }> {
    const opened = new Date(Date.now() - daysAgo * 24 * HOUR_MS);
    const [contact] = await service.db.query(`INSERT INTO contacts (wa_id, e164, profile_name) VALUES ($1, $2, $3) RETURNING id`, [waId, `+${waId}`, name]);
    const [conversation] = await service.db.query(
      `INSERT INTO conversations (contact_id, phone_number_id, display_phone_number, status, opened_at, last_message_at, last_inbound_at, first_response_at, resolved_at, closed_at)
       VALUES ($1, $2, '+1 555 0100', 'closed', $3, $3, $3, $4, $5, $5) RETURNING id`,
      [contact.id, NUMBER, opened, new Date(opened.getTime() + 10 * 60_000), new Date(opened.getTime() + HOUR_MS)],
    );
    const [message] = await service.db.query(
      `INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, wa_timestamp, status) VALUES ($1, $2, $3, 'inbound', 'text', 'Dzień dobry', $4, 'received') RETURNING id`,
      [`wamid.${randomBytes(12).toString('hex')}`, conversation.id, contact.id, opened],
    );
    return { contactId: contact.id, conversationId: conversation.id, messageId: message.id };
  }

  /** A CRM sync task that gave up, as the retry policy leaves it. */
  async function deadLetter(c: { conversationId: string; messageId: string }, error: string): Promise<string> {
    const [task] = await service.db.query(
      `INSERT INTO outbox (queue, kind, dedupe_key, connection_id, conversation_id, message_id, status, attempts, last_error)
       VALUES ('crm-sync', 'message', $1, $2, $3, $4, 'dead', 5, $5) RETURNING id::text AS id`,
      [`sync:${connectionId}:${c.messageId}`, connectionId, c.conversationId, c.messageId, error],
    );
    return task.id;
  }

  async function signedIn(role: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const p = await context.newPage();
    await signIn(p, service.url, keys[role]);
    return { context, page: p };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    zendesk = await startZendeskFake();
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, CONNECTOR_TIMEOUT_MS: '3000', EGRESS_ALLOW: allowFakes(zendesk) });
    const created = await http.post(`${service.url}/api/v1/connections`, { connectorId: 'zendesk', name: 'Zendesk support', credentials: zendesk.credentials() }, as(TEST_ADMIN_KEY));
    expect(created.status).toBe(201);
    connectionId = created.data.id;
    keys.admin = TEST_ADMIN_KEY;
    for (const role of ['agent', 'auditor']) {
      const res = await http.post(`${service.url}/api/v1/api-keys`, { name: `${role} key`, role }, as(TEST_ADMIN_KEY));
      expect(res.status).toBe(201);
      keys[role] = res.data.key;
    }
    browser = await launchBrowser();
    admin = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    page = await admin.newPage();
    await signIn(page, service.url, TEST_ADMIN_KEY);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await zendesk?.close();
    await redis?.close();
    await database?.drop();
  });

  it('shows each connection with its status, budget and sync lag, and re-checks credentials that needed re-authentication', async () => {
    await service.db.query(`UPDATE connections SET status = 'needs_reauth', last_error = 'Zendesk: 401 token expired' WHERE id = $1`, [connectionId]);
    await page.goto(`${service.url}/console/connections`);
    const row = page.locator('tr[data-connection="Zendesk support"]');
    await expect(row.textContent()).resolves.toContain('needs re-authentication');
    await expect(row.textContent()).resolves.toContain('401 token expired');
    await expect(row.textContent()).resolves.toMatch(/\d+ requests \/ /);
    await expect(row.textContent()).resolves.toContain('up to date');
    await screenshot(page, 'connections');

    // The fake accepts the stored credentials: the connection is active again.
    await Promise.all([page.waitForURL(/\/console\/connections\?done=recheck/), row.getByRole('button', { name: 'Re-check credentials' }).click()]);
    await expect(page.locator('[role=status]').textContent()).resolves.toContain('accepted the stored credentials');
    await expect(page.locator('tr[data-connection="Zendesk support"]').textContent()).resolves.toContain('active');
    await expect(service.db.query(`SELECT status FROM connections WHERE id = $1`, [connectionId])).resolves.toEqual([{ status: 'active' }]);

    await Promise.all([page.waitForURL(/done=disabled/), page.locator('tr[data-connection="Zendesk support"]').getByRole('button', { name: 'Disable' }).click()]);
    await expect(page.locator('tr[data-connection="Zendesk support"]').textContent()).resolves.toContain('disabled');
    await Promise.all([page.waitForURL(/done=enabled/), page.locator('tr[data-connection="Zendesk support"]').getByRole('button', { name: 'Enable' }).click()]);
    await expect(service.db.query(`SELECT enabled FROM connections WHERE id = $1`, [connectionId])).resolves.toEqual([{ enabled: true }]);
  });

  it('replays a dead letter: it leaves the list and its message reaches the helpdesk', async () => {
    const customer = await seedCustomer('48600300001', 'Piotr Dead', 1);
    const id = await deadLetter(customer, 'Zendesk: 422 requester invalid');
    await page.goto(`${service.url}/console/problems`);
    const row = page.locator(`tr[data-dead-letter="${id}"]`);
    await expect(row.textContent()).resolves.toContain('422 requester invalid');
    await expect(row.textContent()).resolves.toContain('Zendesk support');
    await screenshot(page, 'problems');

    await Promise.all([page.waitForURL(/replayed=1/), row.getByRole('button', { name: 'Replay' }).click()]);
    await expect(page.locator('[role=status]').textContent()).resolves.toContain('queued again');
    await expect(page.locator(`tr[data-dead-letter="${id}"]`).count()).resolves.toBe(0);
    await eventually(async () => (await service.db.query(`SELECT status FROM outbox WHERE id = $1`, [id]))[0].status === 'done', 'the replayed task done', 20_000);
  });

  it('replays every dead letter of a connection at once', async () => {
    const ids = [await deadLetter(await seedCustomer('48600300002', 'Anna Dead', 1), 'timeout'), await deadLetter(await seedCustomer('48600300003', 'Jan Dead', 1), 'timeout')];
    await page.goto(`${service.url}/console/problems?connection=${connectionId}`);
    await Promise.all([page.waitForURL(/replayed=2/), page.getByRole('button', { name: /Replay all of Zendesk support/ }).click()]);
    await expect(page.locator('#no-dead-letters').count()).resolves.toBe(1);
    await expect(service.db.query(`SELECT count(*)::int AS n FROM outbox WHERE id = ANY($1::bigint[]) AND status = 'dead'`, [ids])).resolves.toEqual([{ n: 0 }]);
  });

  it('finds a customer, exports them (audited) and erases them after the phone number is typed, then shows the receipts', async () => {
    const { contactId } = await seedCustomer('48600300010', 'Maria Erase', 2);
    const consent = await http.post(`${service.url}/api/v1/contacts/${contactId}/consent`, { action: 'opt_in', scope: 'marketing', source: 'form', evidence: 'ticked the box' }, as(TEST_ADMIN_KEY));
    expect(consent.status).toBe(201);
    await page.goto(`${service.url}/console/customers?q=${encodeURIComponent('+48 600 300 010')}`);
    await expect(page.locator('#customers tbody tr').count()).resolves.toBe(1);
    await screenshot(page, 'customers');
    await page.goto(`${service.url}/console/customers?q=maria`);
    await Promise.all([page.waitForURL(new RegExp(`/console/customers/${contactId}$`)), page.getByRole('link', { name: '+48600300010' }).click()]);
    await expect(page.locator('#consent-ledger').textContent()).resolves.toContain('ticked the box');
    await expect(page.locator('#consent-state').textContent()).resolves.toContain('opted in');
    await screenshot(page, 'customer');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export (JSON)' }).click()]);
    const exported = JSON.parse(fs.readFileSync((await download.path())!, 'utf8'));
    const fromApi = (await http.get(`${service.url}/api/v1/contacts/${contactId}/export`, as(TEST_ADMIN_KEY))).data;
    expect(exported.contact).toEqual(fromApi.contact);
    expect(exported.conversations).toHaveLength(1);
    await eventually(
      async () => (await service.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE route = '/console/customers/:id/export' AND target_id = $1`, [contactId]))[0].n === 1,
      'the export audited',
    );

    // The confirmation refuses another number.
    await Promise.all([page.waitForURL(/\/erase\??$/), page.getByRole('button', { name: 'Erase…' }).click()]);
    await page.fill('input[name="confirm"]', '+48 600 300 011');
    await Promise.all([page.waitForURL(/mismatch=1/), page.getByRole('button', { name: 'Erase this customer' }).click()]);
    await expect(page.locator('[role=alert]').textContent()).resolves.toContain('Nothing was erased');
    await expect(service.db.query(`SELECT count(*)::int AS n FROM contacts WHERE id = $1`, [contactId])).resolves.toEqual([{ n: 1 }]);

    await page.fill('input[name="confirm"]', '+48 600 300 010');
    await Promise.all([page.waitForURL(/\/console\/customers\/erasures\//), page.getByRole('button', { name: 'Erase this customer' }).click()]);
    await expect(service.db.query(`SELECT count(*)::int AS n FROM contacts WHERE id = $1`, [contactId])).resolves.toEqual([{ n: 0 }]);
    const receipts = page.locator('#receipts tbody tr');
    await expect(receipts.count()).resolves.toBeGreaterThanOrEqual(2);
    await expect(page.locator('tr[data-target="Zendesk support"]').count()).resolves.toBe(1);
    // The connection's receipt settles in the background: the page shows it on reload.
    await eventually(async () => {
      await page.reload();
      return !(await page.locator('tr[data-target="Zendesk support"]').textContent())?.includes('pending');
    }, "Zendesk's receipt settled", 20_000);
    await screenshot(page, 'erasure');
  });

  it('shows an agent no erase, no export and no replay, and refuses those routes', async () => {
    const { contactId } = await seedCustomer('48600300020', 'Olga Agent', 1);
    await deadLetter(await seedCustomer('48600300021', 'Olek Agent', 1), 'refused');
    const { context, page: agent } = await signedIn('agent');
    await agent.goto(`${service.url}/console/customers/${contactId}`);
    await expect(agent.locator('h1').textContent()).resolves.toBe('Olga Agent');
    await expect(agent.getByRole('button', { name: 'Erase…' }).count()).resolves.toBe(0);
    await expect(agent.getByRole('button', { name: 'Export (JSON)' }).count()).resolves.toBe(0);
    // The pages the role may not open answer 403 (no buttons either), and so do the actions.
    const problems = await agent.goto(`${service.url}/console/problems`);
    expect(problems?.status()).toBe(403);
    await expect(agent.getByRole('button', { name: 'Replay' }).count()).resolves.toBe(0);
    expect((await agent.goto(`${service.url}/console/customers/${contactId}/erase`))?.status()).toBe(403);
    const csrf = await agent.locator('meta[name="csrf-token"]').getAttribute('content');
    const erase = await agent.request.post(`${service.url}/console/customers/${contactId}/erase`, { form: { _csrf: csrf!, confirm: '48600300020' }, maxRedirects: 0 });
    expect(erase.status()).toBe(403);
    await expect(service.db.query(`SELECT count(*)::int AS n FROM contacts WHERE id = $1`, [contactId])).resolves.toEqual([{ n: 1 }]);
    await context.close();

    // An auditor reads the problems, and still has no replay button.
    const auditor = await signedIn('auditor');
    await auditor.page.goto(`${service.url}/console/problems`);
    await expect(auditor.page.locator('#dead-letters tbody tr').count()).resolves.toBeGreaterThanOrEqual(1);
    await expect(auditor.page.getByRole('button', { name: 'Replay' }).count()).resolves.toBe(0);
    await expect(auditor.page.getByRole('button', { name: /Re-check/ }).count()).resolves.toBe(0);
    await auditor.context.close();
  });

  it('charts first response, resolution and the share answered within 1 h per day', async () => {
    await seedCustomer('48600300030', 'Ewa Report', 3);
    await seedCustomer('48600300031', 'Adam Report', 5);
    await page.goto(`${service.url}/console/reports`);
    const charts = page.locator('figure.chart');
    await expect(charts.count()).resolves.toBe(3);
    await expect(charts.nth(0).locator('figcaption').textContent()).resolves.toBe('First response, median');
    await expect(charts.nth(0).locator('svg rect').count()).resolves.toBeGreaterThanOrEqual(2);
    // Every seeded conversation was answered after 10 minutes: each day's median says so, and 100 % within 1 h.
    await expect(charts.nth(0).locator('svg').textContent()).resolves.toContain('10 min');
    await expect(charts.nth(2).locator('svg').textContent()).resolves.toContain('100 %');
    await expect(page.locator('#report tbody tr').count()).resolves.toBeGreaterThanOrEqual(2);
    await screenshot(page, 'reports');
  });

  it('serves Bull Board at /console/queues: full for an admin, read-only for other roles, sign-in without a session', async () => {
    const response = await page.goto(`${service.url}/console/queues`);
    expect(response?.status()).toBe(200);
    await page.getByText('crm-sync').first().waitFor({ timeout: 15_000 });
    await screenshot(page, 'queues');
    await page.goto(`${service.url}/console/connections`);
    await expect(page.locator('nav a[href="/console/queues"]').count()).resolves.toBe(1);

    const anonymous = await http.get(`${service.url}/console/queues`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toBe('/console/sign-in?next=%2Fconsole%2Fqueues');
    expect((await http.get(`${service.url}/console/queues/api/queues`)).status).toBe(401);

    const adminQueues = await page.request.get(`${service.url}/console/queues/api/queues`);
    expect(adminQueues.status()).toBe(200);
    const adminBoard = (await adminQueues.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(adminBoard.queues.map((q) => q.name)).toContain('crm-sync');
    expect(adminBoard.queues.every((q) => !q.readOnlyMode)).toBe(true);

    const { context, page: agent } = await signedIn('agent');
    const agentQueues = await agent.request.get(`${service.url}/console/queues/api/queues`);
    expect(agentQueues.status()).toBe(200);
    expect(((await agentQueues.json()) as { queues: { readOnlyMode: boolean }[] }).queues.every((q) => q.readOnlyMode)).toBe(true);
    expect((await agent.request.put(`${service.url}/console/queues/api/queues/crm-sync/pause`)).status()).toBe(403);
    await context.close();
  });
});
