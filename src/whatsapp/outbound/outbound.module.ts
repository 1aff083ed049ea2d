import { Module } from '@nestjs/common';
import { ConsentGateModule } from '../../consent/consent-gate.module';
import { ConsentModule } from '../../consent/consent.module';
import { ConversationsModule } from '../../conversations/conversations.module';
import { WhatsappModule } from '../whatsapp.module';
import { ConsentKeywordHandler } from '../consent-keyword.handler';
import { OutboundRepository } from './outbound.repository';
import { OutboundSendHandler } from './outbound-send.handler';
import { WhatsAppSender } from './whatsapp-sender.service';

/** Messages to customers: WhatsAppSender (request → gate → queued message) and its send handler. */
@Module({
  imports: [ConsentGateModule, ConsentModule, ConversationsModule, WhatsappModule],
  // ConsentKeywordHandler: a STOP/START keyword is recorded in the ledger and confirmed by a send.
  providers: [OutboundRepository, WhatsAppSender, OutboundSendHandler, ConsentKeywordHandler],
  exports: [WhatsAppSender, OutboundSendHandler, ConsentKeywordHandler, ConsentGateModule, OutboundRepository],
})
export class OutboundModule {}
