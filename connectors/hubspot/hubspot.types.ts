/**
 * HubSpot wire types: only the fields threadbridge reads or writes. Property values travel as
 * strings (HubSpot stores every property value as text, dates as ISO-8601 or epoch ms).
 */

/** CRM object types used, as the v3 objects API names them. */
export type HubspotObjectType = 'contacts' | 'tickets' | 'notes' | 'communications';

/** A CRM object as the v3 API returns it. */
export interface HubspotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: Date;
  updatedAt?: Date;
  archived?: boolean;
}

export interface HubspotAssociationInput {
  to: { id: string };
  types: { associationCategory: 'HUBSPOT_DEFINED'; associationTypeId: number }[];
}

/** Body of a create (single or one batch input): properties plus inline associations. */
export interface HubspotCreateInput {
  properties: Record<string, string>;
  associations?: HubspotAssociationInput[];
}

export type HubspotFilterOperator = 'EQ' | 'NEQ' | 'IN' | 'NOT_IN' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY' | 'CONTAINS_TOKEN';

export interface HubspotFilter {
  propertyName: string;
  operator: HubspotFilterOperator;
  value?: string;
  values?: string[];
}

/** CRM search: filterGroups are OR'ed (at most 6), filters inside a group AND'ed. */
export interface HubspotSearchRequest {
  filterGroups: { filters: HubspotFilter[] }[];
  properties?: string[];
  /** At most 200. */
  limit?: number;
  after?: string;
}

export interface HubspotSearchPage {
  total: number;
  results: HubspotObject[];
  /** Cursor of the next page, when there is one. */
  after?: string;
}

/** One failed input of a batch call answered 207. */
export interface HubspotBatchError {
  category?: string;
  message?: string;
  status?: string;
}

export interface HubspotBatchResult {
  results: HubspotObject[];
  errors: HubspotBatchError[];
}

export interface HubspotPropertyDefinition {
  name: string;
  label: string;
  type: 'string' | 'enumeration' | 'number' | 'datetime' | 'date' | 'bool';
  fieldType: string;
  groupName: string;
  description?: string;
  options?: { label: string; value: string; displayOrder?: number }[];
  /** No two objects of the type may hold the same value. HubSpot accepts it only when the property is created. */
  hasUniqueValue?: boolean;
}

/** An uploaded file (Files API v3). */
export interface HubspotFile {
  id: string;
  url?: string;
}

/** HUBSPOT_DEFINED association type ids (from → to) used here. */
export const ASSOCIATION = {
  communicationToContact: 81,
  communicationToTicket: 83,
  noteToContact: 202,
  noteToTicket: 228,
  ticketToContact: 16,
} as const;

/** Contact properties that may hold the customer's number: two free-text fields and WhatsApp's. */
export const CONTACT_PHONE_PROPERTIES = ['phone', 'mobilephone', 'hs_whatsapp_phone_number'] as const;

/**
 * Custom property on communications holding threadbridge's message id (the idempotency marker).
 * A unique-value property: HubSpot refuses a second communication with the same id, and reads
 * one back by it with a batch read (`idProperty`), which, unlike search, sees a write at once.
 * Portals set up before markers were unique hold `threadbridge_message_id` (not unique) on older
 * communications: HubSpot makes a property unique only when it is created, hence the new name.
 */
export const MESSAGE_ID_PROPERTY = 'threadbridge_message_uid';
/** Custom property on notes holding the transcript key (conversation + close time); unique, as above. */
export const TRANSCRIPT_ID_PROPERTY = 'threadbridge_transcript_uid';

// ---------------------------------------------------------------------------------------------
// Conversations custom channels (agent replies). The SDK has no client for these: see
// HubspotClient.request. Field names as in HubSpot's custom channels reference.

export type HubspotDeliveryIdentifierType = 'HS_PHONE_NUMBER' | 'HS_EMAIL_ADDRESS' | 'CHANNEL_SPECIFIC_OPAQUE_ID' | 'HS_SHORT_CODE';

export interface HubspotDeliveryIdentifier {
  type: HubspotDeliveryIdentifierType;
  value: string;
}

/** Body of the channel registration (on the developer app). */
export interface HubspotCustomChannelInput {
  name: string;
  webhookUrl: string;
  capabilities: Record<string, unknown>;
  channelDescription?: string;
  channelLogoUrl?: string;
  channelAccountConnectionRedirectUrl?: string;
}

export interface HubspotCustomChannel {
  id: string;
  name?: string;
  webhookUrl?: string;
}

/** Body of a channel account: connects one portal's inbox to the channel under our number. */
export interface HubspotChannelAccountInput {
  name: string;
  inboxId: string;
  deliveryIdentifier: HubspotDeliveryIdentifier;
  authorized: boolean;
}

export interface HubspotChannelAccount {
  id: string;
  channelId?: string;
  inboxId?: string;
}

export type HubspotFileUsageType = 'AUDIO' | 'IMAGE' | 'OTHER' | 'STICKER' | 'VOICE_RECORDING';

export interface HubspotChannelParticipant {
  deliveryIdentifier: HubspotDeliveryIdentifier;
  name?: string;
}

/** Body of a published message (a customer's WhatsApp message shown in the inbox thread). */
export interface HubspotChannelMessageInput {
  messageDirection: 'INCOMING';
  channelAccountId: string;
  senders: HubspotChannelParticipant[];
  recipients: HubspotChannelParticipant[];
  text: string;
  /** ISO 8601. */
  timestamp: string;
  /** Threads the inbox conversation: threadbridge's conversation id. */
  integrationThreadId: string;
  /** HubSpot keeps one message per id: threadbridge's message id, so a retry never duplicates. */
  integrationIdempotencyId: string;
  /** The customer's contact (the one contacts.ensure found or made), so HubSpot does not match or create another. */
  associateWithContactId?: number;
  attachments: { type: 'FILE'; fileId: string; fileUsageType: HubspotFileUsageType }[];
}

export interface HubspotChannelMessage {
  id: string;
  conversationsThreadId?: string;
  direction?: string;
}

export type HubspotChannelStatusType = 'SENT' | 'FAILED' | 'READ';

/** Body of the status update of an outgoing (agent) message. */
export interface HubspotChannelStatusUpdate {
  statusType: HubspotChannelStatusType;
  errorMessage?: string;
}

/** The event HubSpot posts to the channel's webhookUrl when an agent sends a message. */
export const OUTGOING_MESSAGE_EVENT = 'OUTGOING_CHANNEL_MESSAGE_CREATED';
