/**
 * Pure translation between threadbridge's unified models and HubSpot's wire shapes. No I/O.
 */
import type { AgentReplyEvent, ConsentState, Customer, MediaRef, ReplyStatus, Thread, TicketRouting, Transcript, UnifiedMessage } from '../_sdk/contract';
import { ConnectorError } from '../_sdk/errors';
import { countryOf, phoneVariants, toE164 } from '../_sdk/phone';
import type { HubspotSettings, HubspotTicketSettings } from './hubspot.credentials';
import {
  ASSOCIATION,
  CONTACT_PHONE_PROPERTIES,
  type HubspotFilter,
  MESSAGE_ID_PROPERTY,
  TRANSCRIPT_ID_PROPERTY,
  OUTGOING_MESSAGE_EVENT,
  type HubspotAssociationInput,
  type HubspotChannelMessageInput,
  type HubspotChannelStatusUpdate,
  type HubspotCreateInput,
  type HubspotFileUsageType,
  type HubspotObject,
  type HubspotPropertyDefinition,
  type HubspotSearchRequest,
} from './hubspot.types';

/**
 * Filter groups (OR'ed) we put in one search. HubSpot has allowed 5 since its 2024-08 search
 * change (older documentation says 3 or 6): 5 is what every portal accepts today.
 */
export const MAX_FILTER_GROUPS = 5;
/**
 * Values in one IN filter we send at once. HubSpot documents no higher bound we could rely on;
 * 100 matches its batch limits and keeps request bodies small.
 */
export const MAX_IN_VALUES = 100;
/** Largest page a CRM search returns. */
export const MAX_SEARCH_LIMIT = 200;
/** Hits a CRM search serves in all, however it is paged (HubSpot answers 400 beyond). */
export const MAX_SEARCH_RESULTS = 10_000;

const association = (id: string, associationTypeId: number): HubspotAssociationInput => ({
  to: { id },
  types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId }],
});

// ---------------------------------------------------------------------------------------------
// Contacts

/** Splits a WhatsApp profile name into HubSpot's firstname/lastname ("Anna Maria Nowak" → Anna / Maria Nowak). */
export function splitName(profileName: string | undefined): { firstname?: string; lastname?: string } {
  const words = (profileName ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return {};
  if (words.length === 1) return { firstname: words[0] };
  return { firstname: words[0], lastname: words.slice(1).join(' ') };
}

/** Properties of a new contact for a WhatsApp customer: name from the profile, phone in E.164. */
export function toHubspotContact(customer: Customer): Record<string, string> {
  return {
    ...splitName(customer.profileName),
    phone: customer.e164,
    hs_whatsapp_phone_number: customer.e164,
  };
}

/** Properties a contact search or batch read returns: enough to match and rank contacts. */
export const CONTACT_READ_PROPERTIES = [...CONTACT_PHONE_PROPERTIES, 'firstname', 'lastname', 'createdate', 'hs_merged_object_ids'];

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The written forms searched for one number (the E.164 itself when it has none). */
function searchValues(e164: string): string[] {
  const variants = phoneVariants(e164);
  return variants.length > 0 ? variants : [e164];
}

/**
 * The fewest searches that look for every written form of every number in each phone property:
 * one IN filter per (property, ≤ MAX_IN_VALUES values), each filter its own OR'ed group,
 * MAX_FILTER_GROUPS groups per search. 100 Polish customers (11 forms each) take 7 searches.
 */
export function toContactSearches(e164s: string[]): HubspotSearchRequest[] {
  const values = [...new Set(e164s.flatMap(searchValues))];
  if (values.length === 0) return [];
  const filters: HubspotFilter[] = CONTACT_PHONE_PROPERTIES.flatMap((propertyName) =>
    chunk(values, MAX_IN_VALUES).map((part) => ({ propertyName, operator: 'IN' as const, values: part })),
  );
  return chunk(filters, MAX_FILTER_GROUPS).map((group) => ({
    filterGroups: group.map((filter) => ({ filters: [filter] })),
    properties: CONTACT_READ_PROPERTIES,
    limit: MAX_SEARCH_LIMIT,
  }));
}

/**
 * A search for every written form of the customer's number in each phone property: one OR'ed
 * group per property, each a single IN filter (3 groups, within HubSpot's limit of 5).
 */
export function toContactSearch(e164: string): HubspotSearchRequest {
  return toContactSearches([e164])[0];
}

/** 0: the WhatsApp property reads as the number; 1: phone/mobilephone does; 2: a field holds one of its forms as typed. */
type ContactRank = 0 | 1 | 2;

const createdMs = (c: HubspotObject): number => {
  const ms = c.createdAt?.getTime() ?? Date.parse(c.properties.createdate ?? '');
  return Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER;
};

/** Better first: rank, then the oldest (duplicates are usually newer copies), then the lower id. */
const better = (a: { rank: number; contact: HubspotObject }, b: { rank: number; contact: HubspotObject }): number =>
  a.rank - b.rank || createdMs(a.contact) - createdMs(b.contact) || Number(a.contact.id) - Number(b.contact.id);

/**
 * Picks the customer among search hits: a contact whose WhatsApp number is this number first,
 * then one whose phone/mobilephone reads as this number, then any hit; the oldest within a rank
 * (duplicates are usually newer copies of the original).
 */
export function pickContact(results: HubspotObject[], e164: string): HubspotObject | undefined {
  const matched = matchContacts(results, [e164]).get(e164);
  if (matched) return matched;
  // A single-number search only returns forms of this number: any hit is the customer's.
  return [...results].map((contact) => ({ rank: 3, contact })).sort(better)[0]?.contact;
}

/**
 * Matches the hits of one or more searches back to the numbers searched for (e164 → contact):
 * each stored phone value is normalised with toE164 in the country of every number searched, so
 * "601 234 567" belongs to +48601234567 and "(650) 555-1234" to +16505551234. A value that does
 * not normalise but equals one of a number's written forms still counts, ranked last. Among the
 * contacts of a number the best is kept (see pickContact). Numbers without a hit are absent.
 */
export function matchContacts(results: HubspotObject[], e164s: string[]): Map<string, HubspotObject> {
  const wanted = new Set(e164s);
  const countries = [...new Set(e164s.map((e) => countryOf(e)))];
  const byForm = new Map<string, string[]>();
  for (const e164 of wanted) {
    for (const form of searchValues(e164)) {
      const key = form.toLowerCase();
      byForm.set(key, [...(byForm.get(key) ?? []), e164]);
    }
  }
  const best = new Map<string, { rank: ContactRank; contact: HubspotObject }>();
  const offer = (e164: string, rank: ContactRank, contact: HubspotObject): void => {
    const current = best.get(e164);
    if (!current || better({ rank, contact }, current) < 0) best.set(e164, { rank, contact });
  };
  for (const contact of results) {
    const ranks = new Map<string, ContactRank>();
    for (const property of CONTACT_PHONE_PROPERTIES) {
      const value = contact.properties[property];
      if (!value) continue;
      const readRank: ContactRank = property === 'hs_whatsapp_phone_number' ? 0 : 1;
      for (const country of countries) {
        const e164 = toE164(value, country);
        if (e164 && wanted.has(e164)) ranks.set(e164, Math.min(ranks.get(e164) ?? 2, readRank) as ContactRank);
      }
      for (const e164 of byForm.get(value.trim().toLowerCase()) ?? []) if (!ranks.has(e164)) ranks.set(e164, 2);
    }
    for (const [e164, rank] of ranks) offer(e164, rank, contact);
  }
  return new Map([...best].map(([e164, { contact }]) => [e164, contact]));
}

/**
 * Assigns the results of a contact batch create to the numbers created (e164 → contact) by the
 * number written on each. Should HubSpot have rewritten a number beyond recognition, the
 * results left over go in input order to the numbers left (`reordered`).
 */
export function assignCreatedContacts(e164s: string[], results: HubspotObject[]): { byNumber: Map<string, HubspotObject>; reordered: boolean } {
  const byNumber = matchContacts(results, e164s);
  const taken = new Set([...byNumber.values()].map((c) => c.id));
  const spare = results.filter((r) => !taken.has(r.id));
  const left = e164s.filter((e164) => !byNumber.has(e164));
  left.slice(0, spare.length).forEach((e164, i) => byNumber.set(e164, spare[i]));
  return { byNumber, reordered: spare.length > 0 && left.length > 0 };
}

/**
 * Matches a batch read back to the ids asked for (asked id → object); ids HubSpot no longer
 * holds are absent. An id of a merged-away record is answered with the surviving record, which
 * lists the old ids in hs_merged_object_ids.
 */
export function matchReadObjects(results: HubspotObject[], ids: string[]): Map<string, HubspotObject> {
  const wanted = new Set(ids);
  const found = new Map<string, HubspotObject>();
  for (const obj of results) {
    if (obj.archived) continue;
    const aliases = [obj.id, ...(obj.properties.hs_merged_object_ids ?? '').split(';').map((s) => s.trim())];
    for (const id of aliases) if (id && wanted.has(id) && !found.has(id)) found.set(id, obj);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Messages → communications

/** Escapes text for HubSpot's HTML body fields. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const paragraph = (html: string): string => `<p>${html}</p>`;
const multiline = (text: string): string => escapeHtml(text).replace(/\r?\n/g, '<br>');

/** The HTML line for a media item: a link to the uploaded file, else to threadbridge's copy. */
export function mediaHtml(type: string, media: MediaRef | undefined, uploadedUrl?: string): string | undefined {
  if (!media) return undefined;
  const label = escapeHtml(media.filename ?? `${type}${media.mimeType ? ` (${media.mimeType})` : ''}`);
  const href = uploadedUrl ?? media.url;
  if (href) return paragraph(`📎 <a href="${escapeHtml(href)}">${label}</a>`);
  return paragraph(`📎 ${label}: not available${media.unavailableReason ? ` (${escapeHtml(media.unavailableReason)})` : ''}`);
}

/** hs_communication_body for one message: author for outbound ones, text, media link. */
export function toCommunicationBody(message: UnifiedMessage, uploadedUrl?: string): string {
  const parts: string[] = [];
  const text = message.text.trim();
  if (message.direction === 'outbound') {
    parts.push(paragraph(`<strong>${escapeHtml(message.author ?? 'Business')}:</strong>${text ? ` ${multiline(text)}` : ''}`));
  } else if (text) {
    parts.push(paragraph(multiline(text)));
  }
  const media = mediaHtml(message.type, message.media, uploadedUrl);
  if (media) parts.push(media);
  if (parts.length === 0) parts.push(paragraph(`[${escapeHtml(message.type)}]`));
  return parts.join('');
}

/** A WhatsApp communication on the contact (and ticket) timeline, marked with our message id. */
export function toHubspotCommunication(thread: Thread, message: UnifiedMessage, uploadedUrl?: string): HubspotCreateInput {
  const associations = [association(thread.contact.id, ASSOCIATION.communicationToContact)];
  if (thread.ticket) associations.push(association(thread.ticket.id, ASSOCIATION.communicationToTicket));
  return {
    properties: {
      hs_communication_channel_type: 'WHATS_APP',
      hs_communication_logged_from: 'CRM',
      hs_communication_body: toCommunicationBody(message, uploadedUrl),
      hs_timestamp: message.timestamp.toISOString(),
      [MESSAGE_ID_PROPERTY]: message.id,
    },
    associations,
  };
}

/**
 * Matches a batch read by a marker property back to the markers asked for (marker → object id).
 * Archived objects do not count: their marker no longer stands for a record on the timeline.
 */
export function matchMarkers(results: HubspotObject[], property: string, markers: string[]): Map<string, string> {
  const wanted = new Set(markers);
  const found = new Map<string, string>();
  for (const obj of results) {
    const marker = obj.properties[property];
    if (!obj.archived && marker && wanted.has(marker) && !found.has(marker)) found.set(marker, obj.id);
  }
  return found;
}

/** The marker property on communications (created once per portal, with unique values). */
export const MESSAGE_ID_PROPERTY_DEFINITION: HubspotPropertyDefinition = {
  name: MESSAGE_ID_PROPERTY,
  label: 'threadbridge message id',
  type: 'string',
  fieldType: 'text',
  groupName: 'communicationinformation',
  description: 'WhatsApp message logged by threadbridge (unique: keeps a message to one communication).',
  hasUniqueValue: true,
};

export const TRANSCRIPT_ID_PROPERTY_DEFINITION: HubspotPropertyDefinition = {
  name: TRANSCRIPT_ID_PROPERTY,
  label: 'threadbridge transcript id',
  type: 'string',
  fieldType: 'text',
  groupName: 'noteinformation',
  description: 'WhatsApp conversation transcript attached by threadbridge (unique: keeps a transcript to one note).',
  hasUniqueValue: true,
};

/** The consent property on contacts, an enumeration of opted_in / opted_out. */
export function consentPropertyDefinition(name: string): HubspotPropertyDefinition {
  return {
    name,
    label: 'WhatsApp marketing consent',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'contactinformation',
    description: 'Whether the contact agreed to marketing messages on WhatsApp (kept in step by threadbridge).',
    options: [
      { label: 'Opted in', value: 'opted_in', displayOrder: 0 },
      { label: 'Opted out', value: 'opted_out', displayOrder: 1 },
    ],
  };
}

/** File name for an uploaded media item: unique per message, safe for HubSpot's file manager. */
export function toFileName(messageId: string, type: string, media: MediaRef): string {
  const base = (media.filename ?? `${type}${extensionFor(media.mimeType)}`).replace(/[^\w.-]+/g, '_').slice(-80);
  return `${messageId}-${base}`;
}

function extensionFor(mimeType: string | undefined): string {
  const sub = mimeType?.split('/')[1]?.split(';')[0];
  if (!sub) return '';
  const known: Record<string, string> = { jpeg: '.jpg', png: '.png', webp: '.webp', ogg: '.ogg', mpeg: '.mp3', mp4: '.mp4', pdf: '.pdf', plain: '.txt' };
  return known[sub] ?? `.${sub.replace(/[^\w]/g, '')}`;
}

// ---------------------------------------------------------------------------------------------
// Tickets

/** Fills {{name}}, {{phone}}, {{businessNumber}} in the subject template. */
export function renderSubject(template: string, thread: Thread): string {
  const values: Record<string, string> = {
    name: thread.customer.profileName?.trim() || thread.customer.e164,
    phone: thread.customer.e164,
    businessNumber: thread.businessNumber,
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole).slice(0, 255);
}

/** A new ticket in the configured pipeline's open stage, associated to the contact. */
export function toHubspotTicket(thread: Thread, tickets: HubspotTicketSettings, routing?: { properties: Record<string, string>; unresolved: string[] }): HubspotCreateInput {
  const unresolved = routing?.unresolved.length ? ` Routing: ${routing.unresolved.join('; ')}.` : '';
  return {
    properties: {
      ...routing?.properties,
      subject: renderSubject(tickets.subjectTemplate, thread),
      content: `WhatsApp conversation with ${thread.customer.profileName?.trim() || thread.customer.e164} (${thread.customer.e164}) on ${thread.businessNumber}.${unresolved}`,
      hs_pipeline: tickets.pipeline,
      hs_pipeline_stage: tickets.openStage,
    },
    associations: [association(thread.contact.id, ASSOCIATION.ticketToContact)],
  };
}

/**
 * What identifies a new ticket among the results of a batch create, which HubSpot does not
 * promise in input order: its written subject and content (content names the customer's
 * number and the business number). Two inputs with the same key are interchangeable tickets.
 */
export function ticketKey(properties: Record<string, string | null | undefined>): string {
  const norm = (v: string | null | undefined): string => (v ?? '').replace(/\s+/g, ' ').trim();
  return `${norm(properties.subject)}\n${norm(properties.content)}`;
}

/**
 * Assigns the results of a ticket batch create to its inputs (ids[i] for inputs[i]) by
 * {@link ticketKey}. Should HubSpot have altered what was written so that some results match no
 * input, those are assigned in input order to the inputs left (`reordered`).
 */
export function assignCreatedTickets(inputs: HubspotCreateInput[], results: HubspotObject[]): { ids: (string | undefined)[]; reordered: boolean } {
  const waiting = new Map<string, number[]>();
  inputs.forEach((input, i) => {
    const key = ticketKey(input.properties);
    waiting.set(key, [...(waiting.get(key) ?? []), i]);
  });
  const ids: (string | undefined)[] = inputs.map(() => undefined);
  const unmatched: HubspotObject[] = [];
  for (const result of results) {
    const index = waiting.get(ticketKey(result.properties))?.shift();
    if (index === undefined) unmatched.push(result);
    else ids[index] = result.id;
  }
  const left = ids.flatMap((id, i) => (id === undefined ? [i] : []));
  unmatched.slice(0, left.length).forEach((result, j) => {
    ids[left[j]] = result.id;
  });
  return { ids, reordered: unmatched.length > 0 };
}

export type TicketDecision = 'keep' | 'reopen' | 'new';

/**
 * The ticket policy: keep a ticket that is not in a closed stage; reopen one closed within
 * reopenWithinHours; otherwise open a new one. A closed ticket without a close date (set by
 * HubSpot when it enters a closed stage) counts from its last modification.
 */
export function decideTicket(ticket: HubspotObject, tickets: HubspotTicketSettings, now: Date): TicketDecision {
  const stage = ticket.properties.hs_pipeline_stage ?? '';
  if (ticket.properties.hs_pipeline && ticket.properties.hs_pipeline !== tickets.pipeline) return 'new';
  if (!tickets.closedStages.includes(stage)) return 'keep';
  const closedAt = Date.parse(ticket.properties.closed_date || ticket.properties.hs_lastmodifieddate || '');
  if (!Number.isFinite(closedAt)) return 'new';
  return now.getTime() - closedAt <= tickets.reopenWithinHours * 3_600_000 ? 'reopen' : 'new';
}

export const TICKET_READ_PROPERTIES = ['hs_pipeline', 'hs_pipeline_stage', 'closed_date', 'hs_lastmodifieddate', 'hs_merged_object_ids'];

// ---------------------------------------------------------------------------------------------
// Transcripts → notes

/** Identifies one closing of one conversation, so a retried transcript is not attached twice. */
export function transcriptKey(transcript: Transcript): string {
  return `${transcript.conversationId}:${transcript.closedAt.toISOString()}`;
}

/** The transcript as note HTML; `uploadedUrls[i]` is the uploaded file of entry i, if any. */
export function toTranscriptHtml(transcript: Transcript, uploadedUrls: (string | undefined)[] = []): string {
  const header = paragraph(
    `<strong>WhatsApp conversation</strong> ${escapeHtml(transcript.openedAt.toISOString())} – ${escapeHtml(transcript.closedAt.toISOString())} (${transcript.entries.length} messages)`,
  );
  const lines = transcript.entries.map((entry, i) => {
    const who = `${escapeHtml(entry.author)}${entry.direction === 'outbound' ? ' (business)' : ''}`;
    const media = entry.media ? mediaHtml('attachment', entry.media, uploadedUrls[i]) : undefined;
    const text = entry.text.trim() ? ` ${multiline(entry.text.trim())}` : '';
    return paragraph(`[${escapeHtml(entry.timestamp.toISOString())}] <strong>${who}:</strong>${text}`) + (media ?? '');
  });
  return header + lines.join('');
}

/** A note with the transcript, its files attached, associated to the contact and the ticket. */
export function toHubspotTranscriptNote(thread: Thread, transcript: Transcript, files: ({ id: string; url?: string } | undefined)[]): HubspotCreateInput {
  const attachmentIds = files.filter((f): f is { id: string; url?: string } => !!f).map((f) => f.id);
  const associations = [association(thread.contact.id, ASSOCIATION.noteToContact)];
  if (thread.ticket) associations.push(association(thread.ticket.id, ASSOCIATION.noteToTicket));
  return {
    properties: {
      hs_note_body: toTranscriptHtml(transcript, files.map((f) => f?.url)),
      hs_timestamp: transcript.closedAt.toISOString(),
      ...(attachmentIds.length ? { hs_attachment_ids: attachmentIds.join(';') } : {}),
      [TRANSCRIPT_ID_PROPERTY]: transcriptKey(transcript),
    },
    associations,
  };
}

// ---------------------------------------------------------------------------------------------
// Conversations custom channel: customer messages in, agent replies out

/** How the inbox shows an attached file, from the WhatsApp message type and MIME type. */
export function toFileUsageType(type: string, mimeType: string | undefined): HubspotFileUsageType {
  if (type === 'sticker') return 'STICKER';
  if (type === 'image') return 'IMAGE';
  if (type === 'audio' || mimeType?.startsWith('audio/')) return /opus/i.test(mimeType ?? '') ? 'VOICE_RECORDING' : 'AUDIO';
  return 'OTHER';
}

/**
 * The plain text of a customer message in the inbox: its text (captions and renderings of
 * locations, contacts… included), what to open when the file could not be attached, else its
 * type in brackets (HubSpot wants text on every message).
 */
export function toChannelText(message: UnifiedMessage, attached: boolean): string {
  const parts: string[] = [];
  const text = message.text.trim();
  if (text) parts.push(text);
  if (message.media && !attached) {
    const label = message.media.filename ?? message.type;
    if (message.media.url) parts.push(`📎 ${label}: ${message.media.url}`);
    else parts.push(`📎 ${label}: not available${message.media.unavailableReason ? ` (${message.media.unavailableReason})` : ''}`);
  }
  return parts.length > 0 ? parts.join('\n') : `[${message.type}]`;
}

/**
 * A customer's WhatsApp message published into the inbox thread of its conversation: from the
 * customer's number to our business number, on the customer's contact, threaded by the
 * conversation id, deduplicated by HubSpot on the message id.
 */
export function toChannelMessage(
  thread: Thread,
  message: UnifiedMessage,
  channel: { channelAccountId: string; deliveryIdentifier: string },
  file?: { id: string },
): HubspotChannelMessageInput {
  const contactId = /^\d{1,15}$/.test(thread.contact.id) ? Number(thread.contact.id) : undefined;
  return {
    messageDirection: 'INCOMING',
    channelAccountId: channel.channelAccountId,
    senders: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: thread.customer.e164 }, name: thread.customer.profileName?.trim() || thread.customer.e164 }],
    recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: channel.deliveryIdentifier } }],
    text: toChannelText(message, file !== undefined),
    timestamp: message.timestamp.toISOString(),
    integrationThreadId: thread.conversationId,
    integrationIdempotencyId: message.id,
    ...(contactId !== undefined ? { associateWithContactId: contactId } : {}),
    attachments: file ? [{ type: 'FILE', fileId: file.id, fileUsageType: toFileUsageType(message.type, message.media?.mimeType) }] : [],
  };
}

/** HubSpot's error messages are short; the agent sees this one under their message. */
const MAX_STATUS_ERROR_CHARS = 500;

/**
 * The status an agent sees on their message. HubSpot knows SENT, FAILED and READ: WhatsApp's
 * `delivered` shows as SENT; `failed` and `refused` as FAILED with what happened and what to do.
 */
export function toChannelStatusUpdate(status: Pick<ReplyStatus, 'state' | 'detail'>): HubspotChannelStatusUpdate {
  switch (status.state) {
    case 'read':
      return { statusType: 'READ' };
    case 'sent':
    case 'delivered':
      return { statusType: 'SENT' };
    case 'failed':
      return { statusType: 'FAILED', errorMessage: (status.detail?.trim() || 'WhatsApp could not deliver this message. Send it again later.').slice(0, MAX_STATUS_ERROR_CHARS) };
    case 'refused':
      return { statusType: 'FAILED', errorMessage: (status.detail?.trim() || 'threadbridge did not send this message on WhatsApp.').slice(0, MAX_STATUS_ERROR_CHARS) };
  }
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;

/**
 * The message inside an event. HubSpot's reference does not show the envelope of
 * OUTGOING_CHANNEL_MESSAGE_CREATED, so the message is taken from `message`, `data.message`,
 * `data`, `payload.message` or `payload`, else the event itself.
 */
function messageOf(event: Json): Json {
  for (const candidate of [event.message, isObject(event.data) ? event.data.message : undefined, event.data, isObject(event.payload) ? event.payload.message : undefined, event.payload]) {
    if (isObject(candidate) && (candidate.id !== undefined || candidate.messageId !== undefined)) return candidate;
  }
  return event;
}

export interface ChannelWebhookContext {
  /** This connection's channel: events of other channels of the same app are not ours. */
  channelId?: string;
}

/**
 * Turns the body HubSpot posts to the channel's webhookUrl (one event, or an array of them) into
 * agent replies. Only OUTGOING_CHANNEL_MESSAGE_CREATED events of this channel count; incoming
 * messages (ours, published from WhatsApp) are dropped, so nothing echoes. The reply's thread is
 * the integrationThreadId (threadbridge's conversation id) when HubSpot sends it, else HubSpot's
 * conversationsThreadId. Attachments are kept by file id (FILE attachments name a file in the
 * file manager) and/or URL; replies.download fetches them.
 * Throws invalid_request for an outgoing message without an id: replies are deduplicated on it.
 */
export function fromHubspotChannelEvents(payload: unknown, context: ChannelWebhookContext = {}): AgentReplyEvent[] {
  const events = Array.isArray(payload) ? payload : [payload];
  const replies: AgentReplyEvent[] = [];
  for (const event of events) {
    if (!isObject(event)) continue;
    const message = messageOf(event);
    const type = str(event.type) ?? str(event.subscriptionType) ?? str(event.eventType);
    if (type !== OUTGOING_MESSAGE_EVENT) continue;
    const direction = str(message.direction) ?? str(message.messageDirection) ?? str(event.direction);
    if (direction && direction !== 'OUTGOING') continue;
    const channelId = str(message.channelId) ?? str(event.channelId);
    if (context.channelId && channelId && channelId !== context.channelId) continue;

    const remoteId = str(message.id) ?? str(message.messageId) ?? str(event.messageId);
    if (!remoteId) {
      throw new ConnectorError('invalid_request', 'HubSpot OUTGOING_CHANNEL_MESSAGE_CREATED event without a message id (see connectors/hubspot/README.md, agent replies)');
    }
    const text = str(message.text) ?? htmlToText(str(message.richText) ?? '');
    const senders = Array.isArray(message.senders) ? message.senders.filter(isObject) : [];
    const attachments: AgentReplyEvent['attachments'] = [];
    for (const attachment of (Array.isArray(message.attachments) ? message.attachments : []).filter(isObject)) {
      const url = str(attachment.url);
      const fileId = str(attachment.fileId);
      // LOCATION, CONTACT and UNSUPPORTED_CONTENT attachments carry no file.
      if (!url && !fileId) continue;
      const filename = str(attachment.name) ?? str(attachment.fileName);
      const mimeType = str(attachment.mimeType) ?? str(attachment.contentType);
      attachments.push({ ...(url ? { url } : {}), ...(fileId ? { remoteId: fileId } : {}), ...(filename ? { filename } : {}), ...(mimeType ? { mimeType } : {}) });
    }
    if (!text.trim() && attachments.length === 0) continue;
    replies.push({
      kind: 'agent_reply',
      remoteId,
      remoteThreadId: str(message.integrationThreadId) ?? str(event.integrationThreadId) ?? str(message.conversationsThreadId) ?? str(event.conversationsThreadId) ?? str(event.threadId),
      text,
      author: senders.map((s) => str(s.name)).find(Boolean) ?? 'HubSpot agent',
      attachments,
    });
  }
  return replies;
}

/** Rich text (HTML) as plain text, for an event that carries no `text`. */
function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

// ---------------------------------------------------------------------------------------------
// Consent

/** The consent property's value, or undefined for a scope HubSpot does not hold. */
export function toConsentValue(consent: ConsentState): 'opted_in' | 'opted_out' | undefined {
  if (consent.scope !== 'marketing') return undefined;
  return consent.optedIn ? 'opted_in' : 'opted_out';
}

/** Effective request budget of a connection. */
export function budgetOf(settings: HubspotSettings, fallback: { requests: number; perMs: number }): { requests: number; perMs: number } {
  return settings.budget ? { requests: settings.budget.requests, perMs: settings.budget.perMs } : fallback;
}

// ---------------------------------------------------------------------------------------------
// Ticket routing

/** hs_ticket_priority's options: HubSpot has no "normal", MEDIUM is its middle. */
const HUBSPOT_PRIORITY: Record<NonNullable<TicketRouting['priority']>, string> = { low: 'LOW', normal: 'MEDIUM', high: 'HIGH', urgent: 'URGENT' };

export function toHubspotPriority(priority: TicketRouting['priority']): string | undefined {
  return priority ? HUBSPOT_PRIORITY[priority] : undefined;
}

/** An owner id as an operator types it (digits), or undefined for an email. */
export function hubspotOwnerIdOf(assignee: string): string | undefined {
  return /^\d{1,20}$/.test(assignee.trim()) ? assignee.trim() : undefined;
}

/** A multiple-checkbox value (`a;b;c`) with `add` added and `remove` taken off; a value in both stays. Order kept. */
export function mergeCheckboxValues(current: string | null | undefined, add: readonly string[], remove: readonly string[]): string {
  const keep = new Set(add);
  const gone = new Set(remove.filter((t) => !keep.has(t)));
  const values = (current ?? '').split(';').map((v) => v.trim()).filter(Boolean);
  return [...new Set([...values.filter((v) => !gone.has(v)), ...add])].join(';');
}

/**
 * The ticket properties a route writes: priority → hs_ticket_priority, the resolved owner →
 * hubspot_owner_id, the group → settings.groupProperty, the tags merged into settings.tagsProperty
 * (`currentTags`: the property's value on the ticket now; none for a new ticket). A group or tags
 * without the property configured are not written.
 */
export function toHubspotRoutingProperties(
  routing: TicketRouting,
  tickets: Pick<HubspotTicketSettings, 'groupProperty' | 'tagsProperty'>,
  resolved: { ownerId?: string; currentTags?: string | null },
): Record<string, string> {
  const properties: Record<string, string> = {};
  const priority = toHubspotPriority(routing.priority);
  if (priority) properties.hs_ticket_priority = priority;
  if (resolved.ownerId) properties.hubspot_owner_id = resolved.ownerId;
  if (routing.group && tickets.groupProperty) properties[tickets.groupProperty] = routing.group;
  if (tickets.tagsProperty && (routing.tags?.length || routing.removeTags?.length)) {
    const merged = mergeCheckboxValues(resolved.currentTags, routing.tags ?? [], routing.removeTags ?? []);
    if (merged !== (resolved.currentTags ?? '')) properties[tickets.tagsProperty] = merged;
  }
  return properties;
}
