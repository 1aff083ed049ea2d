import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { SyncRepository } from '../sync/sync.repository';
import { OutboundModule } from '../whatsapp/outbound/outbound.module';
import { ConsentKeywordHandler } from './consent-keyword.handler';
import { ConsentSyncHandler } from './consent-sync.handler';
import { ConsentController } from './consent.controller';
import { ConsentRepository } from './consent.repository';
import { ConsentService } from './consent.service';

/**
 * Consent: the append-only ledger and its API, STOP/START keywords (recorded and confirmed), and
 * consent changes written onto the contact in every CRM with the `consent` capability. The
 * send-time gate lives in ConsentGateModule (re-exported through OutboundModule).
 */
@Module({
  imports: [ConnectionsModule, OutboundModule],
  controllers: [ConsentController],
  // SyncRepository: the remote links (contact ↔ CRM record) the sync engine keeps.
  providers: [ConsentRepository, ConsentService, ConsentKeywordHandler, ConsentSyncHandler, SyncRepository],
  exports: [ConsentService, ConsentKeywordHandler, ConsentSyncHandler],
})
export class ConsentModule {}
