import { nextMediaId, nextWamid } from '../fakes/meta-ids';

/**
 * Builders for WhatsApp Cloud API webhook payloads, in Meta's exact envelope shape
 * (business-messaging-api_v23.0.yaml `WebhookPayload`, ../shared/VENDOR-APIS.md §1.3-1.6):
 *
 *   { object, entry: [{ id, changes: [{ value: { messaging_product, metadata, contacts, messages | statuses }, field }] }] }
 *
 * Every builder returns a plain object with realistic defaults (Meta's own sample numbers); callers
 * serialise it, e.g. with `postMetaWebhook` from test/fakes/meta-webhook, which signs the exact bytes.
 *
 * `a…Message()` / `aStatus()` build single items for `aBatchWebhook`; `a…Webhook()` wrap one item in an envelope.
 */

export { nextWamid } from '../fakes/meta-ids';

/** Meta's sample business identifiers, used as defaults. */
export const WEBHOOK_DEFAULTS = {
  wabaId: '419561257915477',
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '15550783881',
  waId: '16505551234',
  name: 'Sheena Nelson',
} as const;

/** The envelope Meta POSTs. Only the parts these builders produce are typed. */
export interface WhatsAppWebhookPayload {
  object: 'whatsapp_business_account';
  entry: Array<{ id: string; changes: Array<{ value: WhatsAppChangeValue; field: string }> }>;
}

/** `entry[].changes[].value` for the `messages` field. */
export interface WhatsAppChangeValue {
  messaging_product: 'whatsapp';
  metadata: { display_phone_number: string; phone_number_id: string };
  contacts?: Array<{ profile: { name: string }; wa_id: string }>;
  messages?: WebhookMessage[];
  statuses?: WebhookStatus[];
}

/** One inbound message item (`value.messages[]`). */
export interface WebhookMessage {
  from: string;
  id: string;
  timestamp: string;
  type: string;
  context?: { from: string; id: string };
  [payload: string]: unknown;
}

/** One status item (`value.statuses[]`). */
export interface WebhookStatus {
  id: string;
  status: string;
  timestamp: string;
  recipient_id: string;
  conversation?: { id: string; expiration_timestamp?: string; origin: { type: string } };
  pricing?: { billable: boolean; pricing_model: string; category: string };
  errors?: WebhookStatusError[];
}

/** A status error as Meta sends it on `failed`. */
export interface WebhookStatusError {
  code: number;
  title: string;
  message: string;
  error_data: { details: string };
  href: string;
}

/** Where the notification comes from (the business side). */
export interface EnvelopeOptions {
  /** Our phone number id (`metadata.phone_number_id`), used to route the notification. */
  phoneNumberId?: string;
  displayPhoneNumber?: string;
  /** WhatsApp Business Account id (`entry[].id`). */
  wabaId?: string;
}

/** Fields shared by every inbound message builder. */
export interface InboundMessageOptions extends EnvelopeOptions {
  /** The customer's wa_id (digits). Default '16505551234'. */
  waId?: string;
  /** The customer's profile name. Default 'Sheena Nelson'. */
  name?: string;
  /** Default: a fresh `nextWamid(waId)`. */
  wamid?: string;
  /** Unix seconds (string or number) or a Date. Default now. */
  timestamp?: string | number | Date;
  /** Marks the message as a reply to one of ours (`context`). */
  replyTo?: { wamid: string; from?: string };
}

/** Unix-seconds string, as Meta sends timestamps. */
export function toWebhookTimestamp(value: string | number | Date = new Date()): string {
  if (value instanceof Date) return String(Math.floor(value.getTime() / 1000));
  return String(value);
}

function baseMessage(opts: InboundMessageOptions, type: string): WebhookMessage {
  const waId = opts.waId ?? WEBHOOK_DEFAULTS.waId;
  const message: WebhookMessage = {
    from: waId,
    id: opts.wamid ?? nextWamid(waId),
    timestamp: toWebhookTimestamp(opts.timestamp),
    type,
  };
  if (opts.replyTo) {
    message.context = { from: opts.replyTo.from ?? opts.displayPhoneNumber ?? WEBHOOK_DEFAULTS.displayPhoneNumber, id: opts.replyTo.wamid };
  }
  return message;
}

function metadata(opts: EnvelopeOptions): WhatsAppChangeValue['metadata'] {
  return {
    display_phone_number: opts.displayPhoneNumber ?? WEBHOOK_DEFAULTS.displayPhoneNumber,
    phone_number_id: opts.phoneNumberId ?? WEBHOOK_DEFAULTS.phoneNumberId,
  };
}

function envelope(value: WhatsAppChangeValue, opts: EnvelopeOptions): WhatsAppWebhookPayload {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: opts.wabaId ?? WEBHOOK_DEFAULTS.wabaId, changes: [{ value, field: 'messages' }] }],
  };
}

function singleMessageWebhook(message: WebhookMessage, opts: InboundMessageOptions): WhatsAppWebhookPayload {
  return envelope(
    {
      messaging_product: 'whatsapp',
      metadata: metadata(opts),
      contacts: [{ profile: { name: opts.name ?? WEBHOOK_DEFAULTS.name }, wa_id: message.from }],
      messages: [message],
    },
    opts,
  );
}

/** Options for text messages. */
export interface TextMessageOptions extends InboundMessageOptions {
  /** Default 'Does it come in another color?' (Meta's example). */
  text?: string;
}

/** A `type: text` message item. */
export function aTextMessage(opts: TextMessageOptions = {}): WebhookMessage {
  return { ...baseMessage(opts, 'text'), text: { body: opts.text ?? 'Does it come in another color?' } };
}

/** A webhook carrying one inbound text message. */
export function aTextMessageWebhook(opts: TextMessageOptions = {}): WhatsAppWebhookPayload {
  return singleMessageWebhook(aTextMessage(opts), opts);
}

/** Options for image messages; pass the id and sha256 from `MetaGraphFake.addMedia` to make them downloadable. */
export interface ImageMessageOptions extends InboundMessageOptions {
  /** Default: a fresh numeric id (not downloadable unless added to the fake). */
  mediaId?: string;
  /** base64 SHA-256 of the bytes. Default: Meta's sample hash. */
  sha256?: string;
  /** Default 'image/jpeg'. */
  mimeType?: string;
  caption?: string;
}

/** A `type: image` message item. */
export function anImageMessage(opts: ImageMessageOptions = {}): WebhookMessage {
  const image: Record<string, string> = {};
  if (opts.caption !== undefined) image.caption = opts.caption;
  image.mime_type = opts.mimeType ?? 'image/jpeg';
  image.sha256 = opts.sha256 ?? 'SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=';
  image.id = opts.mediaId ?? nextMediaId();
  return { ...baseMessage(opts, 'image'), image };
}

/** A webhook carrying one inbound image message. */
export function anImageMessageWebhook(opts: ImageMessageOptions = {}): WhatsAppWebhookPayload {
  return singleMessageWebhook(anImageMessage(opts), opts);
}

/** Options for location messages. Coordinates are numbers, as Meta sends them. */
export interface LocationMessageOptions extends InboundMessageOptions {
  latitude?: number;
  longitude?: number;
  /** Place name (`location.name`; `name` is the sender's profile name). */
  placeName?: string;
  address?: string;
  url?: string;
}

/** A `type: location` message item (defaults to Meta's Palo Alto example coordinates). */
export function aLocationMessage(opts: LocationMessageOptions = {}): WebhookMessage {
  const location: Record<string, string | number> = {};
  if (opts.address !== undefined) location.address = opts.address;
  location.latitude = opts.latitude ?? 37.44221496582;
  location.longitude = opts.longitude ?? -122.16165924072;
  if (opts.placeName !== undefined) location.name = opts.placeName;
  if (opts.url !== undefined) location.url = opts.url;
  return { ...baseMessage(opts, 'location'), location };
}

/** A webhook carrying one inbound location message. `name` is the sender's profile name. */
export function aLocationMessageWebhook(opts: LocationMessageOptions = {}): WhatsAppWebhookPayload {
  return singleMessageWebhook(aLocationMessage(opts), opts);
}

/** Options for a status item. */
export interface StatusOptions {
  /** The wamid of the message we sent. */
  wamid: string;
  status: 'sent' | 'delivered' | 'read' | 'failed' | (string & {});
  /** The customer's wa_id. Default '16505551234'. */
  recipientId?: string;
  timestamp?: string | number | Date;
  /** For `failed`. Default: one 131026 "Message undeliverable" error. */
  errors?: Array<{ code: number; title: string; message?: string; details?: string }>;
  /** Pricing category for sent/delivered. Default 'service'. */
  category?: string;
}

const ERROR_CODES_HREF = 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';

/**
 * A `statuses[]` item. `sent` and `delivered` carry `conversation` and `pricing` (sent also an
 * expiration), `read` carries neither, `failed` carries `errors`, matching what Meta sends.
 */
export function aStatus(opts: StatusOptions): WebhookStatus {
  const status: WebhookStatus = {
    id: opts.wamid,
    status: opts.status,
    timestamp: toWebhookTimestamp(opts.timestamp),
    recipient_id: opts.recipientId ?? WEBHOOK_DEFAULTS.waId,
  };
  if (opts.status === 'sent' || opts.status === 'delivered') {
    const category = opts.category ?? 'service';
    const conversationId = `CONVERSATION_${opts.recipientId ?? WEBHOOK_DEFAULTS.waId}`;
    status.conversation =
      opts.status === 'sent'
        ? { id: conversationId, expiration_timestamp: String(Number(status.timestamp) + 24 * 3600), origin: { type: category } }
        : { id: conversationId, origin: { type: category } };
    status.pricing = { billable: true, pricing_model: 'CBP', category };
  }
  if (opts.status === 'failed' || opts.errors) {
    const errors = opts.errors ?? [{ code: 131026, title: 'Message undeliverable' }];
    status.errors = errors.map((e) => ({
      code: e.code,
      title: e.title,
      message: e.message ?? e.title,
      error_data: { details: e.details ?? e.title },
      href: ERROR_CODES_HREF,
    }));
  }
  return status;
}

/** A webhook carrying one status update for a message we sent. */
export function aStatusWebhook(opts: StatusOptions & EnvelopeOptions): WhatsAppWebhookPayload {
  return envelope({ messaging_product: 'whatsapp', metadata: metadata(opts), statuses: [aStatus(opts)] }, opts);
}

/** Options for `aBatchWebhook`. */
export interface BatchOptions extends EnvelopeOptions {
  /** Profile names by wa_id for the `contacts[]` block. Default: 'Customer <wa_id>'. */
  names?: Record<string, string>;
}

/**
 * One POST carrying several messages and/or statuses in a single change, as Meta batches them.
 * `contacts[]` lists each distinct sender once, in order of first appearance.
 */
export function aBatchWebhook(
  messages: WebhookMessage[],
  statuses: WebhookStatus[] = [],
  opts: BatchOptions = {},
): WhatsAppWebhookPayload {
  const value: WhatsAppChangeValue = { messaging_product: 'whatsapp', metadata: metadata(opts) };
  if (messages.length > 0) {
    const senders = [...new Set(messages.map((m) => m.from))];
    value.contacts = senders.map((waId) => ({ profile: { name: opts.names?.[waId] ?? `Customer ${waId}` }, wa_id: waId }));
    value.messages = messages;
  }
  if (statuses.length > 0) value.statuses = statuses;
  return envelope(value, opts);
}

/** Options for `aStatusProgression`. */
export interface StatusProgressionOptions extends EnvelopeOptions {
  wamid: string;
  recipientId?: string;
  /** Time of `sent`; later statuses follow one second apart. Default now. */
  startAt?: Date;
  /** Leave out `delivered` (Meta may skip it when `read` implies it). */
  skipDelivered?: boolean;
  /** Deliver the webhooks newest first (Meta does not order statuses). */
  outOfOrder?: boolean;
  /** Repeat the webhook for this status at the end (Meta delivers duplicates). */
  duplicate?: 'sent' | 'delivered' | 'read';
}

/** The status webhooks for one sent message: sent → delivered → read, with Meta's irregularities on request. */
export function aStatusProgression(opts: StatusProgressionOptions): WhatsAppWebhookPayload[] {
  const start = (opts.startAt ?? new Date()).getTime();
  const statuses = (['sent', 'delivered', 'read'] as const).filter((s) => !(opts.skipDelivered && s === 'delivered'));
  const webhooks = statuses.map((status, i) => ({
    status,
    payload: aStatusWebhook({ ...opts, status, timestamp: new Date(start + i * 1000) }),
  }));
  const ordered = opts.outOfOrder ? [...webhooks].reverse() : webhooks;
  const duplicate = webhooks.find((w) => w.status === opts.duplicate);
  return [...ordered.map((w) => w.payload), ...(duplicate ? [structuredClone(duplicate.payload)] : [])];
}
