import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ExecutionContext, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/configuration';
import { createTestDatabase, type TestDatabase } from '../../test/setup/test-database';
import { PERMISSION_KEY } from '../admin/access.decorators';
import { ApiKeysRepository } from '../admin/api-keys.repository';
import { ApiKeysService } from '../admin/api-keys.service';
import type { AuditService } from '../admin/audit.service';
import { createDataSource } from '../data-source';
import { ConsoleForbidden, ConsoleGuard, ConsoleSignInRequired } from './console.guard';
import { ConsoleSessionsRepository } from './console-sessions.repository';
import { ConsoleSessionsService, SESSION_COOKIE } from './console-sessions.service';

/**
 * Console sessions on a real Postgres: how long they last, that a revoked key ends them, and that
 * the guard refuses a form post without its session's CSRF token before the handler runs.
 */
describe('console sessions', () => {
  let database: TestDatabase;
  let db: DataSource;
  let keys: ApiKeysService;
  let sessions: ConsoleSessionsService;
  let guard: ConsoleGuard;
  const audit = { isAudited: (method: string) => method !== 'GET', recordWhenDone: () => undefined } as unknown as AuditService;

  /** A handler that changes something when it runs, guarded as the console's actions are. */
  let changes = 0;
  const action = () => {
    changes++;
  };
  SetMetadata(PERMISSION_KEY, 'conversations:write')(action, undefined as never, { value: action } as PropertyDescriptor);
  const context = (req: Record<string, unknown>): ExecutionContext =>
    ({
      getHandler: () => action,
      getClass: () => class Controller {},
      switchToHttp: () => ({ getRequest: () => ({ params: {}, route: { path: '/console/test' }, baseUrl: '', originalUrl: '/console/test', path: '/console/test', ...req }), getResponse: () => ({}) }),
    }) as unknown as ExecutionContext;
  const run = async (req: Record<string, unknown>) => {
    if (await guard.canActivate(context(req))) action();
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await createDataSource(database.url, 3).initialize();
    keys = new ApiKeysService(new ApiKeysRepository(db), { admin: {} } as AppConfig, pino({ level: 'silent' }));
    sessions = new ConsoleSessionsService(new ConsoleSessionsRepository(db), keys);
    guard = new ConsoleGuard(new Reflector(), sessions, audit, { sandbox: { enabled: false, fakeCloudApi: false } } as AppConfig);
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('lasts until its expiry, then is refused', async () => {
    const { key } = await keys.create({ name: 'Agent', role: 'agent' });
    const longAgo = new Date(Date.now() - 13 * 3600_000); // signed in 13 hours ago: a 12-hour session has ended
    const old = await sessions.signIn(key, longAgo);
    const fresh = await sessions.signIn(key);
    expect(old!.session.expiresAt.getTime()).toBeLessThan(Date.now());
    await expect(sessions.resolve(old!.token)).resolves.toBeNull();
    await expect(sessions.resolve(fresh!.token)).resolves.toMatchObject({ principal: { role: 'agent' } });
    await expect(run({ method: 'GET', headers: { cookie: `${SESSION_COOKIE}=${old!.token}` } })).rejects.toBeInstanceOf(ConsoleSignInRequired);
  });

  it('ends when its key is revoked', async () => {
    const created = await keys.create({ name: 'Agent', role: 'agent' });
    const signedIn = await sessions.signIn(created.key);
    await expect(sessions.resolve(signedIn!.token)).resolves.not.toBeNull();
    await keys.revoke(created.id);
    await expect(sessions.resolve(signedIn!.token)).resolves.toBeNull();
    // And stays ended: the session row is gone, not merely refused.
    await expect(sessions.resolve(signedIn!.token)).resolves.toBeNull();
  });

  it('refuses a form post without, or with a wrong, CSRF token, and runs nothing', async () => {
    const { key } = await keys.create({ name: 'Admin', role: 'admin' });
    const signedIn = await sessions.signIn(key);
    const cookie = `${SESSION_COOKIE}=${signedIn!.token}`;
    const before = changes;
    await expect(run({ method: 'POST', headers: { cookie }, body: {} })).rejects.toBeInstanceOf(ConsoleForbidden);
    await expect(run({ method: 'POST', headers: { cookie }, body: { _csrf: 'not-the-token' } })).rejects.toBeInstanceOf(ConsoleForbidden);
    await expect(run({ method: 'POST', headers: { cookie, 'x-csrf-token': `${signedIn!.session.csrfToken}x` }, body: {} })).rejects.toBeInstanceOf(ConsoleForbidden);
    expect(changes).toBe(before);
    await run({ method: 'POST', headers: { cookie }, body: { _csrf: signedIn!.session.csrfToken } });
    await run({ method: 'POST', headers: { cookie, 'x-csrf-token': signedIn!.session.csrfToken }, body: {} });
    expect(changes).toBe(before + 2);
  });

  it('refuses a role without the permission, token or not', async () => {
    const { key } = await keys.create({ name: 'Auditor', role: 'auditor' });
    const signedIn = await sessions.signIn(key);
    await expect(run({ method: 'POST', headers: { cookie: `${SESSION_COOKIE}=${signedIn!.token}` }, body: { _csrf: signedIn!.session.csrfToken } })).rejects.toBeInstanceOf(ConsoleForbidden);
  });
});
