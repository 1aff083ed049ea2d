import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { principalOf } from './principal';

/** Reads the key from `Authorization: Bearer <key>` (or `X-API-Key`). */
export function apiKeyFrom(req: Request): string | undefined {
  const auth = req.header('authorization');
  const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth)?.[1];
  return bearer || req.header('x-api-key') || undefined;
}

/**
 * @deprecated The global AccessGuard authenticates every route and checks its permission: declare
 * `@RequirePermission('<area>:<action>')` on the handler instead. Kept so controllers written
 * against it still compile; it only insists the request was authenticated.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!principalOf(context.switchToHttp().getRequest<Request>())) throw new UnauthorizedException('a valid API key is required');
    return true;
  }
}
