import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Clock } from '../../connectors/_sdk/contract';
import { CLOCK } from './consent.constants';
import { ConsentRepository, type GateFacts } from './consent.repository';
import type { ConsentStatus, MessageCategory } from './consent.types';

/** WhatsApp's customer-service window: free-form messages only this long after the customer's last one. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Why a message may not be sent. */
export type GateRefusal =
  | 'unknown_contact'
  | 'marketing_opted_out'
  | 'no_marketing_opt_in'
  | 'transactional_opted_out'
  | 'outside_service_window';

export type GateDecision = { allowed: true } | { allowed: false; reason: GateRefusal; detail: string };

export interface GateRequest {
  contactId: string;
  category: MessageCategory;
  /** True for an approved template (the only thing WhatsApp delivers outside the window). */
  isTemplate: boolean;
  /** The business number that would send; the window is per number. Absent: any of ours. */
  phoneNumberId?: string;
}

const refuse = (reason: GateRefusal, detail: string): GateDecision => ({ allowed: false, reason, detail });

/**
 * The send-time rules, as one pure function of what the ledger and the conversations say:
 * - marketing needs the contact's current marketing opt-in (an opt-out, or no opt-in at all, refuses);
 * - utility and authentication are allowed unless the contact opted out of transactional messages;
 * - service (a reply) is allowed inside the 24-hour window; outside it only as a template, which is
 *   then a business-initiated message and respects a transactional opt-out like utility;
 * - anything that is not a template needs the window, whatever its category (WhatsApp refuses it
 *   with 131047 otherwise).
 * The window runs from the customer's last message by WhatsApp's own timestamp.
 */
export function evaluateSend(request: Pick<GateRequest, 'category' | 'isTemplate'>, facts: GateFacts, now: Date): GateDecision {
  const inWindow = facts.lastInboundAt !== null && now.getTime() - facts.lastInboundAt.getTime() < SERVICE_WINDOW_MS;
  const transactionalOptOut = (status: ConsentStatus) => status === 'opted_out';

  switch (request.category) {
    case 'marketing':
      if (facts.marketing === 'opted_out') return refuse('marketing_opted_out', 'the contact opted out of marketing messages');
      if (facts.marketing !== 'opted_in') return refuse('no_marketing_opt_in', 'the contact has not opted in to marketing messages');
      break;
    case 'utility':
    case 'authentication':
      if (transactionalOptOut(facts.transactional)) return refuse('transactional_opted_out', 'the contact opted out of transactional messages');
      break;
    case 'service':
      if (!inWindow && request.isTemplate && transactionalOptOut(facts.transactional)) {
        return refuse('transactional_opted_out', 'outside the 24-hour window a template is business-initiated, and the contact opted out of transactional messages');
      }
      break;
  }
  if (!request.isTemplate && !inWindow) {
    return refuse(
      'outside_service_window',
      facts.lastInboundAt === null
        ? 'the customer has never written to this number: only an approved template can be sent'
        : 'more than 24 hours have passed since the customer last wrote: only an approved template can be sent',
    );
  }
  return { allowed: true };
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };

/**
 * The one gate every path that sends a WhatsApp message goes through (the sender runs it when a
 * message is requested and again right before it calls Meta). Reads the contact's consent from the
 * ledger and the 24-hour window from the conversations, then applies {@link evaluateSend}.
 */
@Injectable()
export class ConsentGate {
  private readonly clock: Clock;

  constructor(
    private readonly repo: ConsentRepository,
    @Optional() @Inject(CLOCK) clock?: Clock,
  ) {
    this.clock = clock ?? SYSTEM_CLOCK;
  }

  /**
   * May this message be sent to this contact now? `{ allowed: false, reason, detail }` says why not;
   * an unknown contact is refused, never an error.
   */
  async check(request: GateRequest): Promise<GateDecision> {
    const facts = await this.repo.gateFacts(request.contactId, request.phoneNumberId);
    if (!facts) return refuse('unknown_contact', 'no such contact');
    return evaluateSend(request, facts, this.clock.now());
  }
}
