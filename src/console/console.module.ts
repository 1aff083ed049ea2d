import { Module } from '@nestjs/common';
import { AccessControlModule } from '../admin/access-control.module';
import { PrivacyModule } from '../privacy/privacy.module';
import { ConsoleAuthController } from './console-auth.controller';
import { ConsoleConversationsController, ConsoleMediaController } from './console-conversations.controller';
import { ConsoleReadRepository } from './console-read.repository';
import { ConsoleGuard } from './console.guard';
import { ConsoleSessionsRepository } from './console-sessions.repository';
import { ConsoleSessionsService } from './console-sessions.service';
import { SandboxModule } from './sandbox.module';

/**
 * The operator console at /console: server-rendered pages over the same services the API uses,
 * signed in with an API key (a session cookie), the key's role deciding what each page shows and
 * allows. On top of every feature: it reads them all and nothing reads it.
 */
@Module({
  imports: [AccessControlModule, PrivacyModule, SandboxModule],
  controllers: [ConsoleAuthController, ConsoleConversationsController, ConsoleMediaController],
  providers: [ConsoleSessionsRepository, ConsoleSessionsService, ConsoleGuard, ConsoleReadRepository],
  exports: [ConsoleSessionsService, ConsoleGuard],
})
export class ConsoleModule {}
