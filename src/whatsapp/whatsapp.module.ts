import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { ConversationsModule } from '../conversations/conversations.module';
import { CloudApiClient } from './cloud-api.client';
import { MediaFetchHandler } from './media/media-fetch.handler';
import { InboundListeners } from './inbound-listeners';
import { IngestRepository } from './ingest.repository';
import { WhatsAppWebhookReceiver } from './whatsapp-webhook.receiver';
import { QuarantineController } from './quarantine.controller';
import { QuarantineRepository } from './quarantine.repository';
import { WebhookIngestService } from './webhook-ingest.service';
import { WhatsappWebhookController } from './whatsapp-webhook.controller';

@Module({
  imports: [ContactsModule, ConversationsModule],
  controllers: [WhatsappWebhookController, QuarantineController],
  providers: [
    WebhookIngestService,
    InboundListeners,
    IngestRepository,
    WhatsAppWebhookReceiver,
    QuarantineRepository,
    CloudApiClient,
    MediaFetchHandler,
  ],
  exports: [MediaFetchHandler, CloudApiClient, QuarantineRepository, InboundListeners],
})
export class WhatsappModule {}
