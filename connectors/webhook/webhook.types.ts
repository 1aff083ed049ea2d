/**
 * The bodies threadbridge sends to a webhook receiver and the one it takes back, in Standard
 * Webhooks' recommended shape `{ type, timestamp, data }`. webhook.schemas.ts publishes them as
 * JSON Schemas; change both together (test/webhook.mapper.spec.ts checks they agree).
 */

export const EVENT_TYPES = [
  'message.received',
  'message.sent',
  'message.status',
  'conversation.opened',
  'conversation.closed',
  'contact.erased',
  'consent.changed',
  'connection.test',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The customer as events name them. */
export interface ContactData {
  /** threadbridge's contact id (uuid). */
  id: string;
  /** WhatsApp id: digits only. */
  waId: string;
  /** E.164 with '+'. */
  e164: string;
  /** WhatsApp profile name; null when unknown. */
  name: string | null;
  /** The receiver's own id of this contact, once it answered one ({"contactId": …}). */
  externalId?: string;
}

export interface MediaData {
  /** Where threadbridge serves the file; absent while not stored. */
  url?: string;
  mimeType?: string;
  filename?: string;
  sizeBytes?: number;
  sha256?: string;
  /** Why the file is not available, when it is not. */
  unavailableReason?: string;
}

export interface MessageData {
  /** threadbridge's message id (uuid). */
  id: string;
  /** WhatsApp's message id. */
  wamid: string;
  direction: 'inbound' | 'outbound';
  /** WhatsApp's message type: text, image, location, … */
  type: string;
  /** The text, a caption, or a rendering of a location/contact/order. */
  text: string;
  /** Who wrote an outbound message (an agent's name, or the system); null for inbound. */
  author: string | null;
  media: MediaData | null;
  /** When WhatsApp says it was sent. */
  timestamp: string;
}

export interface MessageEventData {
  conversationId: string;
  /** The business phone number the customer wrote to (display form). */
  businessNumber: string;
  contact: ContactData;
  message: MessageData;
}

export interface ConversationOpenedData {
  conversationId: string;
  businessNumber: string;
  openedAt: string;
  contact: ContactData;
}

export interface TranscriptEntryData {
  timestamp: string;
  direction: 'inbound' | 'outbound';
  author: string;
  text: string;
  media: MediaData | null;
}

export interface ConversationClosedData {
  conversationId: string;
  businessNumber: string;
  openedAt: string;
  closedAt: string;
  contact: ContactData;
  transcript: { text: string; entries: TranscriptEntryData[] };
}

export interface MessageStatusData {
  /** The receiver's replyId this status is about. */
  replyId: string;
  conversationId: string | null;
  state: 'sent' | 'delivered' | 'read' | 'failed' | 'refused';
  /** What happened, for the agent (always given for failed/refused). */
  detail: string | null;
  at: string;
}

/** A contact as an event names it when only a reference is at hand. */
export interface ContactRefData {
  /** threadbridge's contact id, when known. */
  id?: string;
  /** The receiver's own id, once it answered one. */
  externalId?: string;
}

export interface ContactErasedData {
  contact: ContactRefData & { waId: string; e164: string };
}

export interface ConsentChangedData {
  contact: ContactRefData;
  scope: 'marketing' | 'transactional';
  optedIn: boolean;
  changedAt: string;
  /** What changed it: keyword:STOP, api, import… */
  source: string;
}

export interface ConnectionTestData {
  /** Always 'threadbridge is checking this endpoint'. */
  message: string;
}

export interface EventDataOf {
  'message.received': MessageEventData;
  'message.sent': MessageEventData;
  'message.status': MessageStatusData;
  'conversation.opened': ConversationOpenedData;
  'conversation.closed': ConversationClosedData;
  'contact.erased': ContactErasedData;
  'consent.changed': ConsentChangedData;
  'connection.test': ConnectionTestData;
}

export interface WebhookEvent<T extends EventType = EventType> {
  type: T;
  /** When the event happened (not when it was sent: that is the webhook-timestamp header). */
  timestamp: string;
  data: EventDataOf[T];
}

/** What the receiver posts to POST /webhooks/connections/:id. */
export interface ReplyCreatedEvent {
  type: 'reply.created';
  timestamp: string;
  data: {
    /** The receiver's id of the reply: the idempotency key. */
    replyId: string;
    /** threadbridge's conversation id, as the events gave it. */
    conversationId: string;
    text: string;
    /** The agent's name, as the customer may see it. */
    author: string;
  };
}

/** One event ready to go: its stable id, its exact bytes, and when it happened. */
export interface Delivery {
  /** webhook-id: the same on every attempt of this event. */
  id: string;
  type: EventType;
  body: string;
  occurredAt: Date;
}
