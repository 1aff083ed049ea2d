import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios, { type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { randomBytes, randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { Writable } from 'node:stream';
import { type HubspotFake, startHubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, type TestService } from '../setup/test-service';

/** Secrets that are easy to recognise anywhere they might leak. */
const marked = (what: string) => `${what}-SECRET-${randomBytes(9).toString('hex')}`;
const HUBSPOT_TOKEN = `pat-na1-${marked('hubspot')}`;
const HUBSPOT_NEW_TOKEN = `pat-na1-${marked('hubspot-new')}`;
const HUBSPOT_REJECTED = `pat-na1-${marked('hubspot-rejected')}`;
const HUBSPOT_ECHOED = `pat-na1-${marked('hubspot-echoed')}`;
const ZENDESK_TOKEN = marked('zendesk');
const ZENDESK_WRONG = marked('zendesk-wrong');
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const APP_SECRET = marked('meta-app');
const WHATSAPP_TOKEN = marked('meta-access');
const WRONG_API_KEY = `tb_${randomBytes(32).toString('base64url')}`;

/** A URL nothing listens on. */
async function closedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Creates connections and API keys with recognisable secrets, drives the service into its error
 * paths (rejected and echoed credentials, unreachable vendors, invalid input, wrong and revoked
 * keys, a token revoked while syncing, unreadable stored credentials) and then looks for the
 * secrets in every log line and every HTTP answer.
 */
describe('secrets never reach logs or HTTP answers', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let hubspot: HubspotFake;
  let zendesk: ZendeskFake;
  /** Allowed by the egress policy, but nothing listens there. */
  let unreachable: string;
  let service: TestService;
  let api: string;
  const logLines: string[] = [];
  /** Every answer the tests received, as text (status line, headers and body). */
  const answers: string[] = [];
  /** The one answer allowed to hold an API key: the one that created it. */
  const keyCreations = new Map<string, string>();

  const http = axios.create({ validateStatus: () => true, transformResponse: [(data: unknown) => data], responseType: 'text' });
  const admin = { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' } };
  async function call(method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: unknown, config: AxiosRequestConfig = admin): Promise<AxiosResponse<string>> {
    const res = await http.request<string>({ method, url: `${api}${path}`, data: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body), ...config });
    answers.push(`${res.status} ${JSON.stringify(res.headers)} ${res.data}`);
    return res;
  }
  const json = (res: AxiosResponse<string>) => JSON.parse(res.data);

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    hubspot = await startHubspotFake({ accessTokens: [HUBSPOT_TOKEN, HUBSPOT_NEW_TOKEN, HUBSPOT_ECHOED], rateLimit: false });
    zendesk = await startZendeskFake({ apiToken: ZENDESK_TOKEN });
    unreachable = await closedUrl();
    const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
    service = await startTestService(
      {
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        ENCRYPTION_KEY,
        WHATSAPP_APP_SECRET: APP_SECRET,
        WHATSAPP_ACCESS_TOKEN: WHATSAPP_TOKEN,
        CONNECTOR_TIMEOUT_MS: '2000',
        EGRESS_ALLOW: allowFakes(hubspot, zendesk, unreachable),
      },
      { logDestination: sink, logLevel: 'trace' },
    );
    api = `${service.url}/api/v1`;
  });

  afterAll(async () => {
    await service?.stop();
    await hubspot?.close();
    await zendesk?.close();
    await redis?.close();
    await database?.drop();
  });

  it('goes through the error paths of connections', async () => {
    const hubspotCreated = await call('post', '/connections', { connectorId: 'hubspot', name: 'HubSpot', credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url } });
    expect(hubspotCreated.status).toBe(201);
    const zendeskCreated = await call('post', '/connections', { connectorId: 'zendesk', name: 'Zendesk', credentials: zendesk.credentials() });
    expect(zendeskCreated.status).toBe(201);

    // Credentials the vendor refuses, once with an error body that quotes the token back.
    expect((await call('post', '/connections', { connectorId: 'hubspot', name: 'rejected', credentials: { accessToken: HUBSPOT_REJECTED, baseUrl: hubspot.url } })).status).toBe(400);
    hubspot.failNext(401, { body: { status: 'error', category: 'INVALID_AUTHENTICATION', message: `The token ${HUBSPOT_ECHOED} is expired` } });
    expect((await call('post', '/connections', { connectorId: 'hubspot', name: 'echoed', credentials: { accessToken: HUBSPOT_ECHOED, baseUrl: hubspot.url } })).status).toBe(400);
    hubspot.failNext(500, { body: { status: 'error', message: `upstream failure for ${HUBSPOT_ECHOED}` } });
    expect((await call('post', '/connections', { connectorId: 'hubspot', name: 'echoed 5xx', credentials: { accessToken: HUBSPOT_ECHOED, baseUrl: hubspot.url } })).status).toBe(502);
    expect((await call('post', '/connections', { connectorId: 'zendesk', name: 'zd rejected', credentials: zendesk.credentials({ apiToken: ZENDESK_WRONG }) })).status).toBe(400);
    // An unreachable vendor, invalid input around a secret, and a body that is not JSON.
    expect((await call('post', '/connections', { connectorId: 'hubspot', name: 'unreachable', credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: unreachable } })).status).toBe(502);
    expect((await call('post', '/connections', { connectorId: 'hubspot', name: 'invalid', credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: 'not a url', extra: HUBSPOT_TOKEN } })).status).toBe(400);
    expect((await call('post', '/connections', { connectorId: 'nope', name: 'unknown', credentials: { apiToken: ZENDESK_TOKEN } })).status).toBe(400);
    expect((await call('post', '/connections', `{"connectorId":"hubspot","credentials":{"accessToken":"${HUBSPOT_TOKEN}"`)).status).toBe(400);
    expect((await call('post', '/connections', { connectorId: 'hubspot', name: 'HubSpot', credentials: { accessToken: HUBSPOT_NEW_TOKEN, baseUrl: hubspot.url } })).status).toBe(409);

    // Replacing credentials: refused, then accepted.
    const id = json(hubspotCreated).id as string;
    expect((await call('patch', `/connections/${id}`, { credentials: { accessToken: HUBSPOT_REJECTED, baseUrl: hubspot.url } })).status).toBe(400);
    expect((await call('patch', `/connections/${id}`, { credentials: { accessToken: HUBSPOT_NEW_TOKEN, baseUrl: hubspot.url } })).status).toBe(200);
    expect((await call('get', '/connections')).status).toBe(200);
    expect((await call('get', `/connections/${id}`)).status).toBe(200);

    // Stored credentials that cannot be decrypted any more.
    const zendeskId = json(zendeskCreated).id as string;
    const [row] = await service.db.query(`SELECT credentials_enc FROM connections WHERE id = $1`, [zendeskId]);
    const parts = (row.credentials_enc as string).split('.');
    parts[4] = `${parts[4].startsWith('A') ? 'B' : 'A'}${parts[4].slice(1)}`;
    await service.db.query(`UPDATE connections SET credentials_enc = $2 WHERE id = $1`, [zendeskId, parts.join('.')]);
    expect((await call('get', `/connections/${zendeskId}`)).status).toBe(200);
  });

  it('goes through a sync whose token the CRM revoked meanwhile', async () => {
    const [connection] = await service.db.query(`SELECT id FROM connections WHERE name = 'HubSpot'`);
    hubspot.setOptions({ accessTokens: [HUBSPOT_TOKEN] });
    const waId = '4915200000077';
    const delivered = await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'Hallo' }), APP_SECRET);
    expect(delivered.status).toBe(200);
    await eventually(
      async () => (await service.db.query(`SELECT status FROM connections WHERE id = $1`, [connection.id]))[0].status === 'needs_reauth',
      'the connection marked needs_reauth after HubSpot refused the token',
    );
  });

  it('goes through the error paths of API keys', async () => {
    const created = await call('post', '/api-keys', { name: 'integration', role: 'integrator' });
    expect(created.status).toBe(201);
    const { id, key } = json(created) as { id: string; key: string };
    keyCreations.set(key, answers[answers.length - 1]);
    const withKey = (k: string) => ({ headers: { authorization: `Bearer ${k}` } });

    expect((await call('get', '/connections', undefined, withKey(key))).status).toBe(200);
    expect((await call('get', '/conversations', undefined, withKey(key))).status).toBe(403);
    expect((await call('get', '/connections', undefined, withKey(WRONG_API_KEY))).status).toBe(401);
    expect((await call('get', '/connections', undefined, withKey(`${TEST_ADMIN_KEY}-wrong`))).status).toBe(401);
    expect((await call('get', '/connections', undefined, { headers: { 'x-api-key': WRONG_API_KEY } })).status).toBe(401);
    expect((await call('get', `/conversations?cursor=${encodeURIComponent(WRONG_API_KEY)}`)).status).toBe(400);
    expect((await call('get', '/api-keys')).status).toBe(200);
    expect((await call('delete', `/api-keys/${id}`)).status).toBe(204);
    expect((await call('get', '/connections', undefined, withKey(key))).status).toBe(401);
    expect((await call('delete', `/api-keys/${randomUUID()}`)).status).toBe(404);
    expect((await call('get', '/audit')).status).toBe(200);
  });

  it('finds no secret in any log line, HTTP answer or audit row', async () => {
    const audit = JSON.stringify(await service.db.query(`SELECT * FROM audit_log`));
    const logs = logLines.join('');
    // The checks below can fail: the service did log these calls and the answers were kept.
    expect(logs).toContain('connection created');
    expect(logs).toContain('API key created');
    expect(logs).toContain('needs_reauth');
    expect(answers.length).toBeGreaterThan(25);
    expect(audit).toContain('/api/v1/connections/:id');

    const secrets = [HUBSPOT_TOKEN, HUBSPOT_NEW_TOKEN, HUBSPOT_REJECTED, HUBSPOT_ECHOED, ZENDESK_TOKEN, ZENDESK_WRONG, ENCRYPTION_KEY, APP_SECRET, WHATSAPP_TOKEN, WRONG_API_KEY, TEST_ADMIN_KEY];
    for (const secret of secrets) {
      expect({ secret, inLogs: logs.includes(secret) }).toEqual({ secret, inLogs: false });
      expect({ secret, inAnswers: answers.filter((a) => a.includes(secret)) }).toEqual({ secret, inAnswers: [] });
      expect({ secret, inAudit: audit.includes(secret) }).toEqual({ secret, inAudit: false });
    }
    for (const [key, creation] of keyCreations) {
      expect(logs).not.toContain(key);
      expect(audit).not.toContain(key);
      expect(answers.filter((a) => a.includes(key))).toEqual([creation]);
    }
  });
});
