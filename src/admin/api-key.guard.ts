import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { safeEqual } from '../common/crypto';

/** Reads the key from `Authorization: Bearer <key>` (or `X-API-Key`). */
export function apiKeyFrom(req: Request): string | undefined {
  const auth = req.header('authorization');
  const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth)?.[1];
  return bearer || req.header('x-api-key') || undefined;
}

/** Every operator endpoint requires the admin API key (ADMIN_API_KEY). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const key = apiKeyFrom(context.switchToHttp().getRequest<Request>());
    const expected = this.config.admin.apiKey;
    if (!key || !expected || !safeEqual(key, expected)) throw new UnauthorizedException('a valid API key is required');
    return true;
  }
}
