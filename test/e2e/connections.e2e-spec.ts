import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONNECTOR_IDS } from '../../connectors';
import axios from 'axios';
import { createHash, randomBytes } from 'node:crypto';
import * as nodeHttp from 'node:http';
import * as net from 'node:net';
import { type HubspotFake, startHubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { ConfigValidationError } from '../../config/env.validation';
import { Encryption } from '../../src/common/encryption';
import { LOGGER } from '../../src/common/logger';
import { ConnectionsRepository } from '../../src/connections/connections.repository';
import { ConnectionsService } from '../../src/connections/connections.service';
import { CredentialsCheck } from '../../src/connections/credentials-check';
import { DeclaredConnections } from '../../src/connections/declared-connections';
import { ConnectorRegistry } from '../../src/connections/connector-registry';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true });
const auth = { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } };
const GOOD_TOKEN = `pat-na1-${randomBytes(8).toString('hex')}`;
const OTHER_GOOD_TOKEN = `pat-na1-${randomBytes(8).toString('hex')}`;

/** A URL nothing listens on. */
async function closedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const keyIdOf = (hexKey: string) => createHash('sha256').update(Buffer.from(hexKey, 'hex')).digest('hex').slice(0, 8);

let redis: Awaited<ReturnType<typeof createTestRedis>>;
let hubspot: HubspotFake;
let zendesk: ZendeskFake;
/** Allowed by the egress policy, but nothing listens there: the vendor is unreachable. */
let unreachable: string;

beforeAll(async () => {
  redis = await createTestRedis();
  hubspot = await startHubspotFake({ accessTokens: [GOOD_TOKEN, OTHER_GOOD_TOKEN], rateLimit: false });
  zendesk = await startZendeskFake();
  unreachable = await closedUrl();
});

afterAll(async () => {
  await hubspot?.close();
  await zendesk?.close();
  await redis?.close();
});

describe('Connections API on Postgres + Redis', () => {
  let database: TestDatabase;
  let service: TestService;
  let api: string;

  const rowByName = async (name: string) => (await service.db.query(`SELECT * FROM connections WHERE name = $1`, [name]))[0];
  const createHubspot = (name: string, accessToken = GOOD_TOKEN, extra: Record<string, unknown> = {}) =>
    http.post(api, { connectorId: 'hubspot', name, credentials: { accessToken, baseUrl: hubspot.url }, ...extra }, auth);

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, EGRESS_ALLOW: allowFakes(hubspot, zendesk, unreachable) });
    api = `${service.url}/api/v1/connections`;
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('answers 401 on every route without the admin key, and stores nothing', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const wrong = { headers: { authorization: 'Bearer not-the-admin-key-at-all' } };
    const body = { connectorId: 'hubspot', name: 'no key', credentials: { accessToken: GOOD_TOKEN, baseUrl: hubspot.url } };
    const answers = await Promise.all([
      http.get(api),
      http.get(api, wrong),
      http.post(api, body),
      http.post(api, body, wrong),
      http.get(`${api}/${id}`),
      http.patch(`${api}/${id}`, { enabled: false }),
      http.delete(`${api}/${id}`),
    ]);
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 401, 401]);
    await expect(rowByName('no key')).resolves.toBeUndefined();
  });

  it('creates a HubSpot connection checked against HubSpot, with the token encrypted at rest', async () => {
    hubspot.clearRequests();
    const res = await createHubspot('HubSpot sales');
    expect(res.status).toBe(201);
    expect(res.data).toMatchObject({
      connectorId: 'hubspot',
      connectorName: 'HubSpot',
      name: 'HubSpot sales',
      enabled: true,
      status: 'active',
      source: 'api',
      failureCount: 0,
      lastError: null,
      retryAfter: null,
      credentials: { accessToken: 'set', baseUrl: 'set' },
      budget: { requests: 100, perMs: 10_000 },
      capabilities: { contacts: true, history: true, tickets: true },
    });
    // The settings in effect: every default of the connector filled in.
    expect(res.data.settings).toMatchObject({ tickets: { enabled: true, pipeline: '0', closedStages: ['4'] }, consentProperty: 'whatsapp_marketing_consent' });
    expect(JSON.stringify(res.data)).not.toContain(GOOD_TOKEN);
    expect(JSON.stringify(res.data)).not.toContain(hubspot.url);
    // The credentials were checked with the vendor before they were stored.
    expect(hubspot.requests().some((r) => r.status === 200)).toBe(true);

    const row = await rowByName('HubSpot sales');
    expect(row.id).toBe(res.data.id);
    expect(row.credentials_enc).toMatch(/^v1\.[0-9a-f]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(row.credentials_enc).not.toContain(GOOD_TOKEN);
    expect(Buffer.from(row.credentials_enc.split('.')[4], 'base64url').toString('latin1')).not.toContain(GOOD_TOKEN);
    // Stored as the operator sent them; defaults are applied when read, so they follow upgrades.
    expect(row.settings).toEqual({});
  });

  it('creates a Zendesk connection with its settings', async () => {
    const res = await http.post(api, { connectorId: 'zendesk', name: 'Zendesk support', credentials: zendesk.credentials(), settings: { priority: 'high', tags: ['whatsapp', 'vip'] } }, auth);
    expect(res.status).toBe(201);
    expect(res.data).toMatchObject({ connectorName: 'Zendesk Support', status: 'active', settings: { priority: 'high', tags: ['whatsapp', 'vip'] }, capabilities: { replies: true, consent: false } });
    // apiUserId: learned from Zendesk while the credentials were checked, never entered.
    expect(Object.keys(res.data.credentials).sort()).toEqual(['apiToken', 'apiUserId', 'baseUrl', 'email']);
    expect(JSON.stringify(res.data)).not.toContain(zendesk.apiToken);
  });

  it('never returns a secret from GET', async () => {
    const list = await http.get(api, auth);
    expect(list.status).toBe(200);
    expect(list.data.data.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['HubSpot sales', 'Zendesk support']));
    const one = await http.get(`${api}/${(await rowByName('HubSpot sales')).id}`, auth);
    expect(one.status).toBe(200);
    expect(one.data.credentials).toEqual({ accessToken: 'set', baseUrl: 'set' });
    for (const body of [JSON.stringify(list.data), JSON.stringify(one.data)]) {
      expect(body).not.toContain(GOOD_TOKEN);
      expect(body).not.toContain(zendesk.apiToken);
      expect(body).not.toContain('credentials_enc');
      expect(body).not.toContain('credentialsEnc');
    }
  });

  it('refuses credentials the vendor rejects with 400 and a clear message, storing nothing', async () => {
    const wrongToken = `pat-na1-wrong-${randomBytes(6).toString('hex')}`;
    const res = await createHubspot('rejected', wrongToken);
    expect(res.status).toBe(400);
    expect(res.data.message).toMatch(/^HubSpot rejected the credentials: /);
    expect(JSON.stringify(res.data)).not.toContain(wrongToken);
    await expect(rowByName('rejected')).resolves.toBeUndefined();

    const zd = await http.post(api, { connectorId: 'zendesk', name: 'zd rejected', credentials: zendesk.credentials({ apiToken: 'wrong-zendesk-token' }) }, auth);
    expect(zd.status).toBe(400);
    expect(zd.data.message).toMatch(/^Zendesk Support rejected the credentials: /);
    expect(JSON.stringify(zd.data)).not.toContain('wrong-zendesk-token');
    await expect(rowByName('zd rejected')).resolves.toBeUndefined();
  });

  it('answers 502 when the vendor cannot be reached, storing nothing', async () => {
    const res = await http.post(api, { connectorId: 'hubspot', name: 'unreachable', credentials: { accessToken: GOOD_TOKEN, baseUrl: unreachable } }, auth);
    expect(res.status).toBe(502);
    expect(res.data.message).toMatch(/^could not reach HubSpot to check the credentials, try again/);
    await expect(rowByName('unreachable')).resolves.toBeUndefined();
  });

  it('answers 400 naming the field for invalid input, before calling the vendor', async () => {
    hubspot.clearRequests();
    const missing = await http.post(api, { connectorId: 'hubspot', name: 'bad' }, auth);
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.data.message)).toContain('credentials must be an object');

    const longName = await http.post(api, { connectorId: 'hubspot', name: 'x'.repeat(101), credentials: { accessToken: GOOD_TOKEN } }, auth);
    expect(longName.status).toBe(400);
    expect(JSON.stringify(longName.data.message)).toContain('name must be shorter than or equal to 100 characters');

    const unknown = await http.post(api, { connectorId: 'salesforce', name: 'bad', credentials: {} }, auth);
    expect(unknown.status).toBe(400);
    expect(unknown.data.message).toBe(`unknown connector 'salesforce'; known connectors: ${CONNECTOR_IDS.join(', ')}`);

    const dto = await http.post(api, { connectorId: 'hubspot', name: 'bad', credentials: { baseUrl: 'not a url' }, settings: { tickets: { pipeline: '' }, ticket: {} } }, auth);
    expect(dto.status).toBe(400);
    expect(dto.data.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^credentials\.accessToken: /),
        expect.stringMatching(/^credentials\.baseUrl: /),
        expect.stringMatching(/^settings\.tickets\.pipeline: /),
        'settings.ticket: property ticket should not exist',
      ]),
    );
    expect(dto.data.message).toContain('credentials.accessToken');

    await expect(service.db.query(`SELECT name FROM connections WHERE name = 'bad'`)).resolves.toEqual([]);
    expect(hubspot.requestCount()).toBe(0);
  });

  it('answers 409 for a name in use', async () => {
    const res = await createHubspot('HubSpot sales', OTHER_GOOD_TOKEN);
    expect(res.status).toBe(409);
    expect(res.data.message).toBe("a connection named 'HubSpot sales' exists already");
    const id = (await rowByName('Zendesk support')).id;
    const rename = await http.patch(`${api}/${id}`, { name: 'HubSpot sales' }, auth);
    expect(rename.status).toBe(409);
    await expect(rowByName('Zendesk support')).resolves.toMatchObject({ id });
  });

  describe('work that waits for a connection', () => {
    /**
     * A customer message and its sync task for `connectionId`, as the webhook ingest writes them,
     * parked an hour ahead as the sync engine parks work of a connection that cannot run.
     */
    const parkedTask = async (connectionId: string, status = 'pending') => {
      const waId = `4860${randomBytes(4).readUInt32BE() % 10_000_000}`.padEnd(11, '0');
      const [contact] = await service.db.query(`INSERT INTO contacts (wa_id, e164) VALUES ($1, $2) RETURNING id`, [waId, `+${waId}`]);
      const [conversation] = await service.db.query(
        `INSERT INTO conversations (contact_id, phone_number_id, display_phone_number, last_message_at, last_inbound_at) VALUES ($1, '106540352242922', '+1 555 0100', now(), now()) RETURNING id`,
        [contact.id],
      );
      const [message] = await service.db.query(
        `INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, wa_timestamp, status) VALUES ($1, $2, $3, 'inbound', 'text', 'Dzień dobry', now(), 'received') RETURNING id`,
        [`wamid.${randomBytes(12).toString('hex')}`, conversation.id, contact.id],
      );
      const [task] = await service.db.query(
        `INSERT INTO outbox (queue, kind, dedupe_key, connection_id, conversation_id, message_id, status, next_attempt_at)
         VALUES ('crm-sync', 'message', $1, $2, $3, $4, $5, now() + interval '1 hour') RETURNING id::text AS id`,
        [`sync:${connectionId}:${message.id}`, connectionId, conversation.id, message.id, status],
      );
      return task.id as string;
    };
    const task = async (id: string) => (await service.db.query(`SELECT status, next_attempt_at <= now() AS due FROM outbox WHERE id = $1`, [id]))[0];
    /** Released work runs at once: due now and handed to the queue, so it is soon done. */
    const syncedSoon = (id: string) => eventually(async () => (await task(id)).status === 'done', `task ${id} done`, 10_000);

    it('reactivates a needs_reauth connection when new credentials are accepted, and releases its parked work at once', async () => {
      const created = await createHubspot('HubSpot reauth');
      expect(created.status).toBe(201);
      const id = created.data.id as string;
      await service.db.query(`UPDATE connections SET status = 'needs_reauth', failure_count = 3, last_error = 'HubSpot: 401 token expired' WHERE id = $1`, [id]);
      const parked = [await parkedTask(id), await parkedTask(id)];
      const otherId = (await rowByName('HubSpot sales')).id;
      await service.db.query(`UPDATE connections SET status = 'needs_reauth' WHERE id = $1`, [otherId]);
      const others = await parkedTask(otherId);

      // Credentials HubSpot refuses change nothing.
      const refused = await http.patch(`${api}/${id}`, { credentials: { accessToken: 'pat-na1-still-wrong', baseUrl: hubspot.url } }, auth);
      expect(refused.status).toBe(400);
      await expect(rowByName('HubSpot reauth')).resolves.toMatchObject({ status: 'needs_reauth', failure_count: 3 });
      await expect(task(parked[0])).resolves.toEqual({ status: 'pending', due: false });

      const communicationsBefore = hubspot.communications().length;
      const fixed = await http.patch(`${api}/${id}`, { credentials: { accessToken: OTHER_GOOD_TOKEN, baseUrl: hubspot.url } }, auth);
      expect(fixed.status).toBe(200);
      expect(fixed.data).toMatchObject({ status: 'active', failureCount: 0, lastError: null });
      expect(JSON.stringify(fixed.data)).not.toContain(OTHER_GOOD_TOKEN);
      expect((await rowByName('HubSpot reauth')).credentials_enc).not.toContain(OTHER_GOOD_TOKEN);
      await expect(service.app.get(ConnectionsService).resolve(id)).resolves.toMatchObject({ credentials: { accessToken: OTHER_GOOD_TOKEN } });

      // Not an hour later: the parked messages reach HubSpot now.
      for (const t of parked) await syncedSoon(t);
      expect(hubspot.communications().length).toBeGreaterThanOrEqual(communicationsBefore + 2);
      // Another connection still waiting for its credentials keeps its work parked.
      await expect(task(others)).resolves.toEqual({ status: 'pending', due: false });
      await service.db.query(`UPDATE connections SET status = 'active' WHERE id = $1`, [otherId]);
    });

    it('releases the waiting work of a disabled connection when it is enabled again', async () => {
      const id = (await rowByName('Zendesk support')).id as string;
      const off = await http.patch(`${api}/${id}`, { enabled: false }, auth);
      expect(off.status).toBe(200);
      expect(off.data.enabled).toBe(false);
      const waiting = await parkedTask(id);
      await expect(task(waiting)).resolves.toEqual({ status: 'pending', due: false });

      const on = await http.patch(`${api}/${id}`, { enabled: true }, auth);
      expect(on.status).toBe(200);
      expect(on.data).toMatchObject({ enabled: true, status: 'active' });
      await syncedSoon(waiting);
    });
  });

  it('replaces settings through PATCH and reports the capabilities they give', async () => {
    const id = (await rowByName('HubSpot sales')).id;
    const res = await http.patch(`${api}/${id}`, { settings: { tickets: { enabled: false }, budget: { requests: 190, perMs: 10_000 } } }, auth);
    expect(res.status).toBe(200);
    expect(res.data.capabilities.tickets).toBe(false);
    expect(res.data.budget).toEqual({ requests: 190, perMs: 10_000 });
    expect(res.data.settings.tickets).toMatchObject({ enabled: false, pipeline: '0' });
    const bad = await http.patch(`${api}/${id}`, { settings: { budget: { requests: 0 } } }, auth);
    expect(bad.status).toBe(400);
    expect(bad.data.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^settings\.budget\.requests: /), expect.stringMatching(/^settings\.budget\.perMs: /)]));
  });

  it('marks a connection whose credentials cannot be decrypted needs_reauth instead of syncing it', async () => {
    const created = await createHubspot('HubSpot damaged');
    const id = created.data.id as string;
    const connections = service.app.get(ConnectionsService);
    await expect(connections.resolve(id)).resolves.toMatchObject({ connection: { id }, budget: { requests: 100, perMs: 10_000 }, capabilities: { tickets: true } });
    await expect(connections.listEnabledWith('tickets')).resolves.toEqual(expect.arrayContaining([expect.objectContaining({ connection: expect.objectContaining({ id }) })]));

    const row = await rowByName('HubSpot damaged');
    const parts = row.credentials_enc.split('.');
    parts[4] = `A${parts[4].slice(1)}` === parts[4] ? `B${parts[4].slice(1)}` : `A${parts[4].slice(1)}`;
    await service.db.query(`UPDATE connections SET credentials_enc = $2 WHERE id = $1`, [id, parts.join('.')]);

    await expect(connections.resolve(id)).resolves.toBeNull();
    const after = await rowByName('HubSpot damaged');
    expect(after.status).toBe('needs_reauth');
    expect(after.last_error).toMatch(/stored credentials cannot be read .*integrity check/);
    const view = await http.get(`${api}/${id}`, auth);
    expect(view.data).toMatchObject({ status: 'needs_reauth', credentials: {} });
  });

  it('records failures and successes for the sync engine, writing only on change', async () => {
    const id = (await rowByName('HubSpot sales')).id;
    const connections = service.app.get(ConnectionsService);
    await connections.recordFailure(id, 'HubSpot answered 503');
    await connections.recordFailure(id, 'HubSpot answered 502');
    const until = new Date(Date.now() + 60_000);
    await connections.setRetryAfter(id, until);
    await expect(rowByName('HubSpot sales')).resolves.toMatchObject({ failure_count: 2, last_error: 'HubSpot answered 502', retry_after: until });

    await connections.recordSuccess(id);
    const cleared = await rowByName('HubSpot sales');
    expect(cleared).toMatchObject({ failure_count: 0, last_error: null, retry_after: until });
    await connections.recordSuccess(id);
    await expect(rowByName('HubSpot sales')).resolves.toMatchObject({ updated_at: cleared.updated_at });
    await connections.setRetryAfter(id, null);
    await expect(rowByName('HubSpot sales')).resolves.toMatchObject({ retry_after: null });
  });

  it('deletes a connection with its waiting work: 204, then 404', async () => {
    const created = await createHubspot('HubSpot to delete');
    const id = created.data.id as string;
    await service.db.query(`INSERT INTO outbox (queue, kind, dedupe_key, connection_id, next_attempt_at) VALUES ('crm-sync', 'message', $1, $2, now() + interval '1 hour')`, [`delete:${id}`, id]);

    const res = await http.delete(`${api}/${id}`, auth);
    expect(res.status).toBe(204);
    expect(res.data).toBe('');
    expect((await http.get(`${api}/${id}`, auth)).status).toBe(404);
    expect((await http.delete(`${api}/${id}`, auth)).status).toBe(404);
    expect((await http.patch(`${api}/${id}`, { enabled: false }, auth)).status).toBe(404);
    await expect(service.db.query(`SELECT id FROM outbox WHERE connection_id = $1`, [id])).resolves.toEqual([]);
  });

  it('answers 404 for an id that is not a uuid', async () => {
    for (const res of await Promise.all([http.get(`${api}/not-a-uuid`, auth), http.patch(`${api}/1`, { enabled: true }, auth), http.delete(`${api}/x'y`, auth)])) {
      expect(res.status).toBe(404);
    }
  });
});

describe('Connections declared by the environment, and key rotation', () => {
  const KEY_A = randomBytes(32).toString('hex');
  const KEY_B = randomBytes(32).toString('hex');
  let database: TestDatabase;
  let service: TestService | undefined;

  /**
   * Boots the service with these variables. They go both to the service's env and to
   * process.env (the default source of declared connections), restored once the boot is done.
   */
  async function boot(env: Record<string, string>): Promise<TestService> {
    await service?.stop();
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, EGRESS_ALLOW: allowFakes(hubspot, zendesk, unreachable), ...env });
      return service;
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  const envRow = async () => (await service!.db.query(`SELECT * FROM connections WHERE name = 'HubSpot'`))[0];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('creates the declared connection at start, checked with the vendor', async () => {
    hubspot.clearRequests();
    const s = await boot({ ENCRYPTION_KEY: KEY_A, HUBSPOT_ACCESS_TOKEN: GOOD_TOKEN, HUBSPOT_BASE_URL: hubspot.url });
    const row = await envRow();
    expect(row).toMatchObject({ connector_id: 'hubspot', source: 'env', status: 'active', enabled: true });
    expect(row.credentials_enc.split('.')[1]).toBe(keyIdOf(KEY_A));
    expect(row.credentials_enc).not.toContain(GOOD_TOKEN);
    expect(hubspot.requests().some((r) => r.status === 200)).toBe(true);
    const list = await http.get(`${s.url}/api/v1/connections`, auth);
    expect(list.data.data).toEqual([expect.objectContaining({ name: 'HubSpot', source: 'env', credentials: { accessToken: 'set', baseUrl: 'set' } })]);
  });

  it('leaves it alone at the next start when nothing changed, reading it under the previous key during a rotation', async () => {
    hubspot.clearRequests();
    const before = await envRow();
    const s = await boot({ ENCRYPTION_KEY: KEY_B, ENCRYPTION_KEY_PREVIOUS: KEY_A, HUBSPOT_ACCESS_TOKEN: GOOD_TOKEN, HUBSPOT_BASE_URL: hubspot.url });
    expect(hubspot.requestCount()).toBe(0);
    await expect(envRow()).resolves.toMatchObject({ credentials_enc: before.credentials_enc, updated_at: before.updated_at });

    const connections = s.app.get(ConnectionsService);
    await expect(connections.resolve(before.id)).resolves.toMatchObject({ credentials: { accessToken: GOOD_TOKEN, baseUrl: hubspot.url } });
    await expect(connections.reencryptAll()).resolves.toBe(1);
    await expect(connections.reencryptAll()).resolves.toBe(0);
    expect((await envRow()).credentials_enc.split('.')[1]).toBe(keyIdOf(KEY_B));
  });

  it('stores credentials the vendor rejects as needs_reauth without stopping the start', async () => {
    const wrongToken = `pat-na1-revoked-${randomBytes(6).toString('hex')}`;
    // The previous key is gone: the rotation above rewrote everything under KEY_B.
    const s = await boot({ ENCRYPTION_KEY: KEY_B, HUBSPOT_ACCESS_TOKEN: wrongToken, HUBSPOT_BASE_URL: hubspot.url });
    const row = await envRow();
    expect(row.status).toBe('needs_reauth');
    expect(row.last_error).toMatch(/^HubSpot rejected the credentials: /);
    expect(row.last_error).not.toContain(wrongToken);
    await expect(s.app.get(ConnectionsService).resolve(row.id)).resolves.toMatchObject({ credentials: { accessToken: wrongToken } });
    expect((await http.get(`${s.url}/health/live`)).status).toBe(200);
  });

  it('starts and stores the declared credentials unchecked when the vendor cannot be reached', async () => {
    const s = await boot({ ENCRYPTION_KEY: KEY_B, HUBSPOT_ACCESS_TOKEN: GOOD_TOKEN, HUBSPOT_BASE_URL: unreachable });
    const row = await envRow();
    expect(row.status).toBe('active');
    await expect(s.app.get(ConnectionsService).resolve(row.id)).resolves.toMatchObject({ credentials: { accessToken: GOOD_TOKEN, baseUrl: unreachable } });
    await expect(s.db.query(`SELECT count(*)::int AS n FROM connections`)).resolves.toEqual([{ n: 1 }]);
  });

  it('refuses to start when the declared connection is invalid, naming the field', async () => {
    // The service as the start builds it, but reading its declarations from an env of its own.
    const s = service!;
    const declaring = (env: Record<string, string>) =>
      new DeclaredConnections(
        s.app.get(ConnectionsRepository),
        s.app.get(ConnectorRegistry),
        s.app.get(CredentialsCheck),
        s.app.get(ConnectionsService),
        s.app.get(Encryption),
        s.app.get(LOGGER),
        env,
      );
    await expect(declaring({ HUBSPOT_ACCESS_TOKEN: GOOD_TOKEN, HUBSPOT_BASE_URL: 'not-a-url' }).onApplicationBootstrap()).rejects.toThrow(
      /HubSpot connection declared by environment variables is invalid: credentials\.baseUrl/,
    );
    await expect(declaring({ HUBSPOT_ACCESS_TOKEN: GOOD_TOKEN, HUBSPOT_BASE_URL: 'not-a-url' }).onApplicationBootstrap()).rejects.toBeInstanceOf(ConfigValidationError);
    // Some of a connector's variables without the ones it needs: the boot stops naming them.
    await expect(declaring({ ZENDESK_SUBDOMAIN: 'acme' }).onApplicationBootstrap()).rejects.toThrow(
      /Zendesk Support connection is declared by environment variables but ZENDESK_EMAIL, ZENDESK_API_TOKEN are not set/,
    );
    await expect(declaring({ HUBSPOT_BASE_URL: hubspot.url }).onApplicationBootstrap()).rejects.toThrow(/HUBSPOT_ACCESS_TOKEN is not set/);
    // A valid declaration through the same env: the row follows it.
    await declaring({ HUBSPOT_ACCESS_TOKEN: OTHER_GOOD_TOKEN, HUBSPOT_BASE_URL: hubspot.url }).onApplicationBootstrap();
    await expect(s.app.get(ConnectionsService).resolve((await envRow()).id)).resolves.toMatchObject({ credentials: { accessToken: OTHER_GOOD_TOKEN, baseUrl: hubspot.url } });
    await expect(envRow()).resolves.toMatchObject({ status: 'active' });
  });
});

describe('the egress policy on connections', () => {
  let database: TestDatabase;
  let service: TestService;
  let api: string;
  /** Counts the connections it accepts: a refused URL must never reach it. */
  let internal: nodeHttp.Server;
  let internalConnections = 0;
  let internalUrl: string;
  /** An allowed server that redirects every request to `internal`. */
  let redirector: nodeHttp.Server;
  let redirectorUrl: string;

  const listen = async (server: nodeHttp.Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  };
  const createWith = (baseUrl: string, name = `refused ${randomBytes(3).toString('hex')}`) =>
    http.post(api, { connectorId: 'hubspot', name, credentials: { accessToken: GOOD_TOKEN, baseUrl } }, auth);

  beforeAll(async () => {
    internal = nodeHttp.createServer((_req, res) => res.end('{}'));
    internal.on('connection', () => (internalConnections += 1));
    internalUrl = await listen(internal);
    redirector = nodeHttp.createServer((req, res) => {
      res.writeHead(307, { location: `${internalUrl}${req.url}` });
      res.end();
    });
    redirectorUrl = await listen(redirector);
    database = await createTestDatabase();
    // Only the HubSpot fake and the redirector are allowed; `internal` stands for the network inside.
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, EGRESS_ALLOW: allowFakes(hubspot, redirectorUrl) });
    api = `${service.url}/api/v1/connections`;
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
    await new Promise((resolve) => internal?.close(resolve));
    await new Promise((resolve) => redirector?.close(resolve));
  });

  it.each([
    ['a loopback address', () => internalUrl, /127\.0\.0\.1 is a loopback address/],
    ['a private address', () => 'http://10.0.0.1:8080', /10\.0\.0\.1 is a private address/],
    ['the cloud metadata address', () => 'http://169.254.169.254', /169\.254\.169\.254 is a linkLocal address/],
    ['an IPv4-mapped loopback address', () => `http://[::ffff:127.0.0.1]:${new URL(internalUrl).port}`, /loopback address/],
    ['a name that resolves to a loopback address', () => `http://localhost:${new URL(internalUrl).port}`, /localhost resolves to 127\.0\.0\.1 is a loopback address|localhost resolves to ::1 is a loopback address/],
  ])('refuses a base URL at %s with 422 and a reason, storing nothing', async (_what, url, reason) => {
    const res = await createWith(url());
    expect(res.status).toBe(422);
    expect(res.data.message).toMatch(/egress policy refuses/);
    expect(res.data.message).toMatch(reason);
    await expect(service.db.query(`SELECT count(*)::int AS n FROM connections`)).resolves.toEqual([{ n: 0 }]);
    expect(internalConnections).toBe(0);
  });

  it('refuses a base URL that redirects to an internal address, without reaching it', async () => {
    const res = await createWith(redirectorUrl);
    expect(res.status).toBe(422);
    expect(res.data.message).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(internalConnections).toBe(0);
  });

  it('refuses to change a connection to a refused base URL, keeping the old one', async () => {
    const created = await createWith(hubspot.url, 'allowed');
    expect(created.status).toBe(201);
    const res = await http.patch(`${api}/${created.data.id}`, { credentials: { accessToken: GOOD_TOKEN, baseUrl: 'http://192.168.0.10' } }, auth);
    expect(res.status).toBe(422);
    await expect(service.app.get(ConnectionsService).resolve(created.data.id)).resolves.toMatchObject({ credentials: { baseUrl: hubspot.url } });
    expect(internalConnections).toBe(0);
  });

  it('refuses to start when a connection declared by the environment points at a refused address', async () => {
    const s = service;
    const declaring = new DeclaredConnections(
      s.app.get(ConnectionsRepository),
      s.app.get(ConnectorRegistry),
      s.app.get(CredentialsCheck),
      s.app.get(ConnectionsService),
      s.app.get(Encryption),
      s.app.get(LOGGER),
      { HUBSPOT_ACCESS_TOKEN: GOOD_TOKEN, HUBSPOT_BASE_URL: 'http://169.254.169.254' },
    );
    await expect(declaring.onApplicationBootstrap()).rejects.toThrow(ConfigValidationError);
    await expect(declaring.onApplicationBootstrap()).rejects.toThrow(/egress policy refuses: 169\.254\.169\.254 is a linkLocal address/);
  });
});
