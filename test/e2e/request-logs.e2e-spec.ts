import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { captureLogs, startTestService, TEST_ADMIN_KEY, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true });

/** What an operator reads in the logs at the default level: one line per request, nothing personal. */
describe('request logs', () => {
  let database: TestDatabase;
  let service: TestService;
  const { sink, lines } = captureLogs();

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: database.url, ROLE: 'api' }, { logDestination: sink, logLevel: 'info' });
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('logs method, route, status, duration and request id — not the URL, query or body', async () => {
    const res = await http.get(`${service.url}/api/v1/contacts?phone=%2B48601234567`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'x-request-id': 'req-abc-1' } });
    expect(res.status).toBe(400); // the listing takes no phone filter: refused, and logged as such
    const line = lines.find((l) => (l.req as { id?: string } | undefined)?.id === 'req-abc-1');
    expect(line).toMatchObject({ msg: 'request', req: { method: 'GET' }, route: '/api/v1/contacts', res: { status: 400 } });
    expect(typeof line?.responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('48601234567');
    expect(JSON.stringify(lines)).not.toContain(TEST_ADMIN_KEY);
  });

  it('gives every request an id when the proxy sends none, and logs a refusal as a warning', async () => {
    const before = lines.length;
    const res = await http.get(`${service.url}/api/v1/contacts`);
    expect(res.status).toBe(401);
    const line = lines.slice(before).find((l) => l.msg === 'request');
    expect(line).toMatchObject({ level: 40, res: { status: 401 } });
    expect((line?.req as { id?: string }).id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps Nest start-up chatter (a line per route) below info', () => {
    expect(lines.filter((l) => /Mapped \{/.test(String(l.msg)))).toEqual([]);
  });
});
