import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { AuditService } from '../admin/audit.service';
import { setAccess } from '../admin/principal';
import { ALL_QUEUES } from '../tasks/queues';
import { ConsoleSessionsService, cookieValue, SESSION_COOKIE } from './console-sessions.service';

export const QUEUES_PATH = '/console/queues';

/** The menu entry for the queues, when this process has them (BullMQ on Redis). */
export function queuesMenu(config: Pick<AppConfig, 'redisUrl'>): { path: string; label: string }[] {
  return config.redisUrl ? [{ path: QUEUES_PATH, label: 'Queues' }] : [];
}

/** One Bull Board over every queue of the service; read-only boards refuse every action (Bull Board checks it per queue). */
function board(queues: Queue[], readOnlyMode: boolean): RequestHandler {
  const serverAdapter = new ExpressAdapter().setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode })),
    // @bull-board/express 9.10.1 brings its own @bull-board/api 9.10.1 beside our 9.10.2: the same
    // shapes, declared twice (a private field makes TypeScript tell them apart).
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: readOnlyMode ? 'threadbridge (read-only)' : 'threadbridge' } },
  });
  return serverAdapter.getRouter() as RequestHandler;
}

/**
 * Bull Board at /console/queues when the queues are BullMQ's (REDIS_URL set; the embedded mode's
 * outbox has no Bull queues to show). It is Express middleware, so ConsoleGuard does not run:
 * this checks the console session itself. Bull Board's read-only switch is per queue adapter, so
 * there are two boards on the same path over the same queues: admins get the full one (retry,
 * promote, clean, pause), every other signed-in role the read-only one. @bull-board/nestjs is
 * not used: it require()s @nestjs/common, which is ESM-only in Nest 12 and fails under Jest's
 * ESM mode ("Must use import to load ES Module"); @bull-board/express is mounted directly.
 */
@Injectable()
export class QueuesBoard implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly sessions: ConsoleSessionsService,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    if (!this.config.redisUrl) return;
    const queues = ALL_QUEUES.map((name) => this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }));
    const full = board(queues, false);
    const readOnly = board(queues, true);
    const app = this.adapterHost.httpAdapter.getInstance<Application>();
    app.use(QUEUES_PATH, (req: Request, res: Response, next: NextFunction) => {
      this.authorise(req, res)
        .then((admin) => {
          if (admin === undefined) return;
          (admin ? full : readOnly)(req, res, next);
        })
        .catch(next);
    });
  }

  /** true: an admin; false: another role (read-only); undefined: answered here (no session, or a refused action). */
  private async authorise(req: Request, res: Response): Promise<boolean | undefined> {
    const session = await this.sessions.resolve(cookieValue(req.headers.cookie, SESSION_COOKIE));
    const reading = req.method === 'GET' || req.method === 'HEAD';
    if (!session) {
      if (reading && !req.originalUrl.startsWith(`${QUEUES_PATH}/api/`)) res.redirect(303, `/console/sign-in?next=${encodeURIComponent(req.originalUrl.split('?')[0])}`);
      else res.status(401).json({ statusCode: 401, message: 'sign in to the console' });
      return undefined;
    }
    const admin = session.principal.role === 'admin';
    if (reading) return admin;
    if (!admin) {
      // The read-only board refuses actions too; this says why, before Bull Board is asked.
      res.status(403).json({ statusCode: 403, message: `Your role (${session.principal.role}) may only look at the queues.` });
      return undefined;
    }
    // Actions on jobs are audited like the console's forms (who, which route, the outcome).
    // Bull Board's requests carry no CSRF token; the session cookie is SameSite=Strict, so another
    // site cannot send them with it.
    setAccess(req, { principal: session.principal, route: `${QUEUES_PATH}/api/*`, audited: true });
    this.audit.recordWhenDone(req, res);
    return true;
  }
}
