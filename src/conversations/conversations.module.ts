import { Module } from '@nestjs/common';
import { ConversationsController } from './conversations.controller';
import { ConversationsRepository } from './conversations.repository';
import { ConversationsService } from './conversations.service';
import { OutboundMessagesRepository } from './outbound-messages.repository';

@Module({
  controllers: [ConversationsController],
  providers: [ConversationsRepository, ConversationsService, OutboundMessagesRepository],
  // The repositories are exported for whatsapp's ingest and sender, which write inside their own transactions.
  exports: [ConversationsService, ConversationsRepository, OutboundMessagesRepository],
})
export class ConversationsModule {}
