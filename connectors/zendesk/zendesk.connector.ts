/**
 * Zendesk Support as a threadbridge connector: orchestration only. Wire calls live in
 * zendesk.client.ts, translations in zendesk.mapper.ts, webhook rules in zendesk.webhooks.ts.
 *
 * Zendesk's API writes one record per call (no batch endpoint for users, tickets or comments), so
 * every facet takes its batch one item at a time through oneByOne(), as many at once as the core
 * used to run single-item connectors with.
 */
import { oneByOne } from '../_sdk/batch';
import type {
  AgentReplyEvent,
  AppendResult,
  AttachmentDownload,
  ConnectorDeps,
  ContactsFacet,
  CrmConnector,
  Customer,
  ErasureFacet,
  ErasureReceipt,
  MediaRef,
  RawWebhook,
  RemoteRef,
  RepliesFacet,
  ReplyAttachment,
  ReplyRef,
  ReplySetupFacet,
  ReplyStatus,
  ReplyStatusReport,
  Thread,
  ThreadMessages,
  TicketRouting,
  TicketRoutingFacet,
  TicketRoutingRequest,
  TicketsFacet,
  TimelineFacet,
  Transcript,
  TranscriptsFacet,
  UnifiedMessage,
} from '../_sdk/contract';
import { ConnectorError } from '../_sdk/errors';
import { ZendeskClient } from './zendesk.client';
import {
  resolveZendeskSettings,
  zendeskApiRoot,
  zendeskOrigin,
  type ResolvedZendeskSettings,
  type ZendeskCredentialsDto,
  type ZendeskSettingsDto,
} from './zendesk.credentials';
import {
  commentIdOf,
  commentMetadata,
  conversationExternalId,
  customerExternalId,
  customerUsers,
  decideReplyNote,
  decideTicketAction,
  findAgent,
  findGroup,
  findWrittenMessages,
  fromZendeskWebhook,
  hasReplyStatusNote,
  holdsNumber,
  mediaFilename,
  newestTicket,
  phoneSearchQuery,
  pickCustomerUser,
  planComments,
  planZendeskRouting,
  renderCommentBody,
  renderReplyStatusNote,
  renderTranscriptNote,
  replyStatusKey,
  toZendeskNewTicket,
  toZendeskTags,
  toZendeskUser,
  transcriptFilename,
  transcriptKey,
  zendeskIdOf,
  type ResolvedZendeskRouting,
  type WrittenComment,
} from './zendesk.mapper';
import type { ZendeskGroup, ZendeskId, ZendeskTicket, ZendeskUser } from './zendesk.types';
import {
  SIGNATURE_HEADER,
  SIGNATURE_TIMESTAMP_HEADER,
  toZendeskReplyTrigger,
  toZendeskWebhook,
  verifyZendeskSignature,
} from './zendesk.webhooks';

/** Search results whose phone field is another number get their identities read, this many at most. */
const MAX_IDENTITY_CHECKS = 3;

/** Pages of GET /groups read to find a group by name (100 groups a page). */
const MAX_GROUP_PAGES = 10;

/** Most messages one thread of a timeline.append call may carry (manifest.maxBatch). */
export const ZENDESK_MAX_BATCH = 50;

export interface WebhookSetupResult {
  webhookId: string;
  /** Absent for the event-subscription mode, which needs no trigger. */
  triggerId?: string;
  /** Store it as the connection's `webhookSecret`. */
  signingSecret: string;
}

export class ZendeskConnector implements CrmConnector {
  readonly contacts: ContactsFacet = {
    ensure: oneByOne(({ customer, known }) => this.ensureContact(customer, known)),
  };

  readonly tickets: TicketsFacet = {
    ensure: oneByOne(({ thread, known, routing }) => this.ensureTicket(thread, known, routing)),
  };

  /** One ticket's updates one after another; different tickets side by side. */
  readonly ticketRouting: TicketRoutingFacet = {
    apply: oneByOne((request: TicketRoutingRequest) => this.applyRouting(request), { key: ({ ticket }) => ticket.id }),
  };

  /** Built in the constructor: its quiet period comes from the resolved settings. */
  readonly timeline: TimelineFacet;

  readonly transcripts: TranscriptsFacet = {
    attach: oneByOne(({ thread, transcript }) => this.attachTranscript(thread, transcript)),
  };

  /** Zendesk serves reply attachments, so `download` is always there. */
  readonly replies: Required<RepliesFacet> = {
    verify: (req) => this.verifyWebhook(req),
    parse: (req) => this.parseWebhook(req),
    reportStatus: async (reports) => {
      await this.reportEach(reports);
    },
    download: (attachment, options) => this.downloadAttachment(attachment, options),
  };

  readonly replySetup: ReplySetupFacet = {
    setUp: (callbackUrl) => this.setUpReplies(callbackUrl),
  };

  readonly erasure: ErasureFacet = {
    erase: oneByOne(({ contact }) => this.eraseContact(contact)),
  };

  private readonly client: ZendeskClient;
  private readonly settings: ResolvedZendeskSettings;
  private readonly origin: string;
  private apiUserId?: string;
  /** The account's groups, listed once per connector instance (one job) when a route names one. */
  private groups?: Promise<ZendeskGroup[]>;
  /** Agents' ids by lowercased email (null: no such agent), per connector instance. */
  private readonly agentIds = new Map<string, ZendeskId | null>();

  constructor(
    private readonly credentials: ZendeskCredentialsDto,
    settings: Partial<ZendeskSettingsDto> | undefined,
    private readonly deps: ConnectorDeps,
  ) {
    this.settings = resolveZendeskSettings(settings);
    this.timeline = {
      // A maybe-created message is looked for in its ticket's audits (GET /tickets/{id}/audits),
      // which list an update at once; Zendesk's search index (users by phone) is never used for it.
      reconcile: { maybeCreated: 'consistent_read' },
      // Messages closer together than this become one comment; waiting until the chat is quiet that
      // long lets a burst become one comment, i.e. one of the ticket's scarce updates.
      quietPeriodMs: this.settings.commentCoalesceMs,
      uploadsMedia: true,
      // One ticket update sequence per thread; the results of all threads, in the order given.
      append: async (batches) => (await this.appendEach(batches)).flat(),
    };
    this.origin = zendeskOrigin(credentials);
    this.apiUserId = credentials.apiUserId;
    this.client = new ZendeskClient(
      { apiRoot: zendeskApiRoot(credentials), email: credentials.email, apiToken: credentials.apiToken },
      deps,
    );
  }

  /** GET /users/me; remembers the API user's id for echo suppression. */
  async verifyCredentials(): Promise<void> {
    this.apiUserId = await this.fetchApiUserId();
  }

  /**
   * The API token's own user id (`apiUserId`), for the core to store with the credentials: its
   * comments (our customer messages and notes) must never come back as agent replies, and an
   * event-subscription webhook delivers them. Reuses what verifyCredentials() just learned.
   */
  async learnCredentials(): Promise<{ apiUserId: string }> {
    this.apiUserId ??= await this.fetchApiUserId();
    return { apiUserId: this.apiUserId };
  }

  /**
   * external_id `whatsapp:<wa_id>` (exact) → one phone search that matches every written form →
   * create with create_or_update, which matches by external_id, so concurrent creations converge on
   * one user. A customer Zendesk has never seen costs these 3 requests.
   */
  private async ensureContact(customer: Customer, known?: RemoteRef): Promise<RemoteRef> {
    const knownId = known ? parseId(known.id) : undefined;
    if (knownId !== undefined) {
      const user = await this.orNotFound(this.client.showUser(knownId));
      if (user && user.active !== false) return this.userRef(user);
    }

    const externalId = customerExternalId(customer.waId);
    const byExternalId = pickCustomerUser(await this.client.searchUsers({ external_id: externalId }));
    if (byExternalId) return this.userRef(byExternalId);

    const byPhone = await this.findByPhone(customer.e164);
    if (byPhone) return this.userRef(await this.claim(byPhone, externalId));

    const { user } = await this.client.createOrUpdateUser(toZendeskUser(customer));
    return this.userRef(user);
  }

  /**
   * The conversation's ticket: `known` (or the newest ticket with the conversation's external_id)
   * while new/open/pending/hold; reopened when solved within reopenWithinHours; else a new one
   * (a follow-up of a closed ticket).
   */
  private async ensureTicket(thread: Thread, known?: RemoteRef, routing?: TicketRouting): Promise<RemoteRef> {
    const requesterId = requireId(thread.contact.id, 'contact');
    const knownId = known ? parseId(known.id) : undefined;
    let current = knownId !== undefined ? await this.orNotFound(this.client.showTicket(knownId)) : undefined;

    const now = this.deps.clock.now();
    if (!current || decideTicketAction(current, now, this.settings.reopenWithinHours) === 'new') {
      // Also finds a ticket an earlier attempt created but never reported back.
      const newest = newestTicket(await this.client.findTicketsByExternalId(conversationExternalId(thread.conversationId)));
      if (newest && (!current || newest.id > current.id)) current = newest;
    }

    let followUpOf: ZendeskId | undefined;
    if (current) {
      const action = decideTicketAction(current, now, this.settings.reopenWithinHours);
      if (action === 'keep') return this.ticketRef(current);
      if (action === 'reopen') {
        const { ticket } = await this.client.updateTicket(current.id, { status: 'open' });
        return this.ticketRef(ticket ?? current);
      }
      if (current.status === 'closed') followUpOf = current.id;
    }

    // The route's names are resolved only for a ticket about to be created: a kept or reopened one is left as agents set it.
    const resolved = routing ? await this.resolveRouting(routing) : undefined;
    if (resolved?.unresolved.length) this.deps.logger.warn('zendesk: a ticket is opened without routing fields Zendesk does not know', { unresolved: resolved.unresolved.length });
    const { ticket } = await this.client.createTicket(toZendeskNewTicket(thread, requesterId, this.settings, { followUpOf, routing: resolved }));
    return this.ticketRef(ticket);
  }

  /**
   * A route change on an existing ticket: one Update Ticket for group, priority and assignee (when
   * any is given), then the Tags endpoints — DELETE for the tags to take off, PUT to add — because
   * Update Ticket's `tags` replaces every tag (agents' own too) and `additional_tags`/`remove_tags`
   * work only on the asynchronous Update Many endpoint. Up to 3 requests; each is idempotent.
   */
  private async applyRouting({ ticket, routing }: TicketRoutingRequest): Promise<void> {
    const ticketId = requireId(ticket.id, 'ticket');
    const resolved = await this.resolveRouting(routing);
    if (resolved.unresolved.length) throw new ConnectorError('invalid_request', `Zendesk ticket routing: ${resolved.unresolved.join('; ')}`);
    const plan = planZendeskRouting(resolved);
    if (plan.update) await this.client.updateTicket(ticketId, plan.update);
    if (plan.removeTags.length) await this.client.removeTicketTags(ticketId, plan.removeTags);
    if (plan.addTags.length) await this.client.addTicketTags(ticketId, plan.addTags);
  }

  /**
   * The route's names as Zendesk ids: a group by id or by name (GET /groups, once per instance),
   * an assignee by id or by an agent's email (users search, cached per instance). What Zendesk does
   * not know is listed in `unresolved` with the reason.
   */
  private async resolveRouting(routing: TicketRouting): Promise<ResolvedZendeskRouting> {
    const unresolved: string[] = [];
    let groupId: ZendeskId | undefined;
    if (routing.group?.trim()) {
      groupId = zendeskIdOf(routing.group) ?? findGroup(await this.listGroups(), routing.group)?.id;
      if (groupId === undefined) unresolved.push(`no group named "${routing.group.trim()}"`);
    }
    let assigneeId: ZendeskId | undefined;
    if (routing.assignee?.trim()) {
      assigneeId = zendeskIdOf(routing.assignee) ?? (await this.agentByEmail(routing.assignee.trim()));
      if (assigneeId === undefined) unresolved.push(`no agent with the email "${routing.assignee.trim()}"`);
    }
    return { groupId, assigneeId, priority: routing.priority, tags: toZendeskTags(routing.tags), removeTags: toZendeskTags(routing.removeTags), unresolved };
  }

  private listGroups(): Promise<ZendeskGroup[]> {
    this.groups ??= (async () => {
      const all: ZendeskGroup[] = [];
      let after: string | undefined;
      for (let page = 0; page < MAX_GROUP_PAGES; page++) {
        const listed = await this.client.listGroups(after);
        all.push(...listed.groups);
        if (!listed.after) break;
        after = listed.after;
      }
      return all;
    })();
    // A failed listing is not kept: the next route asks again.
    this.groups.catch(() => (this.groups = undefined));
    return this.groups;
  }

  private async agentByEmail(email: string): Promise<ZendeskId | undefined> {
    const key = email.toLowerCase();
    if (!this.agentIds.has(key)) this.agentIds.set(key, findAgent(await this.client.searchUsers({ query: `email:${email}` }), email)?.id ?? null);
    return this.agentIds.get(key) ?? undefined;
  }

  /**
   * Customer messages → public comments authored by the customer; messages sent from another
   * system → internal notes by the API user (a public comment would email the customer a copy of
   * what they already got on WhatsApp). Close messages of one direction share one comment: one
   * ticket update per comment, the scarce resource (≈30 per ticket in 10 minutes).
   */
  private async appendMessages(thread: Thread, messages: UnifiedMessage[]): Promise<AppendResult[]> {
    if (messages.length === 0) return [];
    if (messages.length > ZENDESK_MAX_BATCH) {
      throw new ConnectorError('invalid_request', `timeline.append takes at most ${ZENDESK_MAX_BATCH} messages per thread, got ${messages.length}`);
    }
    const ticketId = this.threadTicketId(thread);
    const requesterId = requireId(thread.contact.id, 'contact');
    const timeZone = this.settings.timeZone;

    const written = messages.some((m) => m.maybeCreated)
      ? findWrittenMessages(await this.client.listRecentAudits(ticketId), messages, timeZone)
      : new Map<string, WrittenComment>();
    const remoteByMessage = new Map<string, RemoteRef>();
    for (const [messageId, comment] of written) remoteByMessage.set(messageId, this.commentRef(ticketId, comment));

    const pending = messages.filter((m) => !written.has(m.id));
    for (const plan of planComments(pending, { coalesceMs: this.settings.commentCoalesceMs })) {
      const { tokens, uploaded } = await this.uploadMessageMedia(plan.messages);
      const { audit } = await this.client.updateTicket(ticketId, {
        comment: {
          body: renderCommentBody(plan, timeZone, uploaded),
          public: plan.public,
          author_id: plan.public ? requesterId : undefined,
          uploads: tokens.length ? tokens : undefined,
        },
        metadata: commentMetadata(plan.messages),
      });
      const ref = this.commentRef(ticketId, { commentId: commentIdOf(audit), auditId: audit?.id });
      for (const message of plan.messages) remoteByMessage.set(message.id, ref);
    }

    return messages.map((m) => ({ messageId: m.id, remote: remoteByMessage.get(m.id)! }));
  }

  /** An internal note with the transcript and its stored media attached; found again on retry. */
  private async attachTranscript(thread: Thread, transcript: Transcript): Promise<RemoteRef> {
    const ticketId = this.threadTicketId(thread);
    const key = transcriptKey(transcript);
    const earlier = (await this.client.listRecentAudits(ticketId)).find((a) => a.metadata?.custom?.threadbridge?.t === key);
    if (earlier) return { ...this.commentRef(ticketId, { commentId: commentIdOf(earlier), auditId: earlier.id }), type: 'note' };

    const tokens: string[] = [];
    const file = await this.client.upload(transcriptFilename(transcript), Buffer.from(transcript.text, 'utf8'), 'text/plain; charset=utf-8');
    tokens.push(file.token);
    const seen = new Set<string>();
    for (const entry of transcript.entries) {
      const media = entry.media;
      if (!media?.storageKey || seen.has(media.storageKey)) continue;
      seen.add(media.storageKey);
      const token = await this.uploadMedia(media, 'file', entry.timestamp.toISOString());
      if (token) tokens.push(token);
    }

    const { audit } = await this.client.updateTicket(ticketId, {
      comment: { body: renderTranscriptNote(transcript), public: false, uploads: tokens },
      metadata: { threadbridge: { t: key } },
    });
    return { ...this.commentRef(ticketId, { commentId: commentIdOf(audit), auditId: audit?.id }), type: 'note' };
  }

  private verifyWebhook(req: RawWebhook): boolean {
    return verifyZendeskSignature({
      secret: this.credentials.webhookSecret,
      signature: header(req, SIGNATURE_HEADER),
      timestamp: header(req, SIGNATURE_TIMESTAMP_HEADER),
      rawBody: req.rawBody,
      receivedAt: req.receivedAt,
    });
  }

  private parseWebhook(req: RawWebhook): AgentReplyEvent[] {
    const text = req.rawBody.toString('utf8').trim();
    if (!text) return [];
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (error) {
      throw new ConnectorError('invalid_request', 'Zendesk webhook body is not JSON (check the trigger JSON body in connectors/zendesk/README.md)', {
        cause: error,
      });
    }
    return fromZendeskWebhook(payload, { apiUserId: this.apiUserId });
  }

  /**
   * Tells agents what became of a reply with an internal note on its ticket (`reply.remoteThreadId`):
   * failed and refused replies always, delivered ones when `reportDelivered` is set; sent and read
   * cost nothing. At most one note per reply and state: the ticket's recent audits are read first
   * (one request), and the note carries the key in its audit metadata and a marker line.
   */
  private async reportReplyStatus(reply: ReplyRef, status: ReplyStatus): Promise<void> {
    if (decideReplyNote(status, { reportDelivered: this.settings.reportDelivered }) === 'none') return;
    const ticketId = parseId(reply.remoteThreadId);
    if (ticketId === undefined) {
      throw new ConnectorError('invalid_request', 'a Zendesk reply status needs the ticket id the reply came from (remoteThreadId)');
    }
    if (hasReplyStatusNote(await this.client.listRecentAudits(ticketId), reply, status)) return;
    await this.client.updateTicket(ticketId, {
      // An internal note by the API user: notifies nobody and never fires the reply trigger.
      comment: { body: renderReplyStatusNote(reply, status, this.settings.timeZone), public: false },
      metadata: { threadbridge: { r: replyStatusKey(reply, status) } },
    });
  }

  /**
   * Sets up agent replies in Zendesk: the webhook to `callbackUrl` and the trigger that calls it
   * for public agent comments on tagged tickets. Returns the webhook's signing secret, to store
   * as the connection's `webhookSecret`. Each call creates a new webhook and trigger.
   */
  private async setUpReplies(callbackUrl: string): Promise<{ credentials: { webhookSecret: string; apiUserId?: string } }> {
    // A connection stored before apiUserId was learned automatically gets it here too.
    const apiUserId = this.credentials.apiUserId ? undefined : await this.fetchApiUserId();
    const { signingSecret } = await this.createWebhookAndTrigger(callbackUrl);
    return { credentials: { webhookSecret: signingSecret, ...(apiUserId ? { apiUserId } : {}) } };
  }

  /**
   * Fetches a reply's attachment from its content_url with the API token (accounts may require
   * authentication for attachments). The trigger's body names the file but not its type: the
   * type comes from Zendesk's Content-Type.
   */
  private async downloadAttachment(attachment: ReplyAttachment, options: { maxBytes: number }): Promise<AttachmentDownload> {
    if (!attachment.url) throw new ConnectorError('invalid_request', 'a Zendesk attachment is fetched by its content_url, and this one has none');
    const download = await this.client.downloadAttachment(attachment.url, options.maxBytes);
    return download.status === 'ok' ? { ...download, filename: attachment.filename } : download;
  }

  /**
   * Soft delete, then permanent deletion (DELETE /deleted_users/{id}), which removes the user's
   * identities and personal data. Tickets they requested stay (see README).
   */
  private async eraseContact(contact: RemoteRef): Promise<ErasureReceipt> {
    const id = parseId(contact.id);
    if (id === undefined) return { outcome: 'not_found', detail: 'not a Zendesk user id' };
    const softDeleted = await this.client.deleteUser(id);
    const purged = await this.client.deleteDeletedUser(id);
    if (!softDeleted && !purged) return { outcome: 'not_found' };
    return { outcome: 'done', detail: purged ? 'user permanently deleted' : 'user deleted; permanent deletion not confirmed' };
  }

  /**
   * Creates the webhook that reports agent replies and (mode 'trigger', the default) the trigger
   * that calls it; returns the signing secret to store as `webhookSecret`.
   */
  async createWebhookAndTrigger(targetUrl: string, options: { mode?: 'trigger' | 'event' } = {}): Promise<WebhookSetupResult> {
    const mode = options.mode ?? 'trigger';
    const webhook = await this.client.createWebhook(toZendeskWebhook(targetUrl, mode));
    const signingSecret = await this.client.webhookSigningSecret(webhook.id);
    if (mode === 'event') return { webhookId: webhook.id, signingSecret };
    const trigger = await this.client.createTrigger(toZendeskReplyTrigger(webhook.id, this.settings.tags[0] ?? 'whatsapp'));
    return { webhookId: webhook.id, triggerId: String(trigger.id), signingSecret };
  }

  // -------------------------------------------------------------------------------------------

  /** One thread's messages per call (several comments on its ticket); threads side by side. */
  private readonly appendEach = oneByOne(({ thread, messages }: ThreadMessages) => this.appendMessages(thread, messages));

  // A reply's statuses go one after another: a note saying "sent" never lands after "read".
  private readonly reportEach = oneByOne(({ reply, status }: ReplyStatusReport) => this.reportReplyStatus(reply, status), { key: ({ reply }) => reply.remoteId });

  private async fetchApiUserId(): Promise<string> {
    const me = await this.client.me();
    // Zendesk answers /users/me for unauthenticated callers with an anonymous user (id null).
    if (me?.id === undefined || me.id === null) throw new ConnectorError('auth', 'Zendesk did not accept the API token', { vendorStatus: 200 });
    return String(me.id);
  }

  /**
   * The oldest active end user holding the number, from one search (phoneSearchQuery). Its digits
   * can also end another country's number: a result whose phone field is not our number is checked
   * against its phone_number identities (one request each, oldest first, at most
   * MAX_IDENTITY_CHECKS); a new customer's search finds nobody and costs nothing more.
   */
  private async findByPhone(e164: string): Promise<ZendeskUser | undefined> {
    const query = phoneSearchQuery(e164);
    if (!query) return undefined;
    let checks = 0;
    for (const user of customerUsers(await this.client.searchUsers({ query }))) {
      if (holdsNumber(user.phone, e164)) return user;
      if (checks++ >= MAX_IDENTITY_CHECKS) break;
      const identities = await this.orNotFound(this.client.listIdentities(user.id));
      if (identities?.some((i) => i.type === 'phone_number' && holdsNumber(i.value, e164))) return user;
    }
    return undefined;
  }

  /** A user found by phone gets our external_id (when it has none) so later lookups are exact. */
  private async claim(user: ZendeskUser, externalId: string): Promise<ZendeskUser> {
    if (user.external_id) return user;
    try {
      return await this.client.updateUser(user.id, { external_id: externalId });
    } catch (error) {
      // Someone else holds the external_id (a concurrent creation): that user is the customer.
      if (ConnectorError.is(error) && error.kind === 'conflict') {
        return pickCustomerUser(await this.client.searchUsers({ external_id: externalId })) ?? user;
      }
      throw error;
    }
  }

  private async uploadMessageMedia(messages: UnifiedMessage[]): Promise<{ tokens: string[]; uploaded: Set<string> }> {
    const tokens: string[] = [];
    const uploaded = new Set<string>();
    for (const message of messages) {
      if (!message.media?.storageKey) continue;
      const token = await this.uploadMedia(message.media, message.type, message.id);
      if (token) {
        tokens.push(token);
        uploaded.add(message.id);
      }
    }
    return { tokens, uploaded };
  }

  /**
   * Reads a stored file and uploads it. A file our store cannot read is mentioned in the text
   * instead of blocking the conversation; Zendesk's failures propagate as ConnectorErrors.
   */
  private async uploadMedia(media: MediaRef, type: string, fallbackName: string): Promise<string | undefined> {
    let bytes: Buffer;
    try {
      bytes = await this.deps.media.read(media);
    } catch (error) {
      this.deps.logger.warn('zendesk: stored media could not be read; sending the message without it', {
        type,
        mimeType: media.mimeType,
        error: error instanceof Error ? error.name : 'unknown',
      });
      return undefined;
    }
    const upload = await this.client.upload(mediaFilename(media, type, fallbackName), bytes, media.mimeType);
    return upload.token;
  }

  private async orNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
    try {
      return await promise;
    } catch (error) {
      if (ConnectorError.is(error) && error.kind === 'not_found') return undefined;
      throw error;
    }
  }

  private threadTicketId(thread: Thread): ZendeskId {
    if (!thread.ticket) throw new ConnectorError('invalid_request', 'Zendesk keeps messages on a ticket: call tickets.ensure first');
    return requireId(thread.ticket.id, 'ticket');
  }

  private userRef(user: Pick<ZendeskUser, 'id'>): RemoteRef {
    return { id: String(user.id), type: 'user', url: `${this.origin}/agent/users/${user.id}` };
  }

  private ticketRef(ticket: Pick<ZendeskTicket, 'id'>): RemoteRef {
    return { id: String(ticket.id), type: 'ticket', url: `${this.origin}/agent/tickets/${ticket.id}` };
  }

  /** Several messages may share one comment, hence one remote id. */
  private commentRef(ticketId: ZendeskId, comment: Partial<WrittenComment>): RemoteRef {
    const id = comment.commentId !== undefined ? String(comment.commentId) : `audit:${comment.auditId ?? 'unknown'}`;
    return { id, type: 'comment', url: `${this.origin}/agent/tickets/${ticketId}` };
  }
}

function parseId(value: string | undefined): ZendeskId | undefined {
  return value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : undefined;
}

function requireId(value: string, what: string): ZendeskId {
  const id = parseId(value);
  if (id === undefined) throw new ConnectorError('invalid_request', `not a Zendesk ${what} id`);
  return id;
}

function header(req: RawWebhook, name: string): string | undefined {
  const direct = req.headers[name] ?? Object.entries(req.headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(direct) ? direct[0] : direct;
}
