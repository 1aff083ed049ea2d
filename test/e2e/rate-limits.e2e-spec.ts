import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios, { type AxiosResponse } from 'axios';
import { randomUUID } from 'node:crypto';
import { ApiKeysService } from '../../src/admin/api-keys.service';
import { aTextMessageWebhook } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { startTestService, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true });
const PER_KEY = 5;
const PER_IP = 8;
/** Behind TRUST_PROXY=loopback each test speaks from an address of its own (X-Forwarded-For). */
const LIMITS = { API_RATE_LIMIT_PER_MINUTE: String(PER_KEY), API_RATE_LIMIT_PER_IP_PER_MINUTE: String(PER_IP), TRUST_PROXY: 'loopback' };

const from = (ip: string, key?: string) => ({ headers: { 'x-forwarded-for': ip, ...(key ? { authorization: `Bearer ${key}` } : {}) } });

function expectRefused(res: AxiosResponse, per: 'API key' | 'client address', limit: number): void {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.data).toEqual({ statusCode: 429, error: 'Too Many Requests', message: `rate limit exceeded: ${limit} requests per minute per ${per}` });
}

async function newKeys(service: TestService, count: number): Promise<string[]> {
  const keys = service.app.get(ApiKeysService);
  const created: string[] = [];
  for (let i = 0; i < count; i++) created.push((await keys.create({ name: `rate ${randomUUID()}`, role: 'auditor' })).key);
  return created;
}

describe('rate limits of the operator API, counted in Redis by two API processes', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let services: TestService[];
  let keys: string[];
  /** The i-th request goes to one process, the next to the other. */
  const urlOf = (i: number) => services[i % 2].url;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, ROLE: 'api', ...LIMITS };
    services = [await startTestService(env), await startTestService(env)];
    keys = await newKeys(services[0], 5);
  });

  afterAll(async () => {
    for (const service of services ?? []) await service?.stop();
    await redis?.close();
    await database?.drop();
  });

  it('answers the request past a key’s limit with 429 and Retry-After, across processes; another key still passes', async () => {
    const [a, b] = keys;
    const statuses: number[] = [];
    for (let i = 0; i < PER_KEY; i++) statuses.push((await http.get(`${urlOf(i)}/api/v1/conversations`, from('198.51.100.1', a))).status);
    expect(statuses).toEqual(Array(PER_KEY).fill(200));

    expectRefused(await http.get(`${urlOf(PER_KEY)}/api/v1/conversations`, from('198.51.100.1', a)), 'API key', PER_KEY);
    expectRefused(await http.get(`${urlOf(PER_KEY + 1)}/api/v1/contacts`, from('198.51.100.1', a)), 'API key', PER_KEY);

    // The same address, another key: under both of its limits (7 of 8 requests from it so far).
    expect((await http.get(`${urlOf(0)}/api/v1/conversations`, from('198.51.100.1', b))).status).toBe(200);
  });

  it('limits a client address across keys, and counts requests without a key against it', async () => {
    const [, , c, d, e] = keys;
    const ip = '198.51.100.2';
    const statuses: number[] = [];
    // PER_IP requests from one address, none of its keys over PER_KEY.
    for (let i = 0; i < PER_IP; i++) statuses.push((await http.get(`${urlOf(i)}/api/v1/conversations`, from(ip, i % 2 ? c : d))).status);
    expect(statuses).toEqual(Array(PER_IP).fill(200));

    expectRefused(await http.get(`${urlOf(0)}/api/v1/conversations`, from(ip, e)), 'client address', PER_IP);
    expectRefused(await http.get(`${urlOf(1)}/api/v1/conversations`, from(ip)), 'client address', PER_IP);
    // Another address is not affected: without a key it gets the usual 401, with one an answer.
    expect((await http.get(`${urlOf(0)}/api/v1/conversations`, from('198.51.100.3'))).status).toBe(401);
    expect((await http.get(`${urlOf(1)}/api/v1/conversations`, from('198.51.100.3', e))).status).toBe(200);
  });

  it('counts unauthenticated requests against their address', async () => {
    const ip = '198.51.100.4';
    const statuses: number[] = [];
    for (let i = 0; i < PER_IP; i++) statuses.push((await http.get(`${urlOf(i)}/api/v1/conversations`, from(ip, i % 2 ? 'not-a-key' : undefined))).status);
    expect(statuses).toEqual(Array(PER_IP).fill(401));
    expectRefused(await http.get(`${urlOf(0)}/api/v1/conversations`, from(ip)), 'client address', PER_IP);
  });

  it('never limits webhooks from Meta or the CRMs, probes or metrics, even from a limited address', async () => {
    const ip = '198.51.100.2'; // over its limit since the test above
    expect((await http.get(`${urlOf(0)}/api/v1/conversations`, from(ip, keys[4]))).status).toBe(429);

    const deliveries = await Promise.all(
      Array.from({ length: 3 * PER_IP }, (_, i) =>
        postMetaWebhook(`${urlOf(i)}/webhooks/whatsapp`, aTextMessageWebhook({ text: `burst ${i}` }), TEST_APP_SECRET, { headers: { 'x-forwarded-for': ip } }),
      ),
    );
    expect(deliveries.map((d) => d.status)).toEqual(Array(3 * PER_IP).fill(200));
    const [{ count }] = await services[0].db.query(`SELECT count(*)::int AS count FROM messages WHERE body LIKE 'burst %'`);
    expect(count).toBe(3 * PER_IP);

    // A CRM's webhook for a connection that does not exist: its own answer (404), never 429.
    const crm = await Promise.all(Array.from({ length: 2 * PER_IP }, (_, i) => http.post(`${urlOf(i)}/webhooks/connections/${randomUUID()}`, '{}', from(ip))));
    expect(crm.map((r) => r.status)).toEqual(Array(2 * PER_IP).fill(404));

    const probes = await Promise.all(
      Array.from({ length: 2 * PER_IP }, (_, i) => http.get(`${urlOf(i)}${['/health/live', '/health/ready', '/metrics'][i % 3]}`, from(ip))),
    );
    expect(probes.map((r) => r.status)).toEqual(Array(2 * PER_IP).fill(200));
  });
});

describe('rate limits without Redis (one process counts in memory)', () => {
  let database: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: database.url, ROLE: 'api', ...LIMITS });
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('refuses a key past its limit with Retry-After while another key passes', async () => {
    const [a, b] = await newKeys(service, 2);
    const statuses: number[] = [];
    for (let i = 0; i < PER_KEY; i++) statuses.push((await http.get(`${service.url}/api/v1/contacts`, from('192.0.2.1', a))).status);
    expect(statuses).toEqual(Array(PER_KEY).fill(200));
    expectRefused(await http.get(`${service.url}/api/v1/contacts`, from('192.0.2.1', a)), 'API key', PER_KEY);
    expect((await http.get(`${service.url}/api/v1/contacts`, from('192.0.2.1', b))).status).toBe(200);
  });
});
