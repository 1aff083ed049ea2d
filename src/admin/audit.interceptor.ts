import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type Observable, tap } from 'rxjs';
import { AuditService } from './audit.service';
import { accessOf } from './principal';

/**
 * Writes the audit row of every mutating call and every export (registered globally), once the
 * answer is sent: successes and failures alike, with the status the caller got. Requests the
 * access guard did not mark (public routes, plain reads) pass through untouched.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    const access = accessOf(req);
    if (!access?.audited) return next.handle();
    this.audit.recordWhenDone(req, context.switchToHttp().getResponse<Response>());
    return next.handle().pipe(
      tap((body) => {
        // A create has no :id in its route: its target is the id it answers with.
        const id = (body as { id?: unknown } | null | undefined)?.id;
        if (typeof id === 'string' || typeof id === 'number') access.createdId = String(id);
      }),
    );
  }
}
