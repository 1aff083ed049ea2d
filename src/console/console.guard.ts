import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { checkAccess } from '../admin/access.guard';
import { AuditService } from '../admin/audit.service';
import { type ConsoleSession, ConsoleSessionsService, cookieValue, SESSION_COOKIE } from './console-sessions.service';
import { processSections } from './menu';

/** A console request once the guard let it through: its session, and the menu entries this process offers. */
export type ConsoleRequest = Request & { consoleSession: ConsoleSession; consoleMenu?: { path: string; label: string }[] };

/** Not signed in (or the session ended, or its key was revoked): pages redirect to the sign-in form. */
export class ConsoleSignInRequired extends Error {
  constructor(readonly returnTo?: string) {
    super('sign in to the console');
  }
}

/** Signed in, but the role lacks the permission, or a form came without its CSRF token. */
export class ConsoleForbidden extends Error {}

/**
 * Guards the console's pages and actions (the API's AccessGuard lets /console through to it):
 * the session cookie instead of an API key, the CSRF token on every form post, and then exactly
 * the API's rule — the permission a route declares (@RequirePermission) against the key's role.
 * Posts are audited like the API's mutations (the audit interceptor reads what this sets).
 */
@Injectable()
export class ConsoleGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: ConsoleSessionsService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const session = await this.sessions.resolve(cookieValue(req.headers.cookie, SESSION_COOKIE));
    if (!session) throw new ConsoleSignInRequired(req.method === 'GET' ? req.originalUrl : undefined);
    const reading = req.method === 'GET' || req.method === 'HEAD';
    const presented = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.headers['x-csrf-token'];
    if (!reading && !this.sessions.csrfMatches(session, presented)) throw new ConsoleForbidden('This form has expired or did not come from the console. Reload the page and try again.');

    (req as ConsoleRequest).consoleSession = session;
    (req as ConsoleRequest).consoleMenu = processSections(this.config);
    const refusal = checkAccess(this.reflector, this.audit, context, session.principal);
    if (!refusal) return true;
    const { permission } = refusal;
    throw new ConsoleForbidden(permission ? `Your role (${session.principal.role}) may not do this: it needs ${permission}.` : 'This page declares no permission.');
  }
}
