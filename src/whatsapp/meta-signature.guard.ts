import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { verifyMetaSignature } from './webhook-signature';

/** Rejects (401, nothing stored) any POST whose X-Hub-Signature-256 does not match the raw body. */
@Injectable()
export class MetaSignatureGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifyMetaSignature(raw, req.header('x-hub-signature-256'), this.config.whatsapp.appSecrets)) {
      req.res!.locals.webhookOutcome = 'unauthorized';
      throw new UnauthorizedException('invalid or missing X-Hub-Signature-256');
    }
    return true;
  }
}
