import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ConsentModule } from '../consent/consent.module';
import { ContactsModule } from '../contacts/contacts.module';
import { ConversationsModule } from '../conversations/conversations.module';
import { SyncModule } from '../sync/sync.module';
import { OutboundModule } from '../whatsapp/outbound/outbound.module';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { ErasureHandler } from './erasure.handler';
import { ErasureService } from './erasure.service';
import { ExportService } from './export.service';
import { MediaCleanup } from './media-cleanup';
import { PrivacyController } from './privacy.controller';
import { PrivacyRepository } from './privacy.repository';
import { RemoteErasureService } from './remote-erasure.service';
import { RetentionRepository } from './retention.repository';
import { RetentionScheduler } from './retention.scheduler';
import { RetentionService } from './retention.service';

/**
 * Privacy: export (right of access) with media downloads, erasure (right to be forgotten) with a
 * fan-out to every connection and per-system receipts, and the retention job (worker processes).
 */
@Module({
  // Connections resolve and build the connectors that erase remotely. The others own the tables
  // an erasure empties: it asks each of them, in one transaction.
  imports: [ConnectionsModule, WhatsappModule, OutboundModule, ConversationsModule, ContactsModule, ConsentModule, SyncModule],
  controllers: [PrivacyController],
  providers: [PrivacyRepository, RetentionRepository, MediaCleanup, ExportService, ErasureService, RemoteErasureService, ErasureHandler, RetentionService, RetentionScheduler],
  exports: [ErasureHandler, ErasureService, ExportService, RetentionService],
})
export class PrivacyModule {}
