/**
 * HubSpot as a CRM for WhatsApp conversations: contacts found by every written form of their
 * number, each message a WhatsApp communication on the timeline, tickets per conversation,
 * transcripts as notes, consent in a contact property, GDPR delete, and (with conversations
 * enabled) the conversation in a Conversations inbox through a custom channel, where agents
 * reply. Orchestration only: wire shapes are in hubspot.mapper.ts and hubspot.webhooks.ts, HTTP
 * in hubspot.client.ts.
 *
 * Contacts, tickets and the timeline use HubSpot's batch endpoints (up to 100 inputs a call);
 * transcripts, consent, erasure and reply statuses take one call per item.
 */
import { oneByOne } from '../_sdk/batch';
import type {
  AgentReplyEvent,
  AppendResult,
  AttachmentDownload,
  ConnectorDeps,
  ConsentFacet,
  ConsentRequest,
  ConsentState,
  ContactsFacet,
  CrmConnector,
  Customer,
  ErasureFacet,
  ErasureReceipt,
  ErasureRequest,
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
  TicketRequest,
  TicketRouting,
  TicketRoutingFacet,
  TicketRoutingRequest,
  TicketsFacet,
  TimelineFacet,
  Transcript,
  TranscriptRequest,
  TranscriptsFacet,
  UnifiedMessage,
} from '../_sdk/contract';
import { ConnectorError } from '../_sdk/errors';
import type { HubspotClient } from './hubspot.client';
import type { HubspotConversationsSettings, HubspotCredentials, HubspotSettings } from './hubspot.credentials';
import {
  CONTACT_READ_PROPERTIES,
  MAX_SEARCH_LIMIT,
  MAX_SEARCH_RESULTS,
  MESSAGE_ID_PROPERTY_DEFINITION,
  TICKET_READ_PROPERTIES,
  TRANSCRIPT_ID_PROPERTY_DEFINITION,
  assignCreatedContacts,
  assignCreatedTickets,
  consentPropertyDefinition,
  decideTicket,
  fromHubspotChannelEvents,
  matchContacts,
  matchMarkers,
  matchReadObjects,
  toChannelMessage,
  toChannelStatusUpdate,
  toConsentValue,
  toContactSearches,
  toFileName,
  toHubspotCommunication,
  toHubspotContact,
  hubspotOwnerIdOf,
  toHubspotRoutingProperties,
  toHubspotTicket,
  toHubspotTranscriptNote,
  transcriptKey,
} from './hubspot.mapper';
import {
  MESSAGE_ID_PROPERTY,
  TRANSCRIPT_ID_PROPERTY,
  type HubspotBatchResult,
  type HubspotCreateInput,
  type HubspotFile,
  type HubspotObject,
  type HubspotObjectType,
  type HubspotPropertyDefinition,
  type HubspotSearchRequest,
} from './hubspot.types';
import {
  REQUEST_TIMESTAMP_HEADER,
  SIGNATURE_V3_HEADER,
  toChannelAccountInput,
  toCustomChannelInput,
  verifyHubspotV3Signature,
} from './hubspot.webhooks';

/** HubSpot's batch endpoints take at most 100 inputs: the most any batch form accepts per call. */
export const HUBSPOT_MAX_BATCH = 100;

/**
 * Custom properties known to exist, per portal, for the life of the process: checking costs a
 * request, and threadbridge never deletes them. (If a portal admin deletes one, writes fail with
 * invalid_request until the process restarts and re-creates it.)
 */
const knownProperties = new Set<string>();

/** The credentials of the developer app behind agent replies (custom channel). */
export type HubspotAppCredentials = Pick<HubspotCredentials, 'appSecret' | 'appId' | 'developerApiKey'>;

export class HubspotConnector implements CrmConnector {
  readonly contacts: ContactsFacet;
  readonly timeline: TimelineFacet;
  readonly tickets?: TicketsFacet;
  readonly ticketRouting?: TicketRoutingFacet;
  readonly transcripts: TranscriptsFacet;
  readonly replies?: RepliesFacet;
  readonly replySetup: ReplySetupFacet;
  readonly consent: ConsentFacet;
  readonly erasure: ErasureFacet;
  /** Owners' ids by lowercased email (null: none), per connector instance (one job). */
  private readonly ownerIds = new Map<string, string | null>();

  constructor(
    private readonly client: HubspotClient,
    private readonly settings: HubspotSettings,
    private readonly deps: ConnectorDeps,
    private readonly app: HubspotAppCredentials = {},
  ) {
    this.contacts = { ensure: (requests) => this.ensureContacts(requests) };
    this.timeline = {
      append: (batches) => this.appendToThreads(batches),
      // A maybe-created message is read back by its unique marker (batch read by idProperty), which
      // unlike HubSpot's search sees a communication created a moment ago.
      reconcile: { maybeCreated: 'consistent_read' },
      uploadsMedia: true,
    };
    // A connection that switched tickets off has no tickets facet: the core opens none.
    this.tickets = settings.tickets?.enabled !== false ? { ensure: (requests) => this.ensureTickets(requests) } : undefined;
    this.ticketRouting = this.tickets ? { apply: (requests) => this.applyRouting(requests) } : undefined;

    // One call per item (there is no batch GDPR delete or status update; a transcript uploads its
    // files and finds its note first), the items that write the same record one after another
    // (oneByOne with a key per record). A custom property is checked once per batch rather than by each of its calls
    // at the same time.
    const attachEach = oneByOne((r: TranscriptRequest) => this.attachTranscript(r.thread, r.transcript), { key: (r) => transcriptKey(r.transcript) });
    this.transcripts = {
      attach: async (requests) => {
        if (requests.length > 0) await this.ensureProperty('notes', TRANSCRIPT_ID_PROPERTY_DEFINITION);
        return attachEach(requests);
      },
    };
    const recordEach = oneByOne((r: ConsentRequest) => this.recordConsent(r.contact, r.consent), { key: (r) => r.contact.id });
    this.consent = {
      record: async (requests) => {
        // Transactional consent is not written to HubSpot, so alone it needs no property.
        if (requests.some((r) => toConsentValue(r.consent) !== undefined)) {
          await this.ensureProperty('contacts', consentPropertyDefinition(this.settings.consentProperty));
        }
        await recordEach(requests);
      },
    };
    this.erasure = { erase: oneByOne((r: ErasureRequest) => this.eraseContact(r.contact), { key: (r) => r.contact.id }) };

    // Agent replies only with settings.conversations.enabled: they come from a Conversations
    // custom channel, which replySetup registers and whose settings it returns, enabled. A reply's
    // statuses are reported in order, or the inbox could end on an older one.
    const reportEach = oneByOne((r: ReplyStatusReport) => this.reportReplyStatus(r.reply, r.status), { key: (r) => r.reply.remoteId });
    this.replies =
      settings.conversations?.enabled === true
        ? {
            verify: (req) => this.verifyWebhook(req),
            parse: (req) => this.parseWebhook(req),
            reportStatus: async (reports) => {
              await reportEach(reports);
            },
            download: (attachment, options) => this.downloadAttachment(attachment, options),
          }
        : undefined;
    this.replySetup = { setUp: (callbackUrl) => this.setUpReplies(callbackUrl) };
  }

  async verifyCredentials(): Promise<void> {
    await this.client.verify();
  }

  /**
   * Finds or creates up to 100 customers' contacts in few calls: one batch read of the `known`
   * links (a read, unlike search, sees a contact created seconds ago), the fewest searches
   * covering every written form of every remaining number (5 OR'ed IN filters of ≤ 100 values
   * each per search, paged), one batch create for the customers still missing. Hits are matched
   * back to customers by normalising the stored numbers. The same customer (number) twice gets the
   * same contact. One RemoteRef per request, in order.
   */
  private async ensureContacts(requests: { customer: Customer; known?: RemoteRef }[]): Promise<RemoteRef[]> {
    if (requests.length === 0) return [];
    this.checkBatch('contacts.ensure', requests.length);
    // One entry per number: a contact is looked up and created once however often it is asked for.
    const byNumber = new Map<string, { customer: Customer; knownIds: string[] }>();
    for (const { customer, known } of requests) {
      const entry = byNumber.get(customer.e164) ?? { customer, knownIds: [] };
      if (known && !entry.knownIds.includes(known.id)) entry.knownIds.push(known.id);
      byNumber.set(customer.e164, entry);
    }
    const resolved = new Map<string, RemoteRef>();

    const knownIds = [...new Set([...byNumber.values()].flatMap((e) => e.knownIds))];
    if (knownIds.length > 0) {
      const read = await this.client.batchRead('contacts', knownIds, CONTACT_READ_PROPERTIES);
      const found = matchReadObjects(read.results, knownIds);
      let gone = 0;
      for (const [e164, entry] of byNumber) {
        const contact = entry.knownIds.map((id) => found.get(id)).find((c) => c !== undefined);
        if (contact) resolved.set(e164, { id: contact.id, type: 'contact' });
        else if (entry.knownIds.length > 0) gone += 1;
      }
      if (gone > 0) this.deps.logger.info('linked hubspot contacts are gone; looking the customers up again', { count: gone });
    }

    const unresolved = [...byNumber.keys()].filter((e164) => !resolved.has(e164));
    if (unresolved.length > 0) {
      const hits = await this.searchAll('contacts', toContactSearches(unresolved));
      for (const [e164, contact] of matchContacts(hits, unresolved)) resolved.set(e164, { id: contact.id, type: 'contact' });
    }

    const missing = [...byNumber.values()].filter((e) => !resolved.has(e.customer.e164));
    if (missing.length > 0) {
      const result = await this.client.batchCreate('contacts', missing.map((e) => ({ properties: toHubspotContact(e.customer) })));
      // HubSpot does not promise input order: a new contact is known by the number we wrote.
      const created = assignCreatedContacts(missing.map((e) => e.customer.e164), result.results);
      if (created.reordered) this.deps.logger.warn('hubspot changed new contacts\' numbers; matched them in input order', { count: missing.length });
      for (const [e164, contact] of created.byNumber) resolved.set(e164, { id: contact.id, type: 'contact' });
      this.throwOnPartialBatch('contacts', result, missing.length, created.byNumber.size);
    }
    return requests.map((r) => resolved.get(r.customer.e164)!);
  }

  /**
   * Route changes on existing tickets: owners found by email (GET /crm/v3/owners, cached per
   * instance), one batch read of the tags property when tags change (it is a multiple checkbox:
   * values are merged, never replaced), one batch update for all tickets. An owner HubSpot does
   * not know → invalid_request; a ticket it does not hold → not_found.
   */
  private async applyRouting(requests: TicketRoutingRequest[]): Promise<void[]> {
    if (requests.length === 0) return [];
    this.checkBatch('ticketRouting.apply', requests.length);
    const tickets = this.settings.tickets;
    const owners: (string | undefined)[] = [];
    for (const { routing } of requests) {
      const assignee = routing.assignee?.trim();
      const owner = assignee ? await this.resolveOwner(assignee) : undefined;
      if (assignee && !owner) throw new ConnectorError('invalid_request', `HubSpot ticket routing: no HubSpot owner with the email "${assignee}"`);
      owners.push(owner);
    }
    const tagsProperty = tickets.tagsProperty;
    const current = new Map<string, string | null>();
    const withTags = requests.filter((r) => r.routing.tags?.length || r.routing.removeTags?.length).map((r) => r.ticket.id);
    if (tagsProperty && withTags.length > 0) {
      const ids = [...new Set(withTags)];
      const read = await this.client.batchRead('tickets', ids, [tagsProperty]);
      const found = matchReadObjects(read.results, ids);
      for (const id of ids) {
        const ticket = found.get(id);
        if (!ticket) throw new ConnectorError('not_found', `HubSpot ticket ${id} is gone`, { vendorStatus: 404 });
        current.set(id, ticket.properties[tagsProperty] ?? null);
      }
    }
    const updates = new Map<string, Record<string, string>>();
    requests.forEach(({ ticket, routing }, i) => {
      const properties = toHubspotRoutingProperties(routing, tickets, { ownerId: owners[i], currentTags: current.get(ticket.id) });
      if (tagsProperty && properties[tagsProperty] !== undefined) current.set(ticket.id, properties[tagsProperty]);
      if (Object.keys(properties).length) updates.set(ticket.id, { ...updates.get(ticket.id), ...properties });
    });
    if (updates.size > 0) {
      const result = await this.client.batchUpdate('tickets', [...updates].map(([id, properties]) => ({ id, properties })));
      this.throwOnPartialBatch('tickets', result, updates.size, result.results.length, 'routed');
    }
    return requests.map(() => undefined);
  }

  /** An owner id as given, or the owner with that email (null cached for none). */
  private async resolveOwner(assignee: string): Promise<string | undefined> {
    const id = hubspotOwnerIdOf(assignee);
    if (id) return id;
    const key = assignee.trim().toLowerCase();
    if (!this.ownerIds.has(key)) this.ownerIds.set(key, (await this.client.findOwnerByEmail(assignee.trim())) ?? null);
    return this.ownerIds.get(key) ?? undefined;
  }

  /**
   * The tickets of up to 100 conversations: one batch read of the `known` tickets' stage and
   * close date; a ticket still open is kept, one closed within reopenWithinHours is moved back to
   * the open stage (one batch update for all of them), any other conversation gets a new ticket
   * on its contact (one batch create). The same conversation twice gets the same ticket.
   */
  private async ensureTickets(requests: TicketRequest[]): Promise<RemoteRef[]> {
    const tickets = this.settings.tickets;
    if (requests.length === 0) return [];
    this.checkBatch('tickets.ensure', requests.length);
    const byConversation = new Map<string, { thread: Thread; knownId?: string; routing?: TicketRouting }>();
    for (const { thread, known, routing } of requests) {
      const entry: { thread: Thread; knownId?: string; routing?: TicketRouting } = byConversation.get(thread.conversationId) ?? { thread, routing };
      entry.knownId ??= known?.id;
      byConversation.set(thread.conversationId, entry);
    }
    const resolved = new Map<string, RemoteRef>();

    const knownIds = [...new Set([...byConversation.values()].flatMap((e) => (e.knownId ? [e.knownId] : [])))];
    const toReopen = new Set<string>();
    if (knownIds.length > 0) {
      const read = await this.client.batchRead('tickets', knownIds, TICKET_READ_PROPERTIES);
      const found = matchReadObjects(read.results, knownIds);
      const now = this.deps.clock.now();
      for (const [conversationId, entry] of byConversation) {
        const ticket = entry.knownId ? found.get(entry.knownId) : undefined;
        if (!ticket) continue;
        const decision = decideTicket(ticket, tickets, now);
        if (decision === 'new') continue;
        if (decision === 'reopen') toReopen.add(ticket.id);
        resolved.set(conversationId, { id: ticket.id, type: 'ticket' });
      }
    }
    if (toReopen.size > 0) {
      const ids = [...toReopen];
      const result = await this.client.batchUpdate('tickets', ids.map((id) => ({ id, properties: { hs_pipeline_stage: tickets.openStage } })));
      this.throwOnPartialBatch('tickets', result, ids.length, result.results.length, 'reopened');
    }

    const fresh = [...byConversation.entries()].filter(([conversationId]) => !resolved.has(conversationId));
    if (fresh.length > 0) {
      const inputs: HubspotCreateInput[] = [];
      for (const [, entry] of fresh) {
        // A route's owner that HubSpot does not know never blocks the ticket: it opens unassigned, its content says why.
        const owner = entry.routing?.assignee ? await this.resolveOwner(entry.routing.assignee) : undefined;
        const unresolved = entry.routing?.assignee && !owner ? [`no HubSpot owner with the email "${entry.routing.assignee.trim()}"`] : [];
        if (unresolved.length) this.deps.logger.warn('hubspot: a ticket is opened without an owner HubSpot does not know', {});
        const properties = entry.routing ? toHubspotRoutingProperties(entry.routing, tickets, { ownerId: owner }) : {};
        inputs.push(toHubspotTicket(entry.thread, tickets, { properties, unresolved }));
      }
      const result = await this.client.batchCreate('tickets', inputs);
      const assigned = assignCreatedTickets(inputs, result.results);
      if (assigned.reordered) this.deps.logger.warn('hubspot changed new tickets\' subject or content; matched them in input order', { count: inputs.length });
      assigned.ids.forEach((id, i) => {
        if (id) resolved.set(fresh[i][0], { id, type: 'ticket' });
      });
      this.throwOnPartialBatch('tickets', result, fresh.length, assigned.ids.filter(Boolean).length);
    }
    return requests.map((r) => resolved.get(r.thread.conversationId)!);
  }

  /**
   * Records the messages of several conversations (≤ 100 in all) as WhatsApp communications
   * with one batch create, each on its thread's contact (81) and ticket (83). Messages flagged
   * maybeCreated are first read back by their unique marker (threadbridge_message_uid) across all
   * threads, one batch read per 100, and only the missing ones are created; media files are
   * uploaded first, one call each. With conversations enabled, each customer message is then also
   * published into its conversation's inbox thread: one call per message (HubSpot has no batch
   * form), repeated on a retry, where HubSpot's idempotency id (the message id) keeps it to one.
   * One AppendResult per message, in the order given.
   */
  private async appendToThreads(batches: { thread: Thread; messages: UnifiedMessage[] }[]): Promise<AppendResult[]> {
    const items = batches.flatMap(({ thread, messages }) => messages.map((message) => ({ thread, message })));
    if (items.length === 0) return [];
    if (items.length > HUBSPOT_MAX_BATCH) {
      throw new ConnectorError('invalid_request', `timeline.append takes at most ${HUBSPOT_MAX_BATCH} messages per call (got ${items.length})`);
    }
    await this.ensureProperty('communications', MESSAGE_ID_PROPERTY_DEFINITION);

    // A message an earlier attempt may have created is read back by its marker first. Not by
    // search: HubSpot's search index lags writes by seconds, and the core retries a create whose
    // answer was lost within a second, so a search would miss it and the message be logged twice.
    const maybe = [...new Set(items.filter((i) => i.message.maybeCreated).map((i) => i.message.id))];
    const existing = await this.findByMarker('communications', MESSAGE_ID_PROPERTY, maybe);
    const missing = new Map<string, { thread: Thread; message: UnifiedMessage }>();
    for (const item of items) if (!existing.has(item.message.id) && !missing.has(item.message.id)) missing.set(item.message.id, item);

    const files = new Map<string, HubspotFile | undefined>();
    for (const { message } of missing.values()) files.set(message.id, await this.uploadMedia(message.id, message.type, message.media));
    const created = await this.createCommunications([...missing.values()], files, existing);
    if (this.settings.conversations?.enabled) await this.publishToInbox(items, files);
    return items.map(({ message }) => ({ messageId: message.id, remote: { id: existing.get(message.id) ?? created.get(message.id)!, type: 'communication' } }));
  }

  private async attachTranscript(thread: Thread, transcript: Transcript): Promise<RemoteRef> {
    await this.ensureProperty('notes', TRANSCRIPT_ID_PROPERTY_DEFINITION);
    const key = transcriptKey(transcript);
    const existing = await this.findByMarker('notes', TRANSCRIPT_ID_PROPERTY, [key]);
    const already = existing.get(key);
    if (already) return { id: already, type: 'note' };

    const files: (HubspotFile | undefined)[] = [];
    for (const [i, entry] of transcript.entries.entries()) {
      files.push(await this.uploadMedia(`${transcript.conversationId}-${i}`, 'attachment', entry.media));
    }
    try {
      const note = await this.client.createObject('notes', toHubspotTranscriptNote(thread, transcript, files));
      return { id: note.id, type: 'note' };
    } catch (error) {
      const found = await this.existingAfterRefusal(error, 'notes', TRANSCRIPT_ID_PROPERTY, [key]);
      return { id: found.get(key)!, type: 'note' };
    }
  }

  private async recordConsent(contact: RemoteRef, consent: ConsentState): Promise<void> {
    const value = toConsentValue(consent);
    // HubSpot holds marketing consent only; transactional messages need no record there.
    if (value === undefined) return;
    await this.ensureProperty('contacts', consentPropertyDefinition(this.settings.consentProperty));
    await this.client.updateObject('contacts', contact.id, { [this.settings.consentProperty]: value });
  }

  /**
   * Checks HubSpot's v3 signature (HMAC-SHA256 with the app's client secret over method, URI,
   * body and timestamp) in constant time; refuses requests signed more than 5 minutes ago.
   */
  private verifyWebhook(req: RawWebhook): boolean {
    return verifyHubspotV3Signature({
      secret: this.app.appSecret,
      signature: header(req, SIGNATURE_V3_HEADER),
      timestamp: header(req, REQUEST_TIMESTAMP_HEADER),
      method: req.method,
      url: req.url,
      rawBody: req.rawBody,
      receivedAt: req.receivedAt,
    });
  }

  /** Agents' messages in this connection's custom channel (OUTGOING_CHANNEL_MESSAGE_CREATED) as agent replies. */
  private parseWebhook(req: RawWebhook): AgentReplyEvent[] {
    const text = req.rawBody.toString('utf8').trim();
    if (!text) return [];
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (error) {
      throw new ConnectorError('invalid_request', 'HubSpot webhook body is not JSON', { cause: error });
    }
    return fromHubspotChannelEvents(payload, { channelId: this.settings.conversations?.channelId });
  }

  /**
   * Fetches a file an agent attached to an inbox message: by its file id through a signed URL
   * (files are private in the file manager), else by the URL the event gave.
   */
  private async downloadAttachment(attachment: ReplyAttachment, options: { maxBytes: number }): Promise<AttachmentDownload> {
    let url = attachment.url;
    let name = attachment.filename;
    if (attachment.remoteId) {
      const signed = await this.client.signedFileUrl(attachment.remoteId);
      url = signed.url;
      name ??= signed.name;
    }
    if (!url) throw new ConnectorError('invalid_request', 'a HubSpot attachment needs a file id or a URL');
    const download = await this.client.downloadFile(url, options.maxBytes);
    return download.status === 'ok' ? { ...download, ...(name ? { filename: name } : {}) } : download;
  }

  /**
   * Shows the agent what became of their message, as its status in the inbox: SENT (sent or
   * delivered), READ, or FAILED with what happened and what to do (failed, refused). One PATCH.
   */
  private async reportReplyStatus(reply: ReplyRef, status: ReplyStatus): Promise<void> {
    const channelId = this.settings.conversations?.channelId;
    if (!channelId) {
      throw new ConnectorError('invalid_request', 'this HubSpot connection has no custom channel (settings.conversations.channelId): set up agent replies first');
    }
    await this.client.updateChannelMessageStatus(channelId, reply.remoteId, toChannelStatusUpdate(status));
  }

  /**
   * Sets up agent replies: registers the custom channel on the developer app with `callbackUrl`
   * as its webhook (skipped when settings already name a channel), then connects this portal's
   * inbox under our business number (skipped when settings name a channel account). Returns the
   * conversations settings to store, enabled.
   */
  private async setUpReplies(callbackUrl: string): Promise<{ settings: { conversations: Required<HubspotConversationsSettings> } }> {
    const conversations = this.settings.conversations ?? ({ enabled: false } as HubspotConversationsSettings);
    const { inboxId, deliveryIdentifier } = conversations;
    const { appId, developerApiKey } = this.app;
    const missing = [
      !inboxId && 'settings.conversations.inboxId',
      !deliveryIdentifier && 'settings.conversations.deliveryIdentifier',
      !conversations.channelId && !appId && 'credentials.appId',
      !conversations.channelId && !developerApiKey && 'credentials.developerApiKey',
      !this.app.appSecret && 'credentials.appSecret (to check the replies HubSpot signs)',
    ].filter((item): item is string => typeof item === 'string');
    if (missing.length > 0 || !inboxId || !deliveryIdentifier) {
      throw new ConnectorError('invalid_request', `agent replies through HubSpot need ${missing.join(', ')}`);
    }

    const channelId = conversations.channelId ?? (await this.client.createCustomChannel(toCustomChannelInput(callbackUrl), { appId: appId!, developerApiKey: developerApiKey! })).id;
    let channelAccountId = conversations.channelAccountId;
    if (!channelAccountId) {
      try {
        channelAccountId = (await this.client.createChannelAccount(channelId, toChannelAccountInput(inboxId, deliveryIdentifier))).id;
      } catch (error) {
        if (!ConnectorError.is(error) || conversations.channelId) throw error;
        // The channel exists now: say which, so the next attempt reuses it instead of registering another.
        throw new ConnectorError(error.kind, `${error.message}; custom channel ${channelId} was registered: set settings.conversations.channelId to it before trying again`, {
          retryAfterMs: error.retryAfterMs,
          vendorStatus: error.vendorStatus,
          cause: error,
        });
      }
    }
    return { settings: { conversations: { enabled: true, channelId, channelAccountId, inboxId, deliveryIdentifier } } };
  }

  private async eraseContact(contact: RemoteRef): Promise<ErasureReceipt> {
    const deleted = await this.client.gdprDeleteContact(contact.id);
    return deleted
      ? { outcome: 'done', detail: `HubSpot contact ${contact.id} permanently deleted (GDPR delete)` }
      : { outcome: 'not_found', detail: `HubSpot holds no contact ${contact.id}` };
  }

  // -------------------------------------------------------------------------------------------

  private checkBatch(operation: string, count: number): void {
    if (count > HUBSPOT_MAX_BATCH) {
      throw new ConnectorError('invalid_request', `${operation} takes at most ${HUBSPOT_MAX_BATCH} requests per call (got ${count})`);
    }
  }

  /**
   * Throws when a batch did less than asked (a 207 answer, or results that could not be matched
   * back). What it did exist now; the core's retry finds it (links, markers, search).
   */
  private throwOnPartialBatch(type: HubspotObjectType, result: HubspotBatchResult, expected: number, done: number, verb = 'created'): void {
    if (result.errors.length === 0 && done >= expected) return;
    const first = result.errors[0];
    throw new ConnectorError(
      first?.category === 'VALIDATION_ERROR' ? 'invalid_request' : 'transient',
      `HubSpot ${verb} ${done} of ${expected} ${type}${first ? ` (${first.category ?? 'error'}: ${first.message ?? ''})` : ''}`.slice(0, 400),
      { vendorStatus: 207 },
    );
  }

  /** Every hit of these searches, page after page (HubSpot serves at most 10,000 per search). */
  private async searchAll(type: HubspotObjectType, searches: HubspotSearchRequest[]): Promise<HubspotObject[]> {
    const hits: HubspotObject[] = [];
    for (const request of searches) {
      let after: string | undefined;
      do {
        const page = await this.client.search(type, after ? { ...request, after } : request);
        hits.push(...page.results);
        after = page.after;
        if (after && Number(after) + (request.limit ?? MAX_SEARCH_LIMIT) > MAX_SEARCH_RESULTS) {
          this.deps.logger.warn('hubspot search has more hits than it serves; using the first ones', { objectType: type, total: page.total });
          after = undefined;
        }
      } while (after);
    }
    return hits;
  }

  /**
   * Creates a custom property once per portal (cached for the process). A marker property that
   * exists without unique values (made by hand) cannot serve: HubSpot reads by `idProperty` only
   * through a unique property, and makes a property unique only when it is created.
   */
  private async ensureProperty(type: HubspotObjectType, definition: HubspotPropertyDefinition): Promise<void> {
    const key = `${this.client.portalKey}|${type}.${definition.name}`;
    if (knownProperties.has(key)) return;
    const found = await this.client.getProperty(type, definition.name);
    if (!found) {
      this.deps.logger.info('creating hubspot custom property', { objectType: type, property: definition.name });
      await this.client.createProperty(type, definition);
    } else if (definition.hasUniqueValue && found.hasUniqueValue !== true) {
      throw new ConnectorError(
        'permanent',
        `HubSpot property ${type}.${definition.name} exists without "unique values": threadbridge needs it unique to keep each record to one copy. Delete the property in HubSpot so threadbridge creates it again, then replay the dead letters`,
      );
    }
    knownProperties.add(key);
  }

  /**
   * Remote ids of the objects whose unique marker property holds one of `markers` (marker → id):
   * batch reads by `idProperty`, 100 markers each, which see an object created a moment ago.
   */
  private async findByMarker(type: HubspotObjectType, property: string, markers: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let i = 0; i < markers.length; i += HUBSPOT_MAX_BATCH) {
      const chunk = markers.slice(i, i + HUBSPOT_MAX_BATCH);
      const read = await this.client.batchReadByProperty(type, property, chunk, [property]);
      for (const [marker, id] of matchMarkers(read.results, property, chunk)) found.set(marker, id);
    }
    return found;
  }

  /**
   * Batch-creates the communications of `items` (marker → new id). The marker is unique, so
   * HubSpot refuses the whole batch when one of them exists already (written by an attempt whose
   * answer was lost, though not flagged maybeCreated): those are read back into `existing` and
   * the rest created once more.
   */
  private async createCommunications(
    items: { thread: Thread; message: UnifiedMessage }[],
    files: Map<string, HubspotFile | undefined>,
    existing: Map<string, string>,
  ): Promise<Map<string, string>> {
    const created = new Map<string, string>();
    const create = (list: typeof items) => this.client.batchCreate('communications', list.map(({ thread, message }) => toHubspotCommunication(thread, message, files.get(message.id)?.url)));
    let pending = items;
    if (pending.length === 0) return created;
    let result: HubspotBatchResult;
    try {
      result = await create(pending);
    } catch (error) {
      const found = await this.existingAfterRefusal(error, 'communications', MESSAGE_ID_PROPERTY, pending.map((i) => i.message.id));
      for (const [messageId, id] of found) existing.set(messageId, id);
      pending = pending.filter((i) => !found.has(i.message.id));
      if (pending.length === 0) return created;
      result = await create(pending);
    }
    // HubSpot does not promise results in input order: match them by the marker.
    for (const obj of result.results) {
      const messageId = obj.properties[MESSAGE_ID_PROPERTY];
      if (messageId) created.set(messageId, obj.id);
    }
    // Part of the batch may exist now: the core retries with maybeCreated, which reads it back.
    this.throwOnPartialBatch('communications', result, pending.length, created.size);
    return created;
  }

  /**
   * After HubSpot refused a create: the objects among `markers` that exist already (a duplicate
   * of a unique marker). HubSpot answers that with a 400 (409 on some objects) whose wording it
   * does not publish, so this reads back rather than parse the message; when none exist, the
   * refusal was about something else and `error` is thrown as it was.
   */
  private async existingAfterRefusal(error: unknown, type: HubspotObjectType, property: string, markers: string[]): Promise<Map<string, string>> {
    if (!ConnectorError.is(error) || (error.vendorStatus !== 400 && error.vendorStatus !== 409)) throw error;
    const found = await this.findByMarker(type, property, markers);
    if (found.size === 0) throw error;
    this.deps.logger.info('hubspot already holds some of these records; using them', { objectType: type, count: found.size });
    return found;
  }

  /**
   * Publishes the customer messages among `items` into their inbox threads, in order, once per
   * message id. A message whose file this call did not upload (one found from an earlier attempt)
   * has it uploaded again: HubSpot keeps the first publication of an idempotency id, and a retry
   * may be the first.
   */
  private async publishToInbox(items: { thread: Thread; message: UnifiedMessage }[], uploaded: Map<string, HubspotFile | undefined>): Promise<void> {
    const { channelId, channelAccountId, deliveryIdentifier } = this.settings.conversations;
    if (!channelId || !channelAccountId || !deliveryIdentifier) {
      throw new ConnectorError('invalid_request', 'HubSpot conversations are enabled but not set up (channelId, channelAccountId, deliveryIdentifier)');
    }
    const published = new Set<string>();
    for (const { thread, message } of items) {
      if (message.direction !== 'inbound' || published.has(message.id)) continue;
      published.add(message.id);
      const file = uploaded.has(message.id) ? uploaded.get(message.id) : await this.uploadMedia(message.id, message.type, message.media);
      try {
        await this.client.publishChannelMessage(channelId, toChannelMessage(thread, message, { channelAccountId, deliveryIdentifier }, file));
      } catch (error) {
        // HubSpot already holds a message with this idempotency id: what the retry wanted.
        if (ConnectorError.is(error) && error.kind === 'conflict') continue;
        throw error;
      }
    }
  }

  /**
   * Uploads a stored media file; undefined when there is none to upload (not downloaded, or the
   * store lost it), in which case the body links to threadbridge's copy or says why it is missing.
   */
  private async uploadMedia(ownerId: string, type: string, media: MediaRef | undefined): Promise<HubspotFile | undefined> {
    if (!media?.storageKey) return undefined;
    let bytes: Buffer;
    try {
      bytes = await this.deps.media.read(media);
    } catch (err) {
      this.deps.logger.warn('media file could not be read for upload; linking instead', { storageKey: media.storageKey, error: (err as Error).message });
      return undefined;
    }
    return this.client.uploadFile(bytes, toFileName(ownerId, type, media));
  }
}

function header(req: RawWebhook, name: string): string | undefined {
  const direct = req.headers[name] ?? Object.entries(req.headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(direct) ? direct[0] : direct;
}
