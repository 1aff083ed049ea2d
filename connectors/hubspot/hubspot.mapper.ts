/**
 * Pure translation between threadbridge's unified models and HubSpot's wire shapes. No I/O.
 */
import type { ConsentState, Customer, MediaRef, Thread, Transcript, UnifiedMessage } from '../_sdk/contract';
import { countryOf, phoneVariants, toE164 } from '../_sdk/phone';
import type { HubspotSettings, HubspotTicketSettings } from './hubspot.credentials';
import {
  ASSOCIATION,
  CONTACT_PHONE_PROPERTIES,
  MESSAGE_ID_PROPERTY,
  TRANSCRIPT_ID_PROPERTY,
  type HubspotAssociationInput,
  type HubspotCreateInput,
  type HubspotObject,
  type HubspotPropertyDefinition,
  type HubspotSearchRequest,
} from './hubspot.types';

/** HubSpot's search caps filterGroups at 6 (OR'ed); we use one group per phone property. */
export const MAX_FILTER_GROUPS = 6;
/** Values in one IN filter we send at once. */
export const MAX_IN_VALUES = 100;
/** Largest page a CRM search returns. */
export const MAX_SEARCH_LIMIT = 200;

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

/**
 * A search for every written form of the customer's number in each phone property: one OR'ed
 * group per property, each a single IN filter (3 groups, within HubSpot's limit of 6).
 */
export function toContactSearch(e164: string): HubspotSearchRequest {
  const variants = phoneVariants(e164);
  const values = (variants.length > 0 ? variants : [e164]).slice(0, MAX_IN_VALUES);
  return {
    filterGroups: CONTACT_PHONE_PROPERTIES.map((propertyName) => ({ filters: [{ propertyName, operator: 'IN', values }] })),
    properties: [...CONTACT_PHONE_PROPERTIES, 'firstname', 'lastname', 'createdate'],
    limit: MAX_SEARCH_LIMIT,
  };
}

/**
 * Picks the customer among search hits: a contact whose WhatsApp number is this number first,
 * then one whose phone/mobilephone reads as this number, then any hit; the oldest within a rank
 * (duplicates are usually newer copies of the original).
 */
export function pickContact(results: HubspotObject[], e164: string): HubspotObject | undefined {
  const country = countryOf(e164);
  const reads = (value: string | null | undefined): boolean => !!value && toE164(value, country) === e164;
  const rank = (c: HubspotObject): number =>
    reads(c.properties.hs_whatsapp_phone_number) ? 0 : reads(c.properties.phone) || reads(c.properties.mobilephone) ? 1 : 2;
  const created = (c: HubspotObject): number => {
    const ms = c.createdAt?.getTime() ?? Date.parse(c.properties.createdate ?? '');
    return Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER;
  };
  return [...results].sort((a, b) => rank(a) - rank(b) || created(a) - created(b) || Number(a.id) - Number(b.id))[0];
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

/** Searches for communications already carrying these message ids (≤ 100 per request). */
export function toMarkerSearch(property: string, ids: string[], after?: string): HubspotSearchRequest {
  return {
    filterGroups: [{ filters: [{ propertyName: property, operator: 'IN', values: ids }] }],
    properties: [property],
    limit: MAX_SEARCH_LIMIT,
    ...(after ? { after } : {}),
  };
}

/** The marker property on communications (created once per portal). */
export const MESSAGE_ID_PROPERTY_DEFINITION: HubspotPropertyDefinition = {
  name: MESSAGE_ID_PROPERTY,
  label: 'threadbridge message id',
  type: 'string',
  fieldType: 'text',
  groupName: 'communicationinformation',
  description: 'WhatsApp message logged by threadbridge (used to avoid duplicates).',
};

export const TRANSCRIPT_ID_PROPERTY_DEFINITION: HubspotPropertyDefinition = {
  name: TRANSCRIPT_ID_PROPERTY,
  label: 'threadbridge transcript id',
  type: 'string',
  fieldType: 'text',
  groupName: 'noteinformation',
  description: 'WhatsApp conversation transcript attached by threadbridge (used to avoid duplicates).',
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
export function toHubspotTicket(thread: Thread, tickets: HubspotTicketSettings): HubspotCreateInput {
  return {
    properties: {
      subject: renderSubject(tickets.subjectTemplate, thread),
      content: `WhatsApp conversation with ${thread.customer.profileName?.trim() || thread.customer.e164} (${thread.customer.e164}) on ${thread.businessNumber}.`,
      hs_pipeline: tickets.pipeline,
      hs_pipeline_stage: tickets.openStage,
    },
    associations: [association(thread.contact.id, ASSOCIATION.ticketToContact)],
  };
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

export const TICKET_READ_PROPERTIES = ['hs_pipeline', 'hs_pipeline_stage', 'closed_date', 'hs_lastmodifieddate'];

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
