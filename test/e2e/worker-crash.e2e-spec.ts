import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { eventually, tempDir, TEST_ADMIN_KEY, TEST_APP_SECRET } from '../setup/test-service';

const SERVICE = path.resolve(process.cwd(), 'dist/test/setup/service-process.js');
const TOKEN = 'crash-test-token';

/**
 * A worker process is killed (SIGKILL) after HubSpot carried out its write but before it heard
 * back. The workers run with the shipped lease and sweeper settings: how soon another worker
 * takes over is part of what is tested.
 */
describe('a worker killed mid-drain', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let hubspot: HubspotFake;
  const children: ChildProcess[] = [];

  const start = async (): Promise<{ child: ChildProcess; url: string }> => {
    const child = fork(SERVICE, [], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: tempDir(),
        ADMIN_API_KEY: TEST_ADMIN_KEY,
        WHATSAPP_APP_SECRET: TEST_APP_SECRET,
        ENCRYPTION_KEY: 'a'.repeat(64),
        LOG_LEVEL: 'silent',
        EGRESS_ALLOW: new URL(hubspot.url).host,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { url: string }).url));
      child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
    });
    return { child, url };
  };

  beforeAll(async () => {
    if (!fs.existsSync(SERVICE)) throw new Error(`${SERVICE} is missing: npm test compiles it first`);
    database = await createTestDatabase();
    redis = await createTestRedis();
    hubspot = await startHubspotFake({ accessTokens: [TOKEN] });
  });

  afterAll(async () => {
    // Waited for, not only signalled: a worker still alive would write its queues' keys to Redis
    // again after redis.close() flushed them.
    const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(alive.map((c) => new Promise((resolve) => (c.once('exit', resolve), c.kill('SIGKILL')))));
    await hubspot?.close();
    await redis?.close();
    await database?.drop();
  });

  it('has another worker finish the drain within 15 s of the kill, leaving no duplicate in HubSpot', async () => {
    const first = await start();
    const api = axios.create({ baseURL: first.url, validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    const created = await api.post('/api/v1/connections', { connectorId: 'hubspot', name: 'HubSpot', credentials: { accessToken: TOKEN, baseUrl: hubspot.url } });
    expect(created.status).toBe(201);

    // HubSpot now carries out each write, then takes 5 s to answer it.
    hubspot.setOptions({ responseDelayMs: 5000 });
    const waId = '4915200000099';
    const texts = ['one', 'two', 'three'];
    const payload = { ...aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: texts[0] }) };
    payload.entry[0].changes[0].value.messages!.push(
      ...texts.slice(1).map((text, i) => ({ ...payload.entry[0].changes[0].value.messages![0], id: nextWamid(waId), text: { body: text }, timestamp: String(1_763_700_001 + i) })),
    );
    expect((await postMetaWebhook(`${first.url}/webhooks/whatsapp`, payload, TEST_APP_SECRET)).status).toBe(200);

    await eventually(async () => hubspot.communications().length === 3, 'HubSpot carried out the batch create', 30_000);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const killedAt = Date.now();
    hubspot.setOptions({ responseDelayMs: 0 });

    const second = await start();
    const check = axios.create({ baseURL: second.url, validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    await eventually(async () => {
      const res = await check.get('/api/v1/dead-letters');
      const { Client } = await import('pg');
      const c = new Client({ connectionString: database.url });
      await c.connect();
      const [{ open }] = (await c.query(`SELECT count(*)::int AS open FROM outbox WHERE queue = 'crm-sync' AND status <> 'done'`)).rows;
      await c.end();
      return res.status === 200 && open === 0;
    }, 'the second worker finished the drain', 15_000 - (Date.now() - killedAt));
    expect(Date.now() - killedAt).toBeLessThanOrEqual(15_000);

    const bodies = hubspot.communications().map((c) => c.properties.hs_communication_body);
    expect(bodies.filter((b) => texts.some((t) => b.includes(`>${t}<`)))).toHaveLength(3);
    expect(hubspot.contacts()).toHaveLength(1);
    second.child.kill('SIGTERM');
  }, 90_000);
});
