/**
 * What the webhook parser makes of one POST from Meta: plain data, no I/O.
 * Every message Meta sends becomes an InboundMessage (unknown types included, stored as such);
 * items that cannot be understood become Problems and are quarantined with their reason.
 */
import type { MessageMedia } from '../../conversations/entities/message.entity';

/** Message types named in Meta's spec. Anything else is kept with its own type string. */
export const KNOWN_MESSAGE_TYPES = [
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'unsupported',
  'unknown',
  'request_welcome',
] as const;

export type KnownMessageType = (typeof KNOWN_MESSAGE_TYPES)[number];

export interface MetaError {
  code: number;
  title: string;
  message?: string;
  details?: string;
}

/** The media of a message, as Meta announces it (stored with the message: conversations owns the type). */
export type InboundMedia = MessageMedia;

export interface InboundContext {
  /** wamid of the message this one replies to. */
  replyTo?: string;
  /** Who sent the replied-to message. */
  from?: string;
  forwarded: boolean;
  frequentlyForwarded: boolean;
  /** When the customer asked about a catalog product. */
  referredProduct?: { catalogId?: string; productRetailerId?: string };
}

export interface InboundMessage {
  wamid: string;
  /** WhatsApp id of the customer (digits only). */
  waId: string;
  profileName?: string;
  /** The business number that received it. */
  phoneNumberId: string;
  displayPhoneNumber?: string;
  /** WhatsApp Business Account id (entry.id). */
  wabaId: string;
  /** When WhatsApp says the customer sent it. */
  timestamp: Date;
  type: string;
  /** Text the customer typed: text body, caption, button/list title, reaction emoji, system body… */
  body?: string;
  media?: InboundMedia;
  context?: InboundContext;
  /** Click-to-WhatsApp ad that started the chat, as Meta sent it. */
  referral?: Record<string, unknown>;
  /** For 'unsupported'/'unknown' and any message Meta attached errors to. */
  errors?: MetaError[];
  /** The type-specific object exactly as Meta sent it (e.g. the `location` object). */
  content: unknown;
}

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed' | string;

export interface InboundStatus {
  /** wamid of the message we sent. */
  wamid: string;
  status: DeliveryStatus;
  timestamp: Date;
  recipientId: string;
  phoneNumberId: string;
  errors: MetaError[];
  pricingCategory?: string;
  conversationId?: string;
}

export interface ParseProblem {
  /** Why it could not be understood, for the quarantine record. */
  reason: string;
  /** The offending part of the payload (a message, a status, a change, or the whole body). */
  fragment: unknown;
}

export interface ParsedWebhook {
  messages: InboundMessage[];
  statuses: InboundStatus[];
  problems: ParseProblem[];
  /** Changes of fields we do not handle (account updates, templates…): counted, not stored. */
  ignored: number;
}
