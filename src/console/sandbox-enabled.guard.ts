import { type CanActivate, type ExecutionContext, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';

/** Answers exactly as for a route that does not exist, so a service without the sandbox shows no trace of it. */
function notFound(context: ExecutionContext): NotFoundException {
  const req = context.switchToHttp().getRequest<Request>();
  return new NotFoundException(`Cannot ${req.method} ${req.path}`);
}

/** The sandbox phone's pages exist only while SANDBOX is on (config/configuration.ts says when by default). */
@Injectable()
export class SandboxEnabledGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.sandbox.enabled) throw notFound(context);
    return true;
  }
}

/** The built-in fake Cloud API exists only while the sandbox serves it (on, and no WHATSAPP_API_URL). */
@Injectable()
export class SandboxFakeCloudApiGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.sandbox.enabled || !this.config.sandbox.fakeCloudApi) throw notFound(context);
    return true;
  }
}
