/**
 * Turns one POST body from Meta's WhatsApp Cloud API webhook into plain, normalized data.
 * Pure: no I/O, no clock. Only an unusable envelope throws; anything smaller that cannot be
 * understood (one entry, one change, one message, one status) becomes a ParseProblem and the rest
 * of the batch is kept, because Meta retries the whole POST on a non-200 and would re-deliver the
 * good items with the bad one forever.
 */
import {
  InboundMessageDto,
  InboundStatusDto,
  MessagesValueDto,
  validateDto,
  WebhookChangeDto,
  WebhookEntryDto,
  WebhookEnvelopeDto,
} from './inbound.dto';
import type {
  InboundContext,
  InboundMedia,
  InboundMessage,
  InboundStatus,
  MetaError,
  ParsedWebhook,
} from './inbound.types';
import { booleanOf, isJson, type Json, numberOf, objectOf, stringOf, textOf } from './json-readers';

/** The whole body is unusable (not a JSON object, not a WhatsApp webhook, `entry` not an array…). */
export class MalformedWebhookError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'MalformedWebhookError';
  }
}

/** Where the messages of one change came from, shared by all of them. */
interface ChangeOrigin {
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber?: string;
  contacts: unknown[];
}

/** Message types whose payload is a downloadable media object. */
const MEDIA_TYPES = new Set(['image', 'audio', 'video', 'document', 'sticker']);

/**
 * Parses one webhook body. Accepts the parsed JSON, or the raw bytes/string (what the signature
 * check already holds), and iterates every entry, change, message and status.
 * @throws MalformedWebhookError when the envelope itself is unusable.
 */
export function parseWhatsAppWebhook(body: unknown): ParsedWebhook {
  const envelope = validateDto(WebhookEnvelopeDto, decode(body), '');
  if (!envelope.ok) throw new MalformedWebhookError(`not a WhatsApp webhook: ${envelope.reason}`);

  const result: ParsedWebhook = { messages: [], statuses: [], problems: [], ignored: 0 };
  for (const [e, rawEntry] of envelope.value.entry.entries()) {
    const entry = validateDto(WebhookEntryDto, rawEntry, `entry[${e}]`);
    if (!entry.ok) {
      result.problems.push({ reason: entry.reason, fragment: rawEntry });
      continue;
    }
    for (const [c, rawChange] of entry.value.changes.entries()) {
      const changePath = `entry[${e}].changes[${c}]`;
      const change = validateDto(WebhookChangeDto, rawChange, changePath);
      if (!change.ok) result.problems.push({ reason: change.reason, fragment: rawChange });
      else if (change.value.field !== 'messages') result.ignored++;
      else parseMessagesValue(entry.value.id, change.value.value, `${changePath}.value`, result);
    }
  }
  return result;
}

function decode(body: unknown): unknown {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return body;
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedWebhookError(`body is not JSON: ${(error as Error).message}`);
  }
}

function parseMessagesValue(wabaId: string, rawValue: unknown, path: string, result: ParsedWebhook): void {
  const checked = validateDto(MessagesValueDto, rawValue, path);
  if (!checked.ok) {
    result.problems.push({ reason: checked.reason, fragment: rawValue });
    return;
  }
  const value = checked.value;
  const origin: ChangeOrigin = {
    wabaId,
    phoneNumberId: value.metadata.phone_number_id,
    displayPhoneNumber: value.metadata.display_phone_number,
    contacts: value.contacts ?? [],
  };

  for (const [i, rawMessage] of (value.messages ?? []).entries()) {
    const message = validateDto(InboundMessageDto, rawMessage, `${path}.messages[${i}]`);
    if (message.ok) result.messages.push(toInboundMessage(message.value, origin));
    else result.problems.push({ reason: message.reason, fragment: rawMessage });
  }

  for (const [i, rawStatus] of (value.statuses ?? []).entries()) {
    const status = validateDto(InboundStatusDto, rawStatus, `${path}.statuses[${i}]`);
    if (status.ok) result.statuses.push(toInboundStatus(status.value, origin.phoneNumberId));
    else result.problems.push({ reason: status.reason, fragment: rawStatus });
  }

  // An errors-only value: Meta could not deliver something to us (e.g. a message it failed to
  // process). There is nothing to store as a message, but an operator must see it.
  for (const [i, rawError] of (value.errors ?? []).entries()) {
    const error = toMetaError(rawError);
    const details = error.details ? ` (${error.details})` : '';
    result.problems.push({
      reason: `meta error notification: ${path}.errors[${i}]: ${error.code} ${error.title}${details}`,
      fragment: rawError,
    });
  }
}

function toInboundMessage(message: InboundMessageDto & Json, origin: ChangeOrigin): InboundMessage {
  const content = message[message.type];
  return {
    wamid: message.id,
    waId: message.from,
    profileName: profileNameOf(message.from, origin.contacts),
    phoneNumberId: origin.phoneNumberId,
    displayPhoneNumber: origin.displayPhoneNumber,
    wabaId: origin.wabaId,
    timestamp: fromUnixSeconds(message.timestamp),
    type: message.type,
    body: bodyOf(message.type, content),
    media: MEDIA_TYPES.has(message.type) ? mediaOf(content) : undefined,
    context: contextOf(message.context),
    referral: isJson(message.referral) ? message.referral : undefined,
    errors: Array.isArray(message.errors) ? message.errors.map(toMetaError) : undefined,
    content,
  };
}

function toInboundStatus(status: InboundStatusDto & Json, phoneNumberId: string): InboundStatus {
  return {
    wamid: status.id,
    status: status.status,
    timestamp: fromUnixSeconds(status.timestamp),
    recipientId: status.recipient_id,
    phoneNumberId,
    errors: Array.isArray(status.errors) ? status.errors.map(toMetaError) : [],
    pricingCategory: stringOf(objectOf(status.pricing).category),
    conversationId: stringOf(objectOf(status.conversation).id),
  };
}

/** The sender's profile: the contact whose wa_id is the sender, else the only contact given. */
function profileNameOf(from: string, contacts: unknown[]): string | undefined {
  const profiles = contacts.filter(isJson);
  const contact = profiles.find((c) => c.wa_id === from) ?? (profiles.length === 1 ? profiles[0] : undefined);
  return stringOf(objectOf(contact?.profile).name);
}

/** What the customer typed or chose, per type; undefined for types that carry no text. */
function bodyOf(type: string, rawContent: unknown): string | undefined {
  const content = objectOf(rawContent);
  switch (type) {
    case 'text':
    case 'system':
      return stringOf(content.body);
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
    case 'sticker':
      return stringOf(content.caption);
    case 'button':
      return stringOf(content.text);
    case 'interactive': {
      const reply = objectOf(content.button_reply ?? content.list_reply);
      return stringOf(reply.title);
    }
    case 'reaction':
      // An empty emoji is meaningful: the customer removed their reaction.
      return stringOf(content.emoji);
    case 'order':
      // Meta sends "" when the customer added no note.
      return textOf(content.text);
    default:
      return undefined;
  }
}

/** Without a media id there is nothing to download: the message is kept without media. */
function mediaOf(rawContent: unknown): InboundMedia | undefined {
  const content = objectOf(rawContent);
  const id = stringOf(content.id);
  if (id === undefined) return undefined;
  return {
    id,
    mimeType: stringOf(content.mime_type),
    sha256: stringOf(content.sha256),
    filename: stringOf(content.filename),
    caption: stringOf(content.caption),
    voice: booleanOf(content.voice),
    animated: booleanOf(content.animated),
  };
}

function contextOf(raw: unknown): InboundContext | undefined {
  if (!isJson(raw)) return undefined;
  const product = isJson(raw.referred_product) ? raw.referred_product : undefined;
  return {
    replyTo: stringOf(raw.id),
    from: stringOf(raw.from),
    forwarded: raw.forwarded === true,
    frequentlyForwarded: raw.frequently_forwarded === true,
    referredProduct: product && {
      catalogId: stringOf(product.catalog_id),
      productRetailerId: stringOf(product.product_retailer_id),
    },
  };
}

/** Meta's error object (message `errors[]`, status `errors[]`, value `errors[]`), read leniently. */
function toMetaError(raw: unknown): MetaError {
  const error = objectOf(raw);
  return {
    code: numberOf(error.code) ?? 0,
    title: stringOf(error.title) ?? stringOf(error.message) ?? 'Unknown error',
    message: stringOf(error.message),
    details: stringOf(objectOf(error.error_data).details),
  };
}

/** The DTO has already checked the digits; ten digits at most, so the Date is always valid. */
function fromUnixSeconds(seconds: string): Date {
  return new Date(Number(seconds) * 1000);
}
