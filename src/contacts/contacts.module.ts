import { Module } from '@nestjs/common';
import { ContactsController } from './contacts.controller';
import { ContactsRepository } from './contacts.repository';
import { ContactsService } from './contacts.service';

@Module({
  controllers: [ContactsController],
  providers: [ContactsRepository, ContactsService],
  // The repository is exported for the webhook ingest, which writes a contact inside its own transaction.
  exports: [ContactsService, ContactsRepository],
})
export class ContactsModule {}
