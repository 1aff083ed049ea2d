import { Module } from '@nestjs/common';
import { ConsentGateModule } from '../../consent/consent-gate.module';
import { ConversationsModule } from '../../conversations/conversations.module';
import { WhatsappModule } from '../whatsapp.module';
import { OutboundRepository } from './outbound.repository';
import { OutboundSendHandler } from './outbound-send.handler';
import { WhatsAppSender } from './whatsapp-sender.service';

/** Messages to customers: WhatsAppSender (request → gate → queued message) and its send handler. */
@Module({
  imports: [ConsentGateModule, ConversationsModule, WhatsappModule],
  providers: [OutboundRepository, WhatsAppSender, OutboundSendHandler],
  exports: [WhatsAppSender, OutboundSendHandler, ConsentGateModule],
})
export class OutboundModule {}
