import { ApiProperty } from '@nestjs/swagger';
import {
  CONSENT_ACTIONS,
  CONSENT_SCOPES,
  CONSENT_SOURCES,
  type ConsentAction,
  type ConsentEvent,
  type ConsentScope,
  type ConsentSource,
  type ConsentState,
  type ConsentStatus,
  type ScopeState,
} from '../consent.types';

/** One entry of the append-only consent ledger. */
export class ConsentEventDto implements ConsentEvent {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ format: 'uuid' })
  contactId: string;
  @ApiProperty({ enum: CONSENT_ACTIONS })
  action: ConsentAction;
  @ApiProperty({ enum: CONSENT_SCOPES })
  scope: ConsentScope;
  @ApiProperty({ enum: CONSENT_SOURCES })
  source: ConsentSource;
  @ApiProperty({ type: String, nullable: true, description: "The wamid of the customer's message, when a message is the evidence" })
  evidenceMessageId: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The words of the request (the keyword as written, or the operator's note)" })
  evidenceText: string | null;
  @ApiProperty({ description: "Who asked: 'customer', an operator's name, a CRM user…" })
  actor: string;
  @ApiProperty({ description: 'When the consent was given or withdrawn' })
  occurredAt: Date;
  @ApiProperty({ description: 'When threadbridge recorded it' })
  recordedAt: Date;
}

/** The current consent for one scope: the latest event of that scope. */
export class ScopeStateDto implements ScopeState {
  @ApiProperty({ enum: ['opted_in', 'opted_out', 'unknown'] })
  status: ConsentStatus;
  @ApiProperty({ type: Date, nullable: true })
  changedAt: Date | null;
  @ApiProperty({ enum: CONSENT_SOURCES, nullable: true })
  source: ConsentSource | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  eventId: string | null;
}

export class ConsentStateDto implements ConsentState {
  @ApiProperty({ type: ScopeStateDto })
  marketing: ScopeStateDto;
  @ApiProperty({ type: ScopeStateDto })
  transactional: ScopeStateDto;
}

/** A recorded consent change and the state after it. */
export class ConsentRecordedDto {
  @ApiProperty({ format: 'uuid' })
  contactId: string;
  @ApiProperty({ type: ConsentEventDto })
  event: ConsentEventDto;
  @ApiProperty({ type: ConsentStateDto })
  state: ConsentStateDto;
}

/** A contact's consent ledger, oldest first, and the current state per scope. */
export class ConsentLedgerDto {
  @ApiProperty({ format: 'uuid' })
  contactId: string;
  @ApiProperty({ type: ConsentStateDto })
  state: ConsentStateDto;
  @ApiProperty({ type: [ConsentEventDto] })
  events: ConsentEventDto[];
}
