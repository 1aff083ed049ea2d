import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios, { type AxiosResponse } from 'axios';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PERMISSIONS, type Role, ROLES } from '../../src/admin/permissions';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { eventually, startTestService, TEST_ADMIN_KEY, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true });
const USER_AGENT = 'access-control-e2e/1.0';
const as = (key?: string) => ({ headers: { 'user-agent': USER_AGENT, ...(key ? { authorization: `Bearer ${key}` } : {}) } });

type Actor = Role | 'env-admin';
const ACTORS: Actor[] = ['env-admin', ...ROLES];

interface CreatedKey {
  id: string;
  key: string;
  name: string;
  role: Role;
  prefix: string;
}

describe('access control and audit log on Postgres + Redis', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let service: TestService;
  let api: string;
  const keys = {} as Record<Role, CreatedKey>;
  const keyOf = (actor: Actor) => (actor === 'env-admin' ? TEST_ADMIN_KEY : keys[actor].key);

  /** An open conversation of a new customer, as the webhook ingest stores it. */
  const anOpenConversation = async (): Promise<string> => {
    const waId = `4860${randomBytes(4).readUInt32BE() % 10_000_000}`.padEnd(11, '0');
    const [contact] = await service.db.query(`INSERT INTO contacts (wa_id, e164) VALUES ($1, $2) RETURNING id`, [waId, `+${waId}`]);
    const [conversation] = await service.db.query(
      `INSERT INTO conversations (contact_id, phone_number_id, display_phone_number, last_message_at, last_inbound_at) VALUES ($1, '106540352242922', '+1 555 0100', now(), now()) RETURNING id`,
      [contact.id],
    );
    return conversation.id;
  };
  const conversationStatus = async (id: string) => (await service.db.query(`SELECT status FROM conversations WHERE id = $1`, [id]))[0].status;
  const auditRows = async () => service.db.query(`SELECT * FROM audit_log ORDER BY id`);

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url });
    api = `${service.url}/api/v1`;
    for (const role of ROLES) {
      const res = await http.post(`${api}/api-keys`, { name: `${role} key`, role }, as(TEST_ADMIN_KEY));
      expect(res.status).toBe(201);
      keys[role] = res.data;
    }
  });

  afterAll(async () => {
    await service?.stop();
    await redis?.close();
    await database?.drop();
  });

  describe('API keys', () => {
    it('are created by the bootstrap key with a role; the key is shown once and stored only as its hash', async () => {
      for (const role of ROLES) {
        expect(keys[role]).toMatchObject({ name: `${role} key`, role, revokedAt: null, lastUsedAt: null });
        expect(keys[role].key).toMatch(/^tb_[A-Za-z0-9_-]{43}$/);
        expect(keys[role].prefix).toBe(keys[role].key.slice(0, 9));
      }
      const list = await http.get(`${api}/api-keys`, as(TEST_ADMIN_KEY));
      expect(list.status).toBe(200);
      expect(list.data.data.map((k: { id: string }) => k.id)).toEqual(expect.arrayContaining(ROLES.map((r) => keys[r].id)));
      const listed = JSON.stringify(list.data);
      const rows = await service.db.query(`SELECT * FROM api_keys`);
      for (const role of ROLES) {
        expect(listed).not.toContain(keys[role].key);
        const row = rows.find((r: { id: string }) => r.id === keys[role].id);
        expect(row.key_hash).toBe(createHash('sha256').update(keys[role].key).digest('hex'));
        expect(listed).not.toContain(row.key_hash);
        expect(JSON.stringify(row)).not.toContain(keys[role].key);
      }
      for (const k of list.data.data) expect(Object.keys(k).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'role']);
    });

    it('refuses an unknown role or a missing name with 400, creating nothing', async () => {
      const before = (await service.db.query(`SELECT count(*)::int AS n FROM api_keys`))[0].n;
      expect((await http.post(`${api}/api-keys`, { name: 'root', role: 'root' }, as(TEST_ADMIN_KEY))).status).toBe(400);
      expect((await http.post(`${api}/api-keys`, { role: 'agent' }, as(TEST_ADMIN_KEY))).status).toBe(400);
      await expect(service.db.query(`SELECT count(*)::int AS n FROM api_keys`)).resolves.toEqual([{ n: before }]);
    });

    it('answers 401 to a missing, unknown or malformed key on every kind of route', async () => {
      const unknown = `tb_${randomBytes(32).toString('base64url')}`;
      const routes: ((key?: string) => Promise<AxiosResponse>)[] = [
        (key) => http.get(`${api}/conversations`, as(key)),
        (key) => http.post(`${api}/conversations/${randomUUID()}/close`, {}, as(key)),
        (key) => http.get(`${api}/audit`, as(key)),
        (key) => http.post(`${api}/api-keys`, { name: 'x', role: 'admin' }, as(key)),
        (key) => http.delete(`${api}/connections/${randomUUID()}`, as(key)),
      ];
      for (const route of routes) {
        for (const key of [undefined, unknown, 'garbage', `${TEST_ADMIN_KEY}x`]) {
          const res = await route(key);
          expect(res.status).toBe(401);
          expect(res.data.message).toBe('a valid API key is required');
        }
      }
      // X-API-Key is accepted as well as the bearer header.
      expect((await http.get(`${api}/conversations`, { headers: { 'x-api-key': keys.agent.key } })).status).toBe(200);
    });

    it('stops a revoked key at once: 401, and the list shows when it was revoked', async () => {
      const created = await http.post(`${api}/api-keys`, { name: 'short-lived', role: 'agent' }, as(TEST_ADMIN_KEY));
      const { id, key } = created.data as CreatedKey;
      expect((await http.get(`${api}/conversations`, as(key))).status).toBe(200);
      expect((await http.get(`${api}/conversations`, as(key))).status).toBe(200);

      expect((await http.delete(`${api}/api-keys/${id}`, as(TEST_ADMIN_KEY))).status).toBe(204);
      expect((await http.get(`${api}/conversations`, as(key))).status).toBe(401);
      expect((await http.delete(`${api}/api-keys/${id}`, as(TEST_ADMIN_KEY))).status).toBe(404);
      expect((await http.delete(`${api}/api-keys/not-a-uuid`, as(TEST_ADMIN_KEY))).status).toBe(404);
      expect((await http.delete(`${api}/api-keys/${randomUUID()}`, as(TEST_ADMIN_KEY))).status).toBe(404);

      const listed = (await http.get(`${api}/api-keys`, as(TEST_ADMIN_KEY))).data.data.find((k: { id: string }) => k.id === id);
      expect(listed.revokedAt).not.toBeNull();
      expect(listed.lastUsedAt).not.toBeNull();
    });

    it('lets only admins manage keys: another role cannot create an admin key for itself', async () => {
      for (const role of ['agent', 'auditor', 'integrator'] as const) {
        const res = await http.post(`${api}/api-keys`, { name: `${role} escalates`, role: 'admin' }, as(keys[role].key));
        expect(res.status).toBe(403);
        expect(res.data.message).toBe(`the role '${role}' lacks the permission api-keys:manage`);
        expect((await http.delete(`${api}/api-keys/${keys.admin.id}`, as(keys[role].key))).status).toBe(403);
      }
      await expect(service.db.query(`SELECT name FROM api_keys WHERE name LIKE '% escalates'`)).resolves.toEqual([]);
      await expect(service.db.query(`SELECT revoked_at FROM api_keys WHERE id = $1`, [keys.admin.id])).resolves.toEqual([{ revoked_at: null }]);
    });
  });

  describe('each role on each kind of endpoint', () => {
    const missing = randomUUID();
    /** The status an allowed caller gets (a random id does not exist: 404, as without access control). */
    const CASES: { what: string; call: (key: string) => Promise<AxiosResponse>; allowed: number; roles: Actor[] }[] = [
      { what: 'read conversations', call: (key) => http.get(`${api}/conversations`, as(key)), allowed: 200, roles: ['env-admin', 'admin', 'agent', 'auditor'] },
      { what: 'read messages', call: (key) => http.get(`${api}/conversations/${missing}/messages`, as(key)), allowed: 404, roles: ['env-admin', 'admin', 'agent', 'auditor'] },
      { what: 'read contacts', call: (key) => http.get(`${api}/contacts`, as(key)), allowed: 200, roles: ['env-admin', 'admin', 'agent', 'auditor'] },
      { what: 'close a conversation', call: (key) => http.post(`${api}/conversations/${missing}/close`, {}, as(key)), allowed: 404, roles: ['env-admin', 'admin', 'agent'] },
      { what: 'read connections', call: (key) => http.get(`${api}/connections`, as(key)), allowed: 200, roles: ['env-admin', 'admin', 'auditor', 'integrator'] },
      { what: 'manage connections', call: (key) => http.delete(`${api}/connections/${missing}`, as(key)), allowed: 404, roles: ['env-admin', 'admin', 'integrator'] },
      { what: 'read the audit log', call: (key) => http.get(`${api}/audit`, as(key)), allowed: 200, roles: ['env-admin', 'admin', 'auditor'] },
      { what: 'manage API keys', call: (key) => http.get(`${api}/api-keys`, as(key)), allowed: 200, roles: ['env-admin', 'admin'] },
      { what: 'read dead letters', call: (key) => http.get(`${api}/dead-letters`, as(key)), allowed: 200, roles: ['env-admin', 'admin', 'auditor'] },
      { what: 'replay a dead letter', call: (key) => http.post(`${api}/dead-letters/987654321/replay`, {}, as(key)), allowed: 404, roles: ['env-admin', 'admin'] },
      { what: 'read the quarantine', call: (key) => http.get(`${api}/quarantine`, as(key)), allowed: 200, roles: ['env-admin', 'admin', 'auditor'] },
    ];

    it.each(CASES.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
      const got: Record<string, number> = {};
      for (const actor of ACTORS) got[actor] = (await c.call(keyOf(actor))).status;
      expect(got).toEqual(Object.fromEntries(ACTORS.map((actor) => [actor, c.roles.includes(actor) ? c.allowed : 403])));
    });

    it('lets an agent close a conversation, and leaves it open when an auditor or integrator tries', async () => {
      const id = await anOpenConversation();
      for (const role of ['auditor', 'integrator'] as const) {
        expect((await http.post(`${api}/conversations/${id}/close`, {}, as(keys[role].key))).status).toBe(403);
      }
      await expect(conversationStatus(id)).resolves.toBe('open');
      const closed = await http.post(`${api}/conversations/${id}/close`, {}, as(keys.agent.key));
      expect(closed.status).toBe(200);
      expect(closed.data).toMatchObject({ id, status: 'closed' });
      await expect(conversationStatus(id)).resolves.toBe('closed');
    });
  });

  describe('audit log', () => {
    it('holds every mutating call with actor, route, target, status, IP and user agent — refusals included, reads not', async () => {
      const id = await anOpenConversation();
      expect((await http.post(`${api}/conversations/${id}/close`, {}, as(keys.auditor.key))).status).toBe(403);
      expect((await http.post(`${api}/conversations/${id}/close`, {}, as(keys.agent.key))).status).toBe(200);
      expect((await http.get(`${api}/conversations/${id}/messages`, as(keys.agent.key))).status).toBe(200);

      const rows = await eventually(async () => {
        const all = await auditRows();
        return all.filter((r: { target_id: string }) => r.target_id === id).length >= 2 && all;
      }, 'audit rows of the close calls');
      const ofConversation = rows.filter((r: { target_id: string }) => r.target_id === id);
      expect(ofConversation).toEqual([
        expect.objectContaining({ actor_key_id: keys.auditor.id, actor_name: 'auditor key', actor_role: 'auditor', method: 'POST', route: '/api/v1/conversations/:id/close', params: { id }, status: 403 }),
        expect.objectContaining({ actor_key_id: keys.agent.id, actor_name: 'agent key', actor_role: 'agent', method: 'POST', route: '/api/v1/conversations/:id/close', params: { id }, status: 200 }),
      ]);
      for (const row of ofConversation) {
        expect(row.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
        expect(row.user_agent).toBe(USER_AGENT);
        expect(row.at).toBeInstanceOf(Date);
      }

      // Key creation by the bootstrap key: actor env-admin, target the new key, no body stored.
      const creations = rows.filter((r: { route: string; method: string; status: number }) => r.route === '/api/v1/api-keys' && r.method === 'POST' && r.status === 201);
      expect(creations.map((r: { target_id: string }) => r.target_id)).toEqual(expect.arrayContaining(ROLES.map((role) => keys[role].id)));
      for (const row of creations) expect(row).toMatchObject({ actor_key_id: null, actor_name: 'env-admin', actor_role: 'admin', params: {} });
      // Refused escalations, revocations and 404s are there; plain reads and unauthenticated calls are not.
      expect(rows).toEqual(expect.arrayContaining([
        expect.objectContaining({ actor_key_id: keys.integrator.id, method: 'POST', route: '/api/v1/api-keys', status: 403 }),
        expect.objectContaining({ actor_name: 'env-admin', method: 'DELETE', route: '/api/v1/api-keys/:id', status: 204 }),
        expect.objectContaining({ actor_key_id: keys.integrator.id, method: 'DELETE', route: '/api/v1/connections/:id', status: 404 }),
        expect.objectContaining({ actor_name: 'env-admin', method: 'POST', route: '/api/v1/dead-letters/:id/replay', params: { id: '987654321' }, status: 404 }),
      ]));
      expect(rows.filter((r: { method: string }) => r.method === 'GET')).toEqual([]);
      expect(rows.filter((r: { status: number }) => r.status === 401)).toEqual([]);
      const text = JSON.stringify(rows);
      for (const role of ROLES) expect(text).not.toContain(keys[role].key);
      expect(text).not.toContain(TEST_ADMIN_KEY);
    });

    it('can be read by an auditor, with actors, but not by an agent or an integrator', async () => {
      const res = await eventually(async () => {
        const r = await http.get(`${api}/audit`, { params: { actor: keys.agent.id }, ...as(keys.auditor.key) });
        return r.data.data?.some((e: { status: number }) => e.status === 200) && r;
      }, "the agent's close in the audit log");
      expect(res.status).toBe(200);
      expect(res.data.data.length).toBeGreaterThan(0);
      for (const entry of res.data.data) {
        expect(entry.actor).toEqual({ keyId: keys.agent.id, name: 'agent key', role: 'agent' });
        expect(Object.keys(entry).sort()).toEqual(['actor', 'at', 'id', 'ip', 'method', 'params', 'route', 'status', 'targetId', 'userAgent']);
      }
      expect(res.data.data).toEqual(expect.arrayContaining([
        expect.objectContaining({ method: 'POST', route: '/api/v1/conversations/:id/close', status: 200, userAgent: USER_AGENT }),
        expect.objectContaining({ method: 'POST', route: '/api/v1/api-keys', status: 403 }),
      ]));
      for (const role of ['agent', 'integrator'] as const) {
        const refused = await http.get(`${api}/audit`, as(keys[role].key));
        expect(refused.status).toBe(403);
        expect(JSON.stringify(refused.data)).not.toContain('/api/v1/');
      }
    });

    it('filters by actor and time, and pages newest first with the keyset cursor', async () => {
      const admin = as(TEST_ADMIN_KEY);
      const envAdmin = await http.get(`${api}/audit`, { params: { actor: 'env-admin', limit: 200 }, ...admin });
      expect(envAdmin.status).toBe(200);
      expect(envAdmin.data.data.length).toBeGreaterThanOrEqual(ROLES.length);
      expect(envAdmin.data.data.every((e: { actor: { name: string; keyId: string | null } }) => e.actor.name === 'env-admin' && e.actor.keyId === null)).toBe(true);

      const future = new Date(Date.now() + 3_600_000).toISOString();
      await expect(http.get(`${api}/audit`, { params: { since: future }, ...admin }).then((r) => r.data)).resolves.toEqual({ data: [], nextCursor: null });
      const past = new Date(Date.now() - 3_600_000).toISOString();
      const all = (await http.get(`${api}/audit`, { params: { since: past, limit: 200 }, ...admin })).data.data as { id: string }[];
      expect(all.length).toBeGreaterThan(3);

      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await http.get(`${api}/audit`, { params: { since: past, limit: 2, cursor }, ...admin });
        expect(page.status).toBe(200);
        expect(page.data.data.length).toBeLessThanOrEqual(2);
        paged.push(...page.data.data.map((e: { id: string }) => e.id));
        cursor = page.data.nextCursor ?? undefined;
      } while (cursor && paged.length <= all.length);
      expect(paged).toEqual(all.map((e) => e.id));
      expect([...paged].map(Number)).toEqual([...paged].map(Number).sort((a, b) => b - a));

      expect((await http.get(`${api}/audit`, { params: { cursor: 'not-a-cursor' }, ...admin })).status).toBe(400);
      const forged = Buffer.from(JSON.stringify({ id: "1; DROP TABLE audit_log" })).toString('base64url');
      expect((await http.get(`${api}/audit`, { params: { cursor: forged }, ...admin })).status).toBe(400);
      expect((await http.get(`${api}/audit`, { params: { since: 'yesterday' }, ...admin })).status).toBe(400);
    });

    it('keeps its rows unchangeable', async () => {
      await expect(service.db.query(`UPDATE audit_log SET status = 200 WHERE status = 403`)).rejects.toThrow(/audit_log rows cannot be changed/);
    });
  });

  describe('API docs', () => {
    it('name the permission of every /api/v1 operation and describe the roles', async () => {
      const res = await http.get(`${service.url}/docs-json`);
      expect(res.status).toBe(200);
      const operations = Object.entries(res.data.paths as Record<string, Record<string, { 'x-permission'?: string }>>)
        .filter(([path]) => path.startsWith('/api/v1/'))
        .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ op: `${method.toUpperCase()} ${path}`, permission: op['x-permission'] })));
      expect(operations.length).toBeGreaterThanOrEqual(14);
      const undeclared = operations.filter((o) => !(PERMISSIONS as readonly (string | undefined)[]).includes(o.permission)).map((o) => o.op);
      expect(undeclared).toEqual([]);
      expect(operations).toEqual(expect.arrayContaining([{ op: 'POST /api/v1/conversations/{id}/close', permission: 'conversations:write' }, { op: 'GET /api/v1/audit', permission: 'audit:read' }]));
      for (const role of ROLES) expect(res.data.info.description).toContain(`| ${role} |`);
      expect(Object.keys(res.data.components.securitySchemes)).toEqual(['bearer']);
    });
  });
});
