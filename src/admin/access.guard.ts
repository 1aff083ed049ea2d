import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger';
import { AUDIT_EXPORT_KEY, PERMISSION_KEY } from './access.decorators';
import { apiKeyFrom } from './api-key.guard';
import { ApiKeysService } from './api-keys.service';
import { AuditService } from './audit.service';
import { type Permission, roleAllows } from './permissions';
import { type Principal, setAccess } from './principal';

/**
 * Routes open without an API key: probes, metrics and webhooks (which check their senders'
 * signatures themselves), and the console, whose own guard checks its session cookie and then
 * the same permissions (src/console/console.guard.ts). The API docs are served outside Nest's
 * router and never reach the guard.
 */
const PUBLIC_ROUTES = [/^\/health\//, /^\/metrics$/, /^\/webhooks\//, /^\/console(\/|$)/];

/** The route pattern a request matched (e.g. /api/v1/connections/:id), never the concrete URL. */
export function routePattern(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : req.path;
}

export function isPublicRoute(route: string): boolean {
  return PUBLIC_ROUTES.some((re) => re.test(route));
}

/**
 * The one access rule, for every guard that has found its caller (an API key here, a console
 * session in src/console): the permission the route declares against the caller's role. Marks the
 * request for the audit (mutations and exports), and records a refusal itself, as interceptors do
 * not run when a guard refuses. Returns null when allowed, else what was missing.
 */
export function checkAccess(reflector: Reflector, audit: AuditService, context: ExecutionContext, principal: Principal): { permission: Permission | undefined } | null {
  const req = context.switchToHttp().getRequest<Request>();
  const targets = [context.getHandler(), context.getClass()];
  const permission = reflector.getAllAndOverride<Permission | undefined>(PERMISSION_KEY, targets);
  const isExport = reflector.getAllAndOverride<boolean | undefined>(AUDIT_EXPORT_KEY, targets) === true;
  setAccess(req, { principal, route: routePattern(req), permission, audited: audit.isAudited(req.method, isExport) });
  if (permission && roleAllows(principal.role, permission)) return null;
  audit.recordWhenDone(req, context.switchToHttp().getResponse<Response>());
  return { permission };
}

/**
 * Guards every route (registered globally): an unknown, revoked or missing key gets 401; a role
 * without the route's permission gets 403; a route that declares no permission is refused for
 * every key, so a forgotten declaration fails closed. Public routes pass untouched, so the
 * webhook path pays two regular-expression tests and nothing else.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly undeclaredSeen = new Set<string>();

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    const route = routePattern(req);
    if (isPublicRoute(route)) return true;

    const principal = await this.keys.authenticate(apiKeyFrom(req));
    if (!principal) throw new UnauthorizedException('a valid API key is required');

    const refusal = checkAccess(this.reflector, this.audit, context, principal);
    if (!refusal) return true;
    const { permission } = refusal;
    if (!permission) {
      const handler = `${context.getClass().name}.${context.getHandler().name}`;
      if (!this.undeclaredSeen.has(handler)) {
        this.undeclaredSeen.add(handler);
        this.logger.error({ route, handler }, 'route declares no permission (@RequirePermission); refused for every key');
      }
      throw new ForbiddenException('this route declares no permission, so it is refused for every key');
    }
    throw new ForbiddenException(`the role '${principal.role}' lacks the permission ${permission}`);
  }
}
