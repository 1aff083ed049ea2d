import { Module } from '@nestjs/common';
import { AccessControlModule } from '../admin/access-control.module';
import { ConnectionsModule } from '../connections/connections.module';
import { ConsentModule } from '../consent/consent.module';
import { ContactsModule } from '../contacts/contacts.module';
import { PrivacyModule } from '../privacy/privacy.module';
import { ReplySetupService } from '../replies/reply-setup.service';
import { ServicePolicyRepository } from '../service-policy/service-policy.repository';
import { ServiceReportsService } from '../service-policy/service-reports.service';
import { DeadLettersService } from '../sync/dead-letters.service';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { ConnectionsPageController } from './connections-page.controller';
import { CustomersPageController } from './customers-page.controller';
import { CustomersPageRepository } from './customers-page.repository';
import { ProblemsPageController } from './problems-page.controller';
import { ProblemsPageRepository } from './problems-page.repository';
import { QueuesBoard } from './queues';
import { ReportsPageController } from './reports-page.controller';
import { ConsoleAuthController } from './console-auth.controller';
import { ConsoleGuard } from './console.guard';
import { ConsoleSessionsRepository } from './console-sessions.repository';
import { ConsoleSessionsService } from './console-sessions.service';

/**
 * The operator console at /console: server-rendered pages over the same services the API uses,
 * signed in with an API key (a session cookie), the key's role deciding what each page shows and
 * allows. On top of every feature: it reads them all and nothing reads it.
 */
@Module({
  imports: [AccessControlModule, ConnectionsModule, ConsentModule, ContactsModule, PrivacyModule, WhatsappModule],
  controllers: [ConsoleAuthController, ConnectionsPageController, ProblemsPageController, CustomersPageController, ReportsPageController],
  providers: [
    ConsoleSessionsRepository,
    ConsoleSessionsService,
    ConsoleGuard,
    // Stateless services of features that do not export them (their modules own the API routes):
    // the console's pages call the same code.
    ReplySetupService,
    DeadLettersService,
    ServicePolicyRepository,
    ServiceReportsService,
    ProblemsPageRepository,
    CustomersPageRepository,
    QueuesBoard,
  ],
  exports: [ConsoleSessionsService, ConsoleGuard],
})
export class ConsoleModule {}
