import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { decodeCursor, InvalidCursorError, type Page, toPage } from '../common/pagination';
import { LOGGER } from '../common/logger';
import type { AuditEntity } from './audit.entity';
import { AuditRepository, type NewAuditEntry } from './audit.repository';
import { accessOf } from './principal';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Route params and user agents are chosen by the caller: stored truncated. */
const MAX_PARAM = 200;
const MAX_USER_AGENT = 300;

/** What the API shows of an audit row. */
export interface AuditEntryView {
  id: string;
  at: Date;
  actor: { keyId: string | null; name: string; role: string };
  method: string;
  route: string;
  targetId: string | null;
  params: Record<string, string>;
  status: number;
  ip: string | null;
  userAgent: string | null;
}

/**
 * The audit log of the operator API: every call that changes something, and every export, with
 * who made it, the route, its target and the outcome. Rows are written once the answer is sent,
 * so a failed call is recorded with its real status and the caller never waits for the log.
 */
@Injectable()
export class AuditService implements BeforeApplicationShutdown {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly repo: AuditRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Whether a call is audited: every mutation, and reads marked as exports. */
  isAudited(method: string, isExport: boolean): boolean {
    return MUTATING.has(method.toUpperCase()) || isExport;
  }

  /**
   * Writes the request's audit row once its answer is sent (or the client went away: status 499).
   * Does nothing for requests the access guard did not mark as audited, or already recorded.
   */
  recordWhenDone(req: Request, res: Response): void {
    const access = accessOf(req);
    if (!access?.audited || access.recorded) return;
    access.recorded = true;
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      const params = Object.fromEntries(Object.entries(req.params ?? {}).map(([k, v]) => [k, String(v).slice(0, MAX_PARAM)]));
      const entry: NewAuditEntry = {
        actorKeyId: access.principal.keyId,
        actorName: access.principal.name,
        actorRole: access.principal.role,
        method: req.method,
        route: access.route,
        targetId: params.id ?? access.createdId ?? null,
        params,
        status: res.writableFinished ? res.statusCode : 499,
        ip: req.ip ?? req.socket.remoteAddress ?? null,
        userAgent: req.header('user-agent')?.slice(0, MAX_USER_AGENT) ?? null,
      };
      const write = this.repo.insert(entry).catch((error: unknown) => {
        // The call itself has been answered; an operator must hear that its trace is missing.
        this.logger.error({ err: error, route: entry.route, method: entry.method, status: entry.status, apiKeyId: entry.actorKeyId }, 'audit row could not be written');
      });
      this.pending.add(write);
      void write.finally(() => this.pending.delete(write));
    };
    res.once('finish', record);
    res.once('close', record);
  }

  /**
   * The audit log, newest first. `actor` is an API key id, or 'env-admin' for the bootstrap key;
   * `since` keeps calls made at or after that time.
   */
  async list(filter: { actor?: string; since?: Date }, limit = 50, cursor?: string): Promise<Page<AuditEntryView>> {
    const after = decodeCursor<{ id: string }>(cursor, ['id']);
    if (after && !/^\d{1,19}$/.test(after.id)) throw new InvalidCursorError('cursor is not one this API returned');
    const actor = filter.actor;
    const rows = await this.repo.list(
      { actorKeyId: actor && UUID.test(actor) ? actor : undefined, actorName: actor && !UUID.test(actor) ? actor : undefined, since: filter.since },
      limit + 1,
      after?.id,
    );
    return toPage(rows.map(view), limit, (last) => ({ id: last.id }));
  }

  /** Lets rows of calls answered just before shutdown reach the database before the pool closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

function view(row: AuditEntity): AuditEntryView {
  return {
    id: String(row.id),
    at: row.at,
    actor: { keyId: row.actorKeyId, name: row.actorName, role: row.actorRole },
    method: row.method,
    route: row.route,
    targetId: row.targetId,
    params: row.params,
    status: row.status,
    ip: row.ip,
    userAgent: row.userAgent,
  };
}
