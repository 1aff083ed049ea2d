import { describe, expect, it } from '@jest/globals';
import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { Request, Response } from 'express';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { RequirePermission } from './access.decorators';
import { AccessGuard } from './access.guard';
import type { ApiKeysService } from './api-keys.service';
import type { AuditRepository, NewAuditEntry } from './audit.repository';
import { AuditService } from './audit.service';
import type { Principal } from './principal';

const PRINCIPALS: Record<string, Principal> = {
  'admin-key': { keyId: null, name: 'env-admin', role: 'admin' },
  'agent-key': { keyId: '00000000-0000-4000-8000-000000000001', name: 'support', role: 'agent' },
};

class SampleController {
  @RequirePermission('conversations:read')
  read() {}

  @RequirePermission('conversations:write')
  close() {}

  @RequirePermission('api-keys:manage')
  createKey() {}

  undeclared() {}
}

function setUp() {
  const logger = pino({ level: 'silent' });
  let lookups = 0;
  const keys = { authenticate: async (key?: string) => (lookups++, (key && PRINCIPALS[key]) || null) } as unknown as ApiKeysService;
  const rows: NewAuditEntry[] = [];
  const audit = new AuditService({ insert: async (row: NewAuditEntry) => void rows.push(row) } as unknown as AuditRepository, logger);
  const guard = new AccessGuard(new Reflector(), keys, audit, logger);

  /** Runs the guard for `handler` of SampleController, reached as `method route` with `key`. */
  const call = (handler: keyof SampleController, method: string, route: string, key?: string) => {
    const req = {
      method,
      route: { path: route },
      path: route,
      params: {},
      ip: '127.0.0.1',
      socket: {},
      header: (name: string) => (name.toLowerCase() === 'authorization' && key ? `Bearer ${key}` : undefined),
    } as unknown as Request;
    const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: false }) as unknown as Response & EventEmitter;
    const context = new ExecutionContextHost([req, res]);
    context.setType('http');
    Object.assign(context, { getClass: () => SampleController, getHandler: () => SampleController.prototype[handler] });
    /** Ends the response with `status`, as the exception filter would. */
    const answer = async (status: number) => {
      Object.assign(res, { statusCode: status, writableFinished: true });
      res.emit('finish');
      res.emit('close');
      await new Promise((r) => setImmediate(r));
    };
    return { outcome: guard.canActivate(context), answer };
  };
  return { call, rows, lookups: () => lookups };
}

describe('AccessGuard', () => {
  it('lets webhooks, probes and metrics through without a key or a lookup', async () => {
    const { call, lookups } = setUp();
    for (const route of ['/webhooks/whatsapp', '/webhooks/connections/:id', '/health/live', '/health/ready', '/metrics']) {
      await expect(call('undeclared', 'POST', route).outcome).resolves.toBe(true);
    }
    expect(lookups()).toBe(0);
  });

  it('answers 401 without a valid key, before looking at permissions', async () => {
    const { call } = setUp();
    await expect(call('read', 'GET', '/api/v1/sample').outcome).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(call('read', 'GET', '/api/v1/sample', 'wrong-key').outcome).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(call('undeclared', 'GET', '/api/v1/sample', 'wrong-key').outcome).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('allows a role with the permission and answers 403 to one without it', async () => {
    const { call } = setUp();
    await expect(call('read', 'GET', '/api/v1/sample', 'agent-key').outcome).resolves.toBe(true);
    await expect(call('close', 'POST', '/api/v1/sample/:id/close', 'agent-key').outcome).resolves.toBe(true);
    await expect(call('close', 'POST', '/api/v1/sample/:id/close', 'admin-key').outcome).resolves.toBe(true);
    await expect(call('createKey', 'POST', '/api/v1/api-keys', 'admin-key').outcome).resolves.toBe(true);
    await expect(call('createKey', 'POST', '/api/v1/api-keys', 'agent-key').outcome).rejects.toThrow("the role 'agent' lacks the permission api-keys:manage");
  });

  it('fails closed: a route without a declared permission is refused for every key, admin included', async () => {
    const { call } = setUp();
    for (const key of ['admin-key', 'agent-key']) {
      await expect(call('undeclared', 'GET', '/api/v1/sample', key).outcome).rejects.toBeInstanceOf(ForbiddenException);
      await expect(call('undeclared', 'GET', '/reports', key).outcome).rejects.toBeInstanceOf(ForbiddenException);
    }
    await expect(call('undeclared', 'GET', '/reports').outcome).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('records a refused mutation in the audit log with its 403, and no plain read', async () => {
    const { call, rows } = setUp();
    const refused = call('undeclared', 'DELETE', '/api/v1/sample/:id', 'agent-key');
    await expect(refused.outcome).rejects.toBeInstanceOf(ForbiddenException);
    await refused.answer(403);
    const read = call('undeclared', 'GET', '/api/v1/sample', 'agent-key');
    await expect(read.outcome).rejects.toBeInstanceOf(ForbiddenException);
    await read.answer(403);
    expect(rows).toEqual([
      expect.objectContaining({ actorKeyId: PRINCIPALS['agent-key'].keyId, actorName: 'support', actorRole: 'agent', method: 'DELETE', route: '/api/v1/sample/:id', status: 403, ip: '127.0.0.1' }),
    ]);
  });
});
