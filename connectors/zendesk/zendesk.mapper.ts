/**
 * Pure translations between threadbridge's unified models and Zendesk's wire types. No I/O.
 */
import type { AgentReplyEvent, Customer, MediaRef, ReplyRef, ReplyStatus, Thread, TicketRouting, Transcript, UnifiedMessage } from '../_sdk/contract';
import { ConnectorError } from '../_sdk/errors';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { countryOf, toE164 } from '../_sdk/phone';
import type { ResolvedZendeskSettings } from './zendesk.credentials';
import {
  COMMENT_ADDED_EVENT,
  type ZendeskAudit,
  type ZendeskAuditCustomMetadata,
  type ZendeskCommentAddedEvent,
  type ZendeskGroup,
  type ZendeskId,
  type ZendeskTicket,
  type ZendeskTicketCreateInput,
  type ZendeskTicketUpdateInput,
  type ZendeskTriggerPayload,
  type ZendeskUser,
  type ZendeskUserInput,
} from './zendesk.types';

// ---------------------------------------------------------------------------------------------
// Users

/** The end user's external_id: exact, immediately consistent lookups (search is not). */
export function customerExternalId(waId: string): string {
  return `whatsapp:${waId}`;
}

/** The user threadbridge creates for a WhatsApp customer. */
export function toZendeskUser(customer: Customer): ZendeskUserInput {
  return {
    name: customer.profileName?.trim() || customer.e164,
    external_id: customerExternalId(customer.waId),
    phone: customer.e164,
    role: 'end-user',
    identities: [{ type: 'phone_number', value: customer.e164 }],
  };
}

/**
 * The one users-search query that finds the customer's number in whatever format a person typed
 * it: `role:end-user phone:*<national number>`. Zendesk documents `phone:*<digits>` (a leading
 * asterisk, digits only: no '+', spaces or punctuation) as matching a phone stored as
 * "+1 513.555.7611", "(513) 555-7611", "513 555 7611", "513-555-7611"… for `*5135557611`, and
 * `role:end-user phone:*<digits>` as the query for a caller. Every written form of a number (E.164,
 * `00`-prefixed, international, national with or without a trunk `0`) ends with its national
 * significant number, so one term covers them all; the same digits can end another country's
 * number, which {@link holdsNumber} rules out. Undefined when `e164` is not a phone number.
 */
export function phoneSearchQuery(e164: string): string | undefined {
  const nationalNumber = parsePhoneNumberFromString(e164)?.nationalNumber;
  return nationalNumber ? `role:end-user phone:*${nationalNumber}` : undefined;
}

/** Whether a phone value as typed (`+48 601 234 567`, `601 234 567`, `(650) 555-1234`) is the number `e164`. */
export function holdsNumber(typed: string | null | undefined, e164: string): boolean {
  return !!typed && toE164(typed, countryOf(e164)) === e164;
}

/** Active end users among search results, oldest first: agents and deleted users never count. */
export function customerUsers(users: readonly ZendeskUser[]): ZendeskUser[] {
  return users.filter((u) => u.role === 'end-user' && u.active !== false).sort((a, b) => a.id - b.id);
}

/** The customer among search results: an active end user, the oldest when several match. */
export function pickCustomerUser(users: readonly ZendeskUser[]): ZendeskUser | undefined {
  return customerUsers(users)[0];
}

// ---------------------------------------------------------------------------------------------
// Tickets

/** The ticket's external_id: a re-run after a lost response finds the ticket instead of opening a second. */
export function conversationExternalId(conversationId: string): string {
  return `whatsapp-conversation:${conversationId}`;
}

/** Renders the subject template: {{name}}, {{phone}}, {{waId}}, {{businessNumber}}; unknown placeholders vanish. */
export function renderSubject(template: string, thread: Thread): string {
  const values: Record<string, string> = {
    name: thread.customer.profileName?.trim() || thread.customer.e164,
    phone: thread.customer.e164,
    waId: thread.customer.waId,
    businessNumber: thread.businessNumber,
  };
  const subject = template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, key: string) => values[key] ?? '').trim();
  return (subject || `WhatsApp ${thread.customer.e164}`).slice(0, 250);
}

/** A route's fields as Zendesk ids: what the connector resolved from the names an operator typed. */
export interface ResolvedZendeskRouting {
  groupId?: ZendeskId;
  assigneeId?: ZendeskId;
  priority?: TicketRouting['priority'];
  tags: string[];
  removeTags: string[];
  /** Names Zendesk does not know (at creation: left out, and said in the ticket's first note). */
  unresolved: string[];
}

/** A Zendesk id as an operator types it ("360001234567"), or undefined for a name or email. */
export function zendeskIdOf(value: string): ZendeskId | undefined {
  return /^\d{1,16}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/** The group of that name (case and surrounding spaces ignored), deleted groups never. */
export function findGroup(groups: readonly ZendeskGroup[], name: string): ZendeskGroup | undefined {
  const wanted = name.trim().toLowerCase();
  return groups.find((g) => g.deleted !== true && g.name.trim().toLowerCase() === wanted);
}

/** The active agent or admin with that email among users-search results (end users cannot be assigned). */
export function findAgent(users: readonly ZendeskUser[], email: string): ZendeskUser | undefined {
  const wanted = email.trim().toLowerCase();
  return users.filter((u) => u.active !== false && (u.role === 'agent' || u.role === 'admin') && u.email?.toLowerCase() === wanted).sort((a, b) => a.id - b.id)[0];
}

/**
 * Tags as Zendesk stores them: lowercase, and a space would split one tag in two, so spaces become
 * underscores (what Zendesk's own UI does to "vip customer").
 */
export function toZendeskTags(tags: readonly string[] | undefined): string[] {
  return [...new Set((tags ?? []).map((t) => t.trim().toLowerCase().replace(/\s+/g, '_')).filter(Boolean))];
}

/** What a route changes on an existing ticket: one Update Ticket body (or none), tags to add and to take off. */
export function planZendeskRouting(routing: ResolvedZendeskRouting): { update?: ZendeskTicketUpdateInput; addTags: string[]; removeTags: string[] } {
  const update: ZendeskTicketUpdateInput = {};
  if (routing.groupId !== undefined) update.group_id = routing.groupId;
  if (routing.priority !== undefined) update.priority = routing.priority;
  if (routing.assigneeId !== undefined) update.assignee_id = routing.assigneeId;
  const keep = new Set(routing.tags);
  return {
    update: Object.keys(update).length ? update : undefined,
    addTags: routing.tags,
    removeTags: routing.removeTags.filter((t) => !keep.has(t)),
  };
}

/**
 * A new ticket for the conversation. Zendesk requires a first comment: an internal note that says
 * where the ticket comes from (the customer's messages follow as their own public comments). The
 * conversation's route overrides the connection's group and priority and adds its tags; a name
 * Zendesk does not know is named in that note, so agents see why the ticket is not where the route says.
 */
export function toZendeskNewTicket(
  thread: Thread,
  requesterId: ZendeskId,
  settings: ResolvedZendeskSettings,
  options: { followUpOf?: ZendeskId; routing?: ResolvedZendeskRouting } = {},
): ZendeskTicketCreateInput {
  const name = thread.customer.profileName?.trim() || thread.customer.e164;
  const routing = options.routing;
  const tags = [...new Set([...settings.tags, ...(routing?.tags ?? [])])];
  const unresolved = routing?.unresolved.length ? ` Routing: ${routing.unresolved.join('; ')}.` : '';
  return {
    subject: renderSubject(settings.subjectTemplate, thread),
    requester_id: requesterId,
    external_id: conversationExternalId(thread.conversationId),
    comment: {
      body:
        `WhatsApp conversation with ${name} (${thread.customer.e164}) on ${thread.businessNumber}, ` +
        `started ${thread.openedAt.toISOString()}. The customer's messages follow as their comments; ` +
        `public replies on this ticket are sent to them on WhatsApp.${unresolved}`,
      public: false,
    },
    tags: tags.length ? tags : undefined,
    group_id: routing?.groupId ?? settings.groupId,
    priority: routing?.priority ?? settings.priority,
    assignee_id: routing?.assigneeId,
    custom_fields: settings.customFields?.map((f) => ({ id: f.id, value: f.value })),
    via_followup_source_id: options.followUpOf,
  };
}

export type TicketAction = 'keep' | 'reopen' | 'new';

/**
 * What to do with the conversation's existing ticket when the customer writes:
 * new/open/pending/hold → keep it; solved and updated within `reopenWithinHours` → reopen it;
 * solved longer ago → a new ticket; closed → a new ticket (Zendesk cannot reopen closed tickets).
 */
export function decideTicketAction(ticket: Pick<ZendeskTicket, 'status' | 'updated_at'>, now: Date, reopenWithinHours: number): TicketAction {
  switch (ticket.status) {
    case 'closed':
      return 'new';
    case 'solved': {
      const updatedAt = Date.parse(ticket.updated_at);
      if (Number.isNaN(updatedAt)) return 'new';
      return now.getTime() - updatedAt <= reopenWithinHours * 3_600_000 ? 'reopen' : 'new';
    }
    default:
      return 'keep';
  }
}

/** Of several tickets with the conversation's external_id (a follow-up after closure), the newest. */
export function newestTicket(tickets: readonly ZendeskTicket[]): ZendeskTicket | undefined {
  return [...tickets].sort((a, b) => b.id - a.id)[0];
}

// ---------------------------------------------------------------------------------------------
// Comments

/** One ticket comment: consecutive messages of one direction, close together in time. */
export interface CommentPlan {
  direction: UnifiedMessage['direction'];
  /** Inbound → public comment by the customer; outbound → internal note by the API user. */
  public: boolean;
  messages: UnifiedMessage[];
}

export interface CommentPlanOptions {
  /** Messages closer together than this (to the previous one) share a comment. 0 = never. */
  coalesceMs: number;
  /** Cap per comment; keeps the audit metadata that lists the message ids small. */
  maxMessages?: number;
  /** Cap on the text per comment (Zendesk comments are limited to 64 KB). */
  maxChars?: number;
}

export const MAX_MESSAGES_PER_COMMENT = 40;
const MAX_COMMENT_CHARS = 30_000;

/**
 * Groups messages (already in WhatsApp order) into comments. Zendesk allows about 30 updates
 * per ticket in 10 minutes and each comment is one update, so a burst of close messages becomes
 * one comment with one time-stamped line per message.
 */
export function planComments(messages: readonly UnifiedMessage[], options: CommentPlanOptions): CommentPlan[] {
  const maxMessages = options.maxMessages ?? MAX_MESSAGES_PER_COMMENT;
  const maxChars = options.maxChars ?? MAX_COMMENT_CHARS;
  const plans: CommentPlan[] = [];
  let chars = 0;
  for (const message of messages) {
    const size = message.text.length + 64;
    const current = plans.at(-1);
    const previous = current?.messages.at(-1);
    const close =
      current !== undefined &&
      previous !== undefined &&
      current.direction === message.direction &&
      Math.abs(message.timestamp.getTime() - previous.timestamp.getTime()) < options.coalesceMs &&
      current.messages.length < maxMessages &&
      chars + size <= maxChars;
    if (close) {
      current.messages.push(message);
      chars += size;
    } else {
      plans.push({ direction: message.direction, public: message.direction === 'inbound', messages: [message] });
      chars = size;
    }
  }
  return plans;
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** `HH:MM:SS` in the given IANA zone (UTC when the zone is unknown). */
export function formatClock(date: Date, timeZone = 'UTC'): string {
  let format = clockFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    } catch {
      format = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    }
    clockFormats.set(timeZone, format);
  }
  return format.format(date);
}

/** What a file looks like inside the text: `[image: photo.jpg]`, or why it is missing. */
export function describeMedia(type: string, media: MediaRef, uploaded: boolean): string {
  const name = media.filename ?? media.mimeType ?? 'file';
  if (uploaded) return `[${type}: ${name}, attached]`;
  const reason = media.unavailableReason ?? (media.storageKey ? 'could not be read' : 'not downloaded');
  return `[${type} not attached: ${reason}${media.url ? ` ${media.url}` : ''}]`;
}

/**
 * One message as a comment line: `[14:03:07] text` for the customer, `[14:03:07] Anna: text` for
 * messages sent from elsewhere. Deterministic, so a retry can find a line it wrote before.
 */
export function renderMessageLine(message: UnifiedMessage, timeZone: string, uploaded = false): string {
  const parts: string[] = [];
  const text = message.text.trim();
  if (text) parts.push(text);
  if (message.media) parts.push(describeMedia(message.type, message.media, uploaded));
  if (!parts.length) parts.push(`(${message.type})`);
  const who = message.direction === 'outbound' ? `${message.author?.trim() || 'Agent'}: ` : '';
  return `[${formatClock(message.timestamp, timeZone)}] ${who}${parts.join(' ')}`;
}

export const OUTBOUND_NOTE_HEADER = 'Sent to the customer on WhatsApp (from another system):';

/** The comment body of a plan: one line per message, in order. */
export function renderCommentBody(plan: CommentPlan, timeZone: string, uploadedMessageIds: ReadonlySet<string> = new Set()): string {
  const lines = plan.messages.map((m) => renderMessageLine(m, timeZone, uploadedMessageIds.has(m.id)));
  return plan.direction === 'outbound' ? [OUTBOUND_NOTE_HEADER, ...lines].join('\n') : lines.join('\n');
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
};

/** The file's own name, or `<type>-<id>.<ext>` from its MIME type (WhatsApp images have no name). */
export function mediaFilename(media: MediaRef, type: string, fallbackId: string): string {
  const own = media.filename?.trim();
  if (own) return own.replace(/[\\/]/g, '_');
  const ext = EXTENSIONS[(media.mimeType ?? '').split(';')[0].trim().toLowerCase()];
  const base = `${type}-${fallbackId}`.replace(/[^A-Za-z0-9._-]/g, '_');
  return ext ? `${base}.${ext}` : base;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A message id as stored in audit metadata: a UUID as 22 base64url characters, anything else as is. */
export function compactMessageId(id: string): string {
  return UUID.test(id) ? Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url') : id;
}

/** The audit metadata that marks a comment as carrying these messages. */
export function commentMetadata(messages: readonly UnifiedMessage[]): ZendeskAuditCustomMetadata {
  return { threadbridge: { m: messages.map((m) => compactMessageId(m.id)) } };
}

export interface WrittenComment {
  commentId?: ZendeskId;
  auditId: ZendeskId;
}

/**
 * Which of `messages` an earlier attempt already wrote, read from the ticket's recent audits:
 * first by the message ids in the audit's custom metadata; then, for messages flagged
 * maybeCreated that no metadata names, by the exact time-stamped line in a comment of the
 * same visibility (in case an account drops custom metadata).
 */
export function findWrittenMessages(
  audits: readonly ZendeskAudit[],
  messages: readonly UnifiedMessage[],
  timeZone: string,
): Map<string, WrittenComment> {
  const byCompactId = new Map(messages.map((m) => [compactMessageId(m.id), m]));
  const written = new Map<string, WrittenComment>();
  const comments = audits.flatMap((audit) => {
    const comment = audit.events?.find((e) => e.type === 'Comment');
    return comment ? [{ audit, comment }] : [];
  });

  for (const { audit, comment } of comments) {
    const ids = audit.metadata?.custom?.threadbridge?.m;
    if (!Array.isArray(ids)) continue;
    for (const compact of ids) {
      const message = byCompactId.get(String(compact));
      if (message) written.set(message.id, { commentId: comment.id, auditId: audit.id });
    }
  }

  for (const message of messages) {
    if (!message.maybeCreated || written.has(message.id)) continue;
    const wantPublic = message.direction === 'inbound';
    const lines = [renderMessageLine(message, timeZone, true), renderMessageLine(message, timeZone, false)];
    const match = comments.find(
      ({ comment }) => comment.public === wantPublic && typeof comment.body === 'string' && lines.some((l) => comment.body!.includes(l)),
    );
    if (match) written.set(message.id, { commentId: match.comment.id, auditId: match.audit.id });
  }
  return written;
}

/** The Comment event's id in the audit of a ticket create/update. */
export function commentIdOf(audit: ZendeskAudit | undefined): ZendeskId | undefined {
  return audit?.events?.find((e) => e.type === 'Comment')?.id;
}

// ---------------------------------------------------------------------------------------------
// Transcripts

const MAX_TRANSCRIPT_NOTE_CHARS = 60_000;

/** Key written to the transcript note's audit metadata, so a retry finds it. */
export function transcriptKey(transcript: Transcript): string {
  return `${transcript.conversationId}@${transcript.closedAt.toISOString()}`;
}

export function transcriptFilename(transcript: Transcript): string {
  return `whatsapp-transcript-${transcript.conversationId}.txt`;
}

/** The internal note's body: a heading and the transcript text (cut at 60,000 characters; the file has it all). */
export function renderTranscriptNote(transcript: Transcript): string {
  const heading =
    `WhatsApp conversation transcript, ${transcript.openedAt.toISOString()} – ${transcript.closedAt.toISOString()} ` +
    `(${transcript.entries.length} messages). The full text is attached as ${transcriptFilename(transcript)}.`;
  const text =
    transcript.text.length > MAX_TRANSCRIPT_NOTE_CHARS
      ? `${transcript.text.slice(0, MAX_TRANSCRIPT_NOTE_CHARS)}\n… (cut here; see the attached file)`
      : transcript.text;
  return `${heading}\n\n${text}`;
}

// ---------------------------------------------------------------------------------------------
// What became of an agent's reply (internal notes)

export type ReplyNoteDecision = 'note' | 'none';

/**
 * Whether a reply status deserves an internal note. Zendesk has no per-comment delivery status,
 * so only what an agent must act on is written: failed and refused replies always, delivered
 * ones when the connection asks for it; sent and read never (each note is a ticket update, of
 * which Zendesk allows about 30 per ticket in 10 minutes).
 */
export function decideReplyNote(status: Pick<ReplyStatus, 'state'>, options: { reportDelivered: boolean }): ReplyNoteDecision {
  if (status.state === 'failed' || status.state === 'refused') return 'note';
  if (status.state === 'delivered' && options.reportDelivered) return 'note';
  return 'none';
}

/** The key a reply-status note carries in its audit metadata: one note per reply and state. */
export function replyStatusKey(reply: Pick<ReplyRef, 'remoteId'>, status: Pick<ReplyStatus, 'state'>): string {
  return `${reply.remoteId}:${status.state}`;
}

/**
 * The last line of a reply-status note. Also the fallback marker when an account drops custom
 * audit metadata: a retry finds the line in the ticket's comments.
 */
export function replyStatusMarker(reply: Pick<ReplyRef, 'remoteId'>, status: Pick<ReplyStatus, 'state'>): string {
  return `(threadbridge: reply comment ${reply.remoteId}, status ${status.state})`;
}

const DEFAULT_REPLY_DETAIL: Record<'failed' | 'refused', string> = {
  failed: 'Not delivered on WhatsApp: WhatsApp could not deliver it. Send the reply again later, or reach the customer another way.',
  refused: 'Not sent on WhatsApp: threadbridge did not send it. Check the connection in threadbridge, or reach the customer another way.',
};

/**
 * The internal note telling agents what became of a reply: plainly what happened and what they
 * can do. The core's `detail` is that whole message and is written as it is (prefixing it would
 * say "not delivered" twice); a generic one stands in when it gave none.
 */
export function renderReplyStatusNote(reply: Pick<ReplyRef, 'remoteId'>, status: ReplyStatus, timeZone: string): string {
  const marker = replyStatusMarker(reply, status);
  const detail = status.detail?.trim();
  if (status.state === 'failed' || status.state === 'refused') {
    return `${detail || DEFAULT_REPLY_DETAIL[status.state]}\n\n${marker}`;
  }
  return `Delivered on WhatsApp at ${formatClock(status.at, timeZone)} (${timeZone}).\n\n${marker}`;
}

/**
 * Whether the ticket's recent audits hold the note for this reply and state already: by the key
 * in the audit metadata, else by the marker line in an internal note.
 */
export function hasReplyStatusNote(audits: readonly ZendeskAudit[], reply: Pick<ReplyRef, 'remoteId'>, status: Pick<ReplyStatus, 'state'>): boolean {
  const key = replyStatusKey(reply, status);
  const marker = replyStatusMarker(reply, status);
  return audits.some(
    (audit) =>
      audit.metadata?.custom?.threadbridge?.r === key ||
      audit.events?.some((e) => e.type === 'Comment' && e.public === false && typeof e.body === 'string' && e.body.includes(marker)),
  );
}

// ---------------------------------------------------------------------------------------------
// Agent replies (webhooks)

export interface WebhookContext {
  /** Our API user's id: its comments are never replies (no echo). */
  apiUserId?: string;
}

/**
 * Turns a Zendesk webhook body into agent replies. Accepts the event-subscription envelope
 * (`zen:event-type:ticket.comment_added`) and our trigger's JSON body. Returns [] for anything
 * else, and for private comments, comments by the requester or another end user, and comments by
 * our own API user. Throws invalid_request when our trigger body lacks the comment id (a
 * mistyped placeholder would otherwise collapse every reply onto one dedupe key).
 */
export function fromZendeskWebhook(payload: unknown, context: WebhookContext = {}): AgentReplyEvent[] {
  if (!payload || typeof payload !== 'object') return [];
  const body = payload as Record<string, unknown>;
  if (body.type === COMMENT_ADDED_EVENT) return fromCommentAddedEvent(body as unknown as ZendeskCommentAddedEvent, context);
  if (body.threadbridge === 1 || body.threadbridge === '1') return fromTriggerPayload(body as unknown as ZendeskTriggerPayload, context);
  return [];
}

function fromCommentAddedEvent(event: ZendeskCommentAddedEvent, context: WebhookContext): AgentReplyEvent[] {
  const comment = event.event?.comment;
  if (!comment || comment.id === undefined || comment.id === null) return [];
  if (comment.is_public !== true) return [];
  const authorId = idString(comment.author?.id);
  const requesterId = idString(event.detail?.requester_id);
  if (comment.author?.is_staff === false) return [];
  if (authorId && requesterId && authorId === requesterId) return [];
  if (authorId && context.apiUserId && authorId === context.apiUserId) return [];
  const ticketId = idString(event.detail?.id) ?? /^zen:ticket:(\d+)$/.exec(event.subject ?? '')?.[1];
  const attachments = (comment.attachments ?? [])
    .map((a) => ({ url: a.content_url ?? a.url ?? '', filename: a.file_name ?? a.filename, mimeType: a.content_type }))
    .filter((a) => a.url);
  const text = typeof comment.body === 'string' ? comment.body : '';
  if (!text.trim() && !attachments.length) return [];
  return [
    {
      kind: 'agent_reply',
      remoteId: String(comment.id),
      remoteThreadId: ticketId,
      remoteContactId: requesterId,
      text,
      author: comment.author?.name?.trim() || 'Zendesk agent',
      attachments,
    },
  ];
}

function fromTriggerPayload(payload: ZendeskTriggerPayload, context: WebhookContext): AgentReplyEvent[] {
  const commentId = idString(payload.comment_id);
  const ticketId = idString(payload.ticket_id);
  if (!commentId || !ticketId) {
    throw new ConnectorError(
      'invalid_request',
      'Zendesk trigger body lacks ticket_id or comment_id: use {{ticket.id}} and {{ticket.latest_comment.id}} (see connectors/zendesk/README.md)',
    );
  }
  if (payload.comment_public === false || payload.comment_public === 'false') return [];
  const authorId = idString(payload.comment_author_id) ?? idString(payload.current_user_id);
  const requesterId = idString(payload.requester_id);
  if (authorId && requesterId && authorId === requesterId) return [];
  if (context.apiUserId && (authorId === context.apiUserId || idString(payload.current_user_id) === context.apiUserId)) return [];
  const attachments = (Array.isArray(payload.attachments) ? payload.attachments : [])
    .filter((a) => a && typeof a.url === 'string' && a.url)
    .map((a) => ({ url: a.url as string, filename: a.filename || undefined }));
  const text = typeof payload.comment_body === 'string' ? payload.comment_body : '';
  if (!text.trim() && !attachments.length) return [];
  return [
    {
      kind: 'agent_reply',
      remoteId: commentId,
      remoteThreadId: ticketId,
      remoteContactId: requesterId,
      text,
      author: payload.comment_author_name?.trim() || 'Zendesk agent',
      attachments,
    },
  ];
}

/** Ids arrive as numbers (REST) or strings (events, rendered placeholders); "" means absent. */
function idString(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}
