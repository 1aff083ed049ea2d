import { Module } from '@nestjs/common';
import { ConversationsController } from './conversations.controller';
import { ConversationsRepository } from './conversations.repository';
import { ConversationsService } from './conversations.service';

@Module({
  controllers: [ConversationsController],
  providers: [ConversationsRepository, ConversationsService],
  // The repository is exported for the webhook ingest, which writes inside its own transaction.
  exports: [ConversationsService, ConversationsRepository],
})
export class ConversationsModule {}
