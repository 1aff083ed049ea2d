import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ConsoleCoreModule } from './console-core.module';
import { SandboxController } from './sandbox.controller';
import { SandboxEnabledGuard, SandboxFakeCloudApiGuard } from './sandbox-enabled.guard';
import { SandboxGraphController } from './sandbox-graph.controller';
import { SandboxService } from './sandbox.service';
import { SandboxStore } from './sandbox.store';

/**
 * A file form's body is read only after the console's guard has let it through (so nobody can
 * make the service read an upload before signing in), which means the guard cannot find the CSRF
 * field in it. Without script, the photo form therefore also carries its token in the address; this
 * hands it to the guard as the header htmx would send. The request log records route patterns, never
 * addresses, so the token is not written down.
 */
function csrfFromQuery(req: Request, _res: Response, next: NextFunction): void {
  const token = (req.query as Record<string, unknown> | undefined)?._csrf;
  if (typeof token === 'string' && req.headers['x-csrf-token'] === undefined) req.headers['x-csrf-token'] = token;
  next();
}

/**
 * The sandbox phone (/console/sandbox) and the built-in fake Cloud API it answers through
 * (/console/sandbox/graph). Always registered; every route answers 404 unless SANDBOX is on
 * (SandboxEnabledGuard), so a production service shows no trace of it.
 */
@Module({
  imports: [ConsoleCoreModule],
  controllers: [SandboxController, SandboxGraphController],
  providers: [SandboxStore, SandboxService, SandboxEnabledGuard, SandboxFakeCloudApiGuard],
})
export class SandboxModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(csrfFromQuery).forRoutes({ path: 'console/sandbox/photo', method: RequestMethod.POST });
  }
}
