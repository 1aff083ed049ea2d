import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ConsentModule } from '../consent/consent.module';
import { ContactsModule } from '../contacts/contacts.module';
import { PrivacyModule } from '../privacy/privacy.module';
import { RepliesModule } from '../replies/replies.module';
import { ServicePolicyModule } from '../service-policy/service-policy.module';
import { SyncModule } from '../sync/sync.module';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { ConnectionsPageController } from './connections-page.controller';
import { ConsoleAuthController } from './console-auth.controller';
import { ConsoleConversationsController, ConsoleMediaController } from './console-conversations.controller';
import { ConsoleReadRepository } from './console-read.repository';
import { ConsoleCoreModule } from './console-core.module';
import { CustomersPageController } from './customers-page.controller';
import { CustomersPageRepository } from './customers-page.repository';
import { ProblemsPageController } from './problems-page.controller';
import { ProblemsPageRepository } from './problems-page.repository';
import { QueuesBoard } from './queues';
import { ReportsPageController } from './reports-page.controller';
import { SandboxModule } from './sandbox.module';

/**
 * The operator console at /console: server-rendered pages over the same services the API uses,
 * signed in with an API key (a session cookie), the key's role deciding what each page shows and
 * allows. On top of every feature: it reads them all and nothing reads it.
 */
@Module({
  imports: [ConsoleCoreModule, SandboxModule, ConnectionsModule, ConsentModule, ContactsModule, PrivacyModule, RepliesModule, ServicePolicyModule, SyncModule, WhatsappModule],
  controllers: [
    ConsoleAuthController,
    ConsoleConversationsController,
    ConsoleMediaController,
    ConnectionsPageController,
    ProblemsPageController,
    CustomersPageController,
    ReportsPageController,
  ],
  providers: [ConsoleReadRepository, ProblemsPageRepository, CustomersPageRepository, QueuesBoard],
})
export class ConsoleModule {}
