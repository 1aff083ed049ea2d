import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { CrmSyncHandler } from './crm-sync.handler';
import { CrmSyncService } from './crm-sync.service';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersService } from './dead-letters.service';
import { SyncRepository } from './sync.repository';

/** The sync engine (CRM drains) and dead-letter administration. */
@Module({
  imports: [ConnectionsModule],
  controllers: [DeadLettersController],
  providers: [SyncRepository, CrmSyncService, CrmSyncHandler, DeadLettersService],
  exports: [CrmSyncHandler, CrmSyncService],
})
export class SyncModule {}
