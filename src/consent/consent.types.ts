import type { ConsentScope } from '../../connectors/_sdk/contract';

export type { ConsentScope };

export const CONSENT_ACTIONS = ['opt_in', 'opt_out'] as const;
export type ConsentAction = (typeof CONSENT_ACTIONS)[number];

export const CONSENT_SCOPES = ['marketing', 'transactional'] as const satisfies readonly ConsentScope[];

/** Where a consent event came from: a keyword the customer wrote, the API, a CRM, a web form. */
export const CONSENT_SOURCES = ['keyword', 'api', 'crm', 'form'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/**
 * What every outbound message is, as WhatsApp prices and polices it: `marketing` (promotions),
 * `utility` (transactional: order updates…), `authentication` (one-time codes), `service` (a reply
 * to the customer).
 */
export const MESSAGE_CATEGORIES = ['marketing', 'utility', 'authentication', 'service'] as const;
export type MessageCategory = (typeof MESSAGE_CATEGORIES)[number];

/** One entry of the append-only consent ledger. */
export interface ConsentEvent {
  id: string;
  contactId: string;
  action: ConsentAction;
  scope: ConsentScope;
  source: ConsentSource;
  /** The wamid of the customer's message, when a message is the evidence. */
  evidenceMessageId: string | null;
  /** The words of the request (the keyword as written, or the operator's note). */
  evidenceText: string | null;
  /** Who asked: 'customer', an operator's name, a CRM user… */
  actor: string;
  /** When the consent was given or withdrawn (WhatsApp's time for a keyword). */
  occurredAt: Date;
  /** When threadbridge recorded it. */
  recordedAt: Date;
}

export type ConsentStatus = 'opted_in' | 'opted_out' | 'unknown';

/** The current consent for one scope: the latest event of that scope in the ledger. */
export interface ScopeState {
  status: ConsentStatus;
  changedAt: Date | null;
  source: ConsentSource | null;
  eventId: string | null;
}

export type ConsentState = Record<ConsentScope, ScopeState>;

/** A consent change to append. */
export interface NewConsentEvent {
  contactId: string;
  action: ConsentAction;
  scope: ConsentScope;
  source: ConsentSource;
  evidenceMessageId?: string | null;
  evidenceText?: string | null;
  actor: string;
  occurredAt: Date;
  /** Makes a repeated request (a webhook delivered twice) record nothing new. */
  dedupeKey?: string;
}

export const UNKNOWN_STATE: ScopeState = { status: 'unknown', changedAt: null, source: null, eventId: null };
