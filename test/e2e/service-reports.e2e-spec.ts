import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { startTestService, TEST_ADMIN_KEY, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true });
const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
const NUMBER = '100000000000077';

/**
 * A seeded set of conversations of one business number, open Mon–Fri 09:00–17:00 UTC, and the
 * report's figures computed by hand below (2026-11-02 is a Monday).
 *
 *      opened          handoff  first response   resolved        route    replies  path
 * c1   Mon 10:00       –        Mon 10:30        Mon 12:00       orders   2        –
 * c2   Mon 16:30       –        Tue 09:30        Tue 10:00       orders   1        –
 * c3   Sat 12:00       –        Mon⁺ 09:15       Mon⁺ 11:00      returns  1        –
 * c4   Tue 11:00       11:05    Tue 11:20        –               returns  1        menu, option:returns
 * c5   Wed 09:00       –        –                Wed 18:00       –        0        menu
 *
 * First response, calendar: 1800, 61200 (17 h), 162900 (45 h 15), 900 (from the handoff)
 *   sorted 900 1800 61200 162900 → median (1800 + 61200) / 2 = 31500; p90 = rank ⌈3.6⌉ = 4th = 162900
 * First response, business: 1800; 30 min Mon + 30 min Tue = 3600; 900 (Mon 09:00–09:15); 900
 *   sorted 900 900 1800 3600 → median 1350; p90 3600
 * Resolution, calendar: 7200, 63000 (17 h 30), 169200 (47 h), 32400 (9 h)
 *   sorted 7200 32400 63000 169200 → median 47700; p90 169200
 * Resolution, business: 7200; 1800 + 3600 = 5400; 7200 (Mon 09:00–11:00); 28800 (Wed 09:00–17:00)
 *   sorted 5400 7200 7200 28800 → median 7200; p90 28800
 * Answered within 1 h: calendar c1, c4 of 5 (c5 unanswered, long past its hour) = 0.4;
 *   business c1, c2 (exactly 1 h), c3, c4 of 5 = 0.8
 * Replies per conversation: 2 1 1 1 0 → mean 1, median 1
 */
describe('service report', () => {
  let database: TestDatabase;
  let service: TestService;

  const seed = async (c: { id: number; opened: string; handoff?: string; first?: string; resolved?: string; route?: string; replies: number; path?: string[] }) => {
    const [{ id: contactId }] = await service.db.query(`INSERT INTO contacts (wa_id, e164) VALUES ($1, $2) RETURNING id`, [`4860020000${c.id}`, `+4860020000${c.id}`]);
    const [{ id }] = await service.db.query(
      `INSERT INTO conversations (contact_id, phone_number_id, status, opened_at, first_response_at, resolved_at, closed_at, route)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id`,
      [contactId, NUMBER, c.resolved ? 'closed' : 'open', c.opened, c.first ?? null, c.resolved ?? null, c.route ?? null],
    );
    if (c.handoff || c.path) {
      await service.db.query(`INSERT INTO conversation_service (conversation_id, handoff_at, triage_path) VALUES ($1, $2, $3)`, [id, c.handoff ?? null, c.path ?? []]);
    }
    await service.db.query(
      `INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, wa_timestamp, status, origin)
       VALUES ($1, $2, $3, 'inbound', 'text', 'Hello', $4, 'received', 'whatsapp')`,
      [`wamid.report.${c.id}.in`, id, contactId, c.opened],
    );
    for (let r = 0; r < c.replies; r++) {
      await service.db.query(
        `INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, wa_timestamp, status, status_rank, origin, author)
         VALUES ($1, $2, $3, 'outbound', 'text', 'Answer', $4, 'delivered', 2, 'api', 'Ana')`,
        [`wamid.report.${c.id}.out${r}`, id, contactId, c.first],
      );
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: database.url });
    const hours = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, ['09:00-17:00']]));
    expect((await http.put(`${service.url}/api/v1/service-policy/${NUMBER}`, { timeZone: 'UTC', hours }, as(TEST_ADMIN_KEY))).status).toBe(201);
    await seed({ id: 1, opened: '2026-11-02T10:00:00Z', first: '2026-11-02T10:30:00Z', resolved: '2026-11-02T12:00:00Z', route: 'orders', replies: 2 });
    await seed({ id: 2, opened: '2026-11-02T16:30:00Z', first: '2026-11-03T09:30:00Z', resolved: '2026-11-03T10:00:00Z', route: 'orders', replies: 1 });
    await seed({ id: 3, opened: '2026-11-07T12:00:00Z', first: '2026-11-09T09:15:00Z', resolved: '2026-11-09T11:00:00Z', route: 'returns', replies: 1 });
    await seed({ id: 4, opened: '2026-11-03T11:00:00Z', handoff: '2026-11-03T11:05:00Z', first: '2026-11-03T11:20:00Z', route: 'returns', replies: 1, path: ['menu', 'option:returns'] });
    await seed({ id: 5, opened: '2026-11-04T09:00:00Z', resolved: '2026-11-04T18:00:00Z', replies: 0, path: ['menu'] });
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  const report = (query: string, key = TEST_ADMIN_KEY) => http.get(`${service.url}/api/v1/reports/service?${query}`, as(key));

  it('gives the medians, p90s and shares computed by hand, in calendar time and in business hours', async () => {
    const res = await report('from=2026-11-01&to=2026-11-30&groupBy=number');
    expect(res.status).toBe(200);
    expect(res.data.groups).toEqual([
      {
        key: NUMBER,
        conversations: 5,
        answered: 4,
        resolved: 4,
        firstResponse: { calendar: { median: 31500, p90: 162900 }, business: { median: 1350, p90: 3600 } },
        resolution: { calendar: { median: 47700, p90: 169200 }, business: { median: 7200, p90: 28800 } },
        answeredWithin1h: { calendar: 0.4, business: 0.8 },
        repliesPerConversation: { mean: 1, median: 1 },
        triage: { shown: 2, chosen: { returns: 1 }, askedForHuman: {}, timedOut: 0, droppedOff: { menu: 1 } },
      },
    ]);
  });

  it('groups by route and by day', async () => {
    const byRoute = (await report('from=2026-11-01&to=2026-11-30&groupBy=route')).data.groups;
    expect(byRoute.map((g: { key: string; conversations: number }) => [g.key, g.conversations])).toEqual([
      ['none', 1],
      ['orders', 2],
      ['returns', 2],
    ]);
    // orders: first responses 1800 and 61200 → median 31500, p90 61200.
    expect(byRoute[1].firstResponse.calendar).toEqual({ median: 31500, p90: 61200 });
    const byDay = (await report('from=2026-11-01&to=2026-11-30&groupBy=day')).data.groups;
    expect(byDay.map((g: { key: string }) => g.key)).toEqual(['2026-11-02', '2026-11-03', '2026-11-04', '2026-11-07']);
  });

  it('counts only conversations opened in [from, to), and refuses a bad range', async () => {
    const one = (await report('from=2026-11-02T00:00:00Z&to=2026-11-02T12:00:00Z&groupBy=number')).data.groups;
    expect(one.map((g: { conversations: number }) => g.conversations)).toEqual([1]);
    expect((await report('from=2026-11-30&to=2026-11-01')).status).toBe(400);
    expect((await report('from=yesterday')).status).toBe(400);
    expect((await report('groupBy=colour')).status).toBe(400);
  });

  it('is for agents, auditors and admins', async () => {
    const keys: Record<string, string> = {};
    for (const role of ['agent', 'auditor', 'integrator']) keys[role] = (await http.post(`${service.url}/api/v1/api-keys`, { name: role, role }, as(TEST_ADMIN_KEY))).data.key;
    expect((await report('groupBy=number', keys.agent)).status).toBe(200);
    expect((await report('groupBy=number', keys.auditor)).status).toBe(200);
    expect((await report('groupBy=number', keys.integrator)).status).toBe(403);
  });
});
