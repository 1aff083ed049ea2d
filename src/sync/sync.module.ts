import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ConsentModule } from '../consent/consent.module';
import { ConsentSyncHandler } from './consent-sync.handler';
import { CrmSyncHandler } from './crm-sync.handler';
import { CrmSyncService } from './crm-sync.service';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersService } from './dead-letters.service';
import { SyncRepository } from './sync.repository';

/** The sync engine (CRM drains) and dead-letter administration. */
@Module({
  imports: [ConnectionsModule, ConsentModule],
  controllers: [DeadLettersController],
  // ConsentSyncHandler: consent changes written onto the contact in every CRM that holds consent.
  providers: [SyncRepository, CrmSyncService, CrmSyncHandler, ConsentSyncHandler, DeadLettersService],
  exports: [CrmSyncHandler, CrmSyncService, ConsentSyncHandler, SyncRepository, DeadLettersService],
})
export class SyncModule {}
