/**
 * Pure translations between threadbridge's unified models and Pipedrive's: persons, notes (HTML),
 * leads and the markers that let a retry find what an earlier attempt wrote. No I/O.
 */
import type { ConsentState, Customer, MediaRef, Thread, Transcript, UnifiedMessage } from '../_sdk/contract';
import { countryOf, toE164 } from '../_sdk/phone';
import type { PipedriveDeal, PipedriveLead, PipedriveNote, PipedrivePersonInput, PipedrivePersonSearchItem } from './pipedrive.types';

// ---------------------------------------------------------------------------------------------
// Persons

/** True when `typed` (a phone field as a person typed it) is the number `e164`. */
export function samePhone(typed: string | null | undefined, e164: string): boolean {
  if (!typed) return false;
  return toE164(typed, countryOf(e164)) === e164;
}

/**
 * The person a phone search found for `e164`: hits whose phones really are the number (an exact
 * search for a national form such as "601234567" may also find another country's number), the
 * oldest first, so every worker settles on the same one when several persons share the number.
 */
export function pickPerson(items: readonly PipedrivePersonSearchItem[], e164: string): PipedrivePersonSearchItem['item'] | undefined {
  return items
    .map((hit) => hit.item)
    .filter((item) => item.type === 'person' && (item.phones ?? []).some((phone) => samePhone(phone, e164)))
    .sort((a, b) => a.id - b.id)[0];
}

/** A new person for the customer: named from the WhatsApp profile (else the number), the number in E.164. */
export function toPipedrivePerson(customer: Customer): PipedrivePersonInput {
  const name = customer.profileName?.trim() || customer.e164;
  return { name, phones: [{ value: customer.e164, label: 'mobile', primary: true }] };
}

// ---------------------------------------------------------------------------------------------
// Notes: one per burst, in WhatsApp order, with a marker naming the messages it holds

/** The marker paragraph: the ids of the threadbridge messages a note holds. */
const MESSAGE_MARKER = 'threadbridge-ref:';
const TRANSCRIPT_MARKER = 'threadbridge-transcript:';

export interface NoteOptions {
  /** Messages closer together than this (by WhatsApp time) share one note. */
  burstMs: number;
  /** Most messages one note holds. */
  maxMessages?: number;
  /** Most characters of message text one note holds (Pipedrive notes take about 100 kB of HTML). */
  maxChars?: number;
}

const MAX_MESSAGES_PER_NOTE = 50;
const MAX_NOTE_CHARS = 60_000;

/**
 * Splits a thread's messages (in WhatsApp order) into notes: a message joins the previous note
 * when it was sent less than `burstMs` after the message before it, whoever wrote it — a note is
 * a stretch of the conversation, read top to bottom.
 */
export function planNotes(messages: readonly UnifiedMessage[], options: NoteOptions): UnifiedMessage[][] {
  const maxMessages = options.maxMessages ?? MAX_MESSAGES_PER_NOTE;
  const maxChars = options.maxChars ?? MAX_NOTE_CHARS;
  const notes: UnifiedMessage[][] = [];
  let size = 0;
  for (const message of messages) {
    const current = notes[notes.length - 1];
    const last = current?.[current.length - 1];
    const length = message.text.length + 80;
    const joins =
      last !== undefined &&
      message.timestamp.getTime() - last.timestamp.getTime() < options.burstMs &&
      current.length < maxMessages &&
      size + length <= maxChars;
    if (joins) {
      current.push(message);
      size += length;
    } else {
      notes.push([message]);
      size = length;
    }
  }
  return notes;
}

export interface RenderContext {
  /** How the customer is named in the note. */
  customerName: string;
  timeZone: string;
  /** Messages whose file was uploaded to Pipedrive: messageId → the file's name there. */
  uploaded?: ReadonlyMap<string, string>;
}

/**
 * A burst as note HTML: a heading with the date, one paragraph per message with its WhatsApp time
 * and author, media as links, and the marker paragraph naming the messages.
 */
export function renderNote(messages: readonly UnifiedMessage[], context: RenderContext): string {
  const first = messages[0];
  const heading = `<p><b>WhatsApp</b> · ${escapeHtml(formatDate(first.timestamp, context.timeZone))}</p>`;
  const lines = messages.map((m) => {
    const author = m.direction === 'inbound' ? context.customerName : (m.author ?? 'Business');
    const media = m.media ? `<br>${renderMedia(m.type, m.media, context.uploaded?.get(m.id))}` : '';
    const text = m.text.trim() ? escapeHtml(m.text).replace(/\r?\n/g, '<br>') : '';
    return `<p>[${formatClock(m.timestamp, context.timeZone)}] <b>${escapeHtml(author)}</b>: ${text}${media}</p>`;
  });
  return [heading, ...lines, markerParagraph(MESSAGE_MARKER, messages.map((m) => m.id))].join('\n');
}

/** A file as a link an operator can open (and where its Pipedrive copy is), or why it is missing. */
export function renderMedia(type: string, media: MediaRef, uploadedAs?: string): string {
  const label = escapeHtml(media.filename ?? `${type}${extensionOf(media.mimeType)}`);
  const link = media.url && /^https?:\/\//i.test(media.url) ? `<a href="${escapeHtml(media.url)}">${label}</a>` : undefined;
  if (uploadedAs !== undefined) return `📎 ${link ?? label} (in Files: ${escapeHtml(uploadedAs)})`;
  if (link) return `📎 ${link}`;
  return `📎 ${label} (${escapeHtml(media.unavailableReason ?? 'file not available')})`;
}

/** The name of a message's file in Pipedrive: readable, and starting with the message id (its marker). */
export function uploadName(message: Pick<UnifiedMessage, 'id' | 'type' | 'media'>): string {
  const original = message.media?.filename ?? `${message.type}${extensionOf(message.media?.mimeType)}`;
  return `whatsapp-${message.id}-${original.replace(/[\\/:*?"<>|\s]+/g, '_')}`.slice(0, 200);
}

/** Which of `messageIds` have their file among `files` already: messageId → the file's name. */
export function findUploadedFiles(files: readonly { name: string }[], messageIds: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const id of messageIds) {
    const file = files.find((f) => f.name.startsWith(`whatsapp-${id}-`));
    if (file) found.set(id, file.name);
  }
  return found;
}

/** Which of `messageIds` the notes already hold, by note: messageId → note. */
export function findWrittenMessages(notes: readonly PipedriveNote[], messageIds: readonly string[]): Map<string, PipedriveNote> {
  const wanted = new Set(messageIds);
  const found = new Map<string, PipedriveNote>();
  for (const note of notes) {
    for (const id of markedIds(note.content, MESSAGE_MARKER)) {
      if (wanted.has(id) && !found.has(id)) found.set(id, note);
    }
  }
  return found;
}

/** The transcript note of a conversation, when one of `notes` is it. */
export function findTranscriptNote(notes: readonly PipedriveNote[], conversationId: string): PipedriveNote | undefined {
  return notes.find((note) => markedIds(note.content, TRANSCRIPT_MARKER).includes(conversationId));
}

/** A closed conversation's transcript as one note: every line with its time, media as links. */
export function renderTranscriptNote(transcript: Transcript, context: Pick<RenderContext, 'timeZone'>): string {
  const period = `${formatDate(transcript.openedAt, context.timeZone)} ${formatClock(transcript.openedAt, context.timeZone)} – ${formatClock(transcript.closedAt, context.timeZone)}`;
  const heading = `<p><b>WhatsApp conversation transcript</b> · ${escapeHtml(period)} (${transcript.entries.length} messages)</p>`;
  const lines = transcript.entries.map((e) => {
    const media = e.media ? ` ${renderMedia('file', e.media)}` : '';
    return `[${formatClock(e.timestamp, context.timeZone)}] <b>${escapeHtml(e.author)}</b>: ${escapeHtml(e.text).replace(/\r?\n/g, '<br>')}${media}`;
  });
  return [heading, `<p>${lines.join('<br>\n')}</p>`, markerParagraph(TRANSCRIPT_MARKER, [transcript.conversationId])].join('\n');
}

function markerParagraph(marker: string, ids: readonly string[]): string {
  return `<p><small>${marker} ${ids.map(escapeHtml).join(' ')}</small></p>`;
}

/** The ids in a note's marker paragraph (Pipedrive may re-serialise the HTML around it). */
function markedIds(content: string | null | undefined, marker: string): string[] {
  if (!content) return [];
  const at = content.indexOf(marker);
  if (at < 0) return [];
  const rest = content.slice(at + marker.length);
  const end = rest.indexOf('<');
  return (end < 0 ? rest : rest.slice(0, end)).split(/\s+/).filter((id) => id.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Leads (the `tickets` facet): which lead a conversation's messages join

/** Fills the lead title template: {{name}}, {{phone}}, {{waId}}, {{businessNumber}}, {{date}}. */
export function renderLeadTitle(template: string, thread: Thread, timeZone: string): string {
  const values: Record<string, string> = {
    name: thread.customer.profileName?.trim() || thread.customer.e164,
    phone: thread.customer.e164,
    waId: thread.customer.waId,
    businessNumber: thread.businessNumber,
    date: formatDate(thread.openedAt, timeZone),
  };
  const title = template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole).trim();
  return (title || `WhatsApp: ${values.name}`).slice(0, 200);
}

/** Open: a lead not archived; a deal with status open. */
export function isOpen(record: PipedriveLead | PipedriveDeal): boolean {
  if ('status' in record) return record.status === 'open' && record.is_deleted !== true;
  return record.is_archived !== true;
}

/**
 * Whether a conversation opened at `openedAt` joins an open lead/deal whose latest activity was at
 * `lastActivityMs`: when it opened at most `reuseHours` after it (a lead created for this very
 * conversation is later than its opening, hence always joined).
 */
export function joinsLead(openedAt: Date, lastActivityMs: number, reuseHours: number): boolean {
  return openedAt.getTime() - lastActivityMs <= reuseHours * 3_600_000;
}

// ---------------------------------------------------------------------------------------------
// Consent

/** What the consent field holds for `consent`: the configured value, else a sentence. */
export function consentValue(consent: ConsentState, values: { optedIn?: string; optedOut?: string }, timeZone: string): string {
  const configured = consent.optedIn ? values.optedIn : values.optedOut;
  if (configured !== undefined) return configured;
  const state = consent.optedIn ? 'opted in' : 'opted out';
  return `WhatsApp ${consent.scope}: ${state} (${formatDate(consent.changedAt, timeZone)}, ${consent.source})`.slice(0, 255);
}

// ---------------------------------------------------------------------------------------------
// Text helpers

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The date and the time of day in `timeZone` (UTC when Intl does not know the zone). */
function parts(date: Date, timeZone: string): Record<string, string> {
  const key = timeZone;
  let format = formats.get(key);
  if (!format) {
    const options: Intl.DateTimeFormatOptions = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
    try {
      format = new Intl.DateTimeFormat('en-CA', { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat('en-CA', { ...options, timeZone: 'UTC' });
    }
    formats.set(key, format);
  }
  return Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
}

/** `YYYY-MM-DD` in `timeZone`. */
export function formatDate(date: Date, timeZone: string): string {
  const p = parts(date, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** `HH:MM:SS` in `timeZone`. */
export function formatClock(date: Date, timeZone: string): string {
  const p = parts(date, timeZone);
  return `${p.hour}:${p.minute}:${p.second}`;
}

function extensionOf(mimeType: string | undefined): string {
  const sub = mimeType?.split('/')[1]?.split(/[;+]/)[0];
  return sub ? `.${sub === 'jpeg' ? 'jpg' : sub}` : '';
}
