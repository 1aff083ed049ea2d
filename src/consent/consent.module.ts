import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ConsentController } from './consent.controller';
import { ConsentRepository } from './consent.repository';
import { ConsentService } from './consent.service';

/**
 * Consent: the append-only ledger and its API. The send-time gate lives in ConsentGateModule
 * (re-exported through OutboundModule). Modules above it act on consent with its service and
 * repository: STOP/START keywords are confirmed on WhatsApp (whatsapp/consent-keyword.handler.ts),
 * consent changes are written onto the contact in every CRM with the `consent` capability
 * (sync/consent-sync.handler.ts).
 */
@Module({
  imports: [ConnectionsModule],
  controllers: [ConsentController],
  providers: [ConsentRepository, ConsentService],
  exports: [ConsentService, ConsentRepository],
})
export class ConsentModule {}
