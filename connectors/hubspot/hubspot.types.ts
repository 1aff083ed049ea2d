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

/** Custom property on communications holding threadbridge's message id (the idempotency marker). */
export const MESSAGE_ID_PROPERTY = 'threadbridge_message_id';
/** Custom property on notes holding the transcript key (conversation + close time). */
export const TRANSCRIPT_ID_PROPERTY = 'threadbridge_transcript_id';
