import { Module } from '@nestjs/common';
import { ConsentGate } from './consent-gate';
import { ConsentRepository } from './consent.repository';

/**
 * The send-time consent gate alone, for every module that sends WhatsApp messages. Kept apart from
 * ConsentModule (the ledger, its API and CRM fan-out), which itself sends confirmations, so the
 * sender and the ledger can depend on the gate without depending on each other.
 */
@Module({
  providers: [ConsentRepository, ConsentGate],
  exports: [ConsentGate],
})
export class ConsentGateModule {}
