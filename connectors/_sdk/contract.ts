import type { Agent, AgentOptions } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The connector contract: everything a CRM/helpdesk integration implements, and everything the
 * core hands it. A connector is one folder under connectors/ exporting a {@link ConnectorDefinition};
 * connectors/index.ts lists them. Connectors never touch the database, the queue or the
 * configuration: the core resolves credentials and settings, and passes ports in {@link ConnectorDeps}.
 */
import type { ConnectorError } from './errors';

// ---------------------------------------------------------------------------------------------
// Manifest

/**
 * What a connection can do, as the API shows it: derived from the facets its connector has
 * ({@link capabilitiesOf}), never declared beside them.
 */
export interface ConnectorCapabilities {
  /** Finds or creates the customer as a contact/user. Every connector has this. */
  contacts: true;
  /** Logs each WhatsApp message on the customer's record (facet `timeline`). */
  history: boolean;
  /** Opens/reuses/reopens a ticket per conversation (facet `tickets`). */
  tickets: boolean;
  /** Attaches the whole transcript when a conversation closes (facet `transcripts`). */
  transcripts: boolean;
  /** Receives agent replies by webhook and reports what became of them (facet `replies`). */
  replies: boolean;
  /** Mirrors consent changes onto the remote contact (facet `consent`). */
  consent: boolean;
  /** Erases the customer remotely on a right-to-be-forgotten request (facet `erasure`). */
  erasure: boolean;
  /** Sets a ticket's group, priority, assignee and tags when its conversation's route changes (facet `ticketRouting`). */
  ticketRouting: boolean;
  /** Uploads media files rather than linking to them (`timeline.uploadsMedia`). */
  attachments: boolean;
}

/**
 * How a connector settles a message flagged maybeCreated: an earlier call may have written it
 * (it timed out, or its connection was reset after sending) and the connector must find that
 * write before creating the message again. The core retries such a call soon (a backoff from
 * 200 ms), so the lookup must see writes that are seconds old. Part of the `timeline` facet: a
 * connector that logs messages must say how.
 */
export type MaybeCreatedReconciliation =
  /**
   * By a read that sees a write at once: by id or a unique key, or the record's own history (a
   * ticket's audits). The core may retry at any moment.
   */
  | { maybeCreated: 'consistent_read' }
  /**
   * Through a search whose index sees a write only up to `indexLagMs` after it. The core does
   * not retry a maybe-created message before `indexLagMs` has passed since the ambiguous attempt.
   */
  | { maybeCreated: 'search'; indexLagMs: number };

export interface ConnectorManifest {
  /** Lowercase literal, stable forever: stored on every connection row. */
  id: string;
  displayName: string;
  docsUrl: string;
  /**
   * The vendor's default request budget per account. The core enforces it across all workers
   * (deps.budget); a connection's settings may override it (e.g. a higher HubSpot tier).
   */
  defaultBudget: { requests: number; perMs: number };
  /**
   * Most items any facet's batch call takes at once (e.g. a vendor batch endpoint's limit); for
   * timeline.append, messages across all its threads.
   */
  maxBatch: number;
}

/** A class with class-validator decorators; the core validates plain JSON against it. */
export type DtoClass<T extends object = object> = new () => T;

/**
 * What a connector reads from the environment: a connection, or — when some of its variables are
 * set but not all it needs (e.g. only ZENDESK_SUBDOMAIN) — the names of the missing ones, which
 * stop the boot with a message naming them rather than silently declaring nothing.
 */
export type EnvDeclaration<C extends object = object, S extends object = object> =
  | { name: string; credentials: C; settings: Partial<S> }
  | { missing: string[] };

export interface ConnectorDefinition<C extends object = object, S extends object = object> {
  manifest: ConnectorManifest;
  /** class-validator DTO for credentials (secrets: encrypted at rest, never returned by the API). */
  credentials: DtoClass<C>;
  /** class-validator DTO for settings (not secret: pipelines, templates, policies). */
  settings: DtoClass<S>;
  /**
   * Reads a connection declared by environment variables (e.g. HUBSPOT_ACCESS_TOKEN), or returns
   * undefined when the environment declares none. The core creates/updates it at boot.
   */
  fromEnv?(env: Record<string, string | undefined>): EnvDeclaration<C, S> | undefined;
  /**
   * The request budget of a connection with these settings (e.g. a higher vendor tier set in
   * its settings). Absent: manifest.defaultBudget.
   */
  budgetFor?(settings: S): { requests: number; perMs: number };
  /**
   * Builds a connector for one job. Cheap: called once per job with fresh credentials. The facets
   * it returns are what a connection with these settings can do (a setting that switches tickets
   * off leaves the `tickets` facet out).
   */
  create(credentials: C, settings: S, deps: ConnectorDeps): CrmConnector;
  /**
   * The base URLs a connection with these credentials and settings calls (its API, and any fixed
   * upload/file host). The core checks each against the egress policy when the connection is
   * created or changed, and refuses it with a reason before anything is sent.
   */
  endpoints(credentials: C, settings: S): string[];
  /**
   * Optional. Credential values threadbridge makes up when the operator leaves them out (e.g. a
   * signing secret the receiving system is given afterwards). Called with the credentials as sent,
   * before they are validated; returns only fields that were absent. The core stores them with the
   * others and shows them once, in the answer to the call that generated them
   * (`generatedCredentials`); afterwards they are secrets like the rest, never returned. The vendor
   * cannot know values made up just now, so credentials with generated values are not checked with
   * it (verifyCredentials) in that call: only their endpoints against the egress policy.
   */
  generateCredentials?(given: Record<string, unknown>): Record<string, string>;
  /**
   * Optional. The events this connector sends to the remote system (a generic webhook's
   * deliveries), each with the JSON Schema of its body and an example: the core publishes them in
   * the OpenAPI document's `webhooks` section, so integrators can generate receivers.
   */
  events?: readonly PublishedEvent[];
}

/** An event a connector sends out, as the API documentation publishes it. */
export interface PublishedEvent {
  /** The event type as sent, e.g. 'message.received'. */
  type: string;
  summary: string;
  description?: string;
  /** JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) of the request body. */
  schema: Record<string, unknown>;
  /** A body as it is sent. */
  example: Record<string, unknown>;
  /** Request headers the receiver gets with it (name → description). */
  headers?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Ports the core hands to a connector

export interface ConnectorLogger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

export interface Clock {
  now(): Date;
}

/**
 * The connection's request budget, shared by every worker of the deployment. A connector calls
 * acquire() before each HTTP request to the vendor (cost = how many of the vendor's rate-limit
 * units the call spends, usually 1). It resolves when the request may be sent.
 */
export interface RequestBudget {
  acquire(cost?: number): Promise<void>;
}

/** Reads a stored media file (downloaded from WhatsApp) so a connector can upload it. */
export interface MediaReader {
  read(media: MediaRef): Promise<Buffer>;
}

/**
 * The network, as the core lets a connector reach it: every connection is checked against the
 * deployment's egress policy (public addresses only, unless EGRESS_ALLOW names a destination),
 * also after a redirect. A connector makes no request any other way.
 */
export interface HttpPort {
  fetch: typeof fetch;
  /**
   * An agent for a client that takes one (an SDK built on node-fetch). `arm` may decorate each
   * new socket (e.g. an idle timeout); `key` tells agents with different `arm`s apart.
   */
  agent(protocol: string, options?: AgentOptions, arm?: (socket: Duplex) => Duplex, key?: string): Agent;
}

export interface ConnectorDeps {
  logger: ConnectorLogger;
  clock: Clock;
  budget: RequestBudget;
  media: MediaReader;
  http: HttpPort;
  /** Per-request timeout the connector must apply to its HTTP client. */
  timeoutMs: number;
}

// ---------------------------------------------------------------------------------------------
// Unified models (what the core passes in)

/** A reference to an object in the remote system. */
export interface RemoteRef {
  id: string;
  /** Free-form kind within the vendor ('contact', 'ticket', 'communication', 'note', 'user'…). */
  type: string;
  /** A link an operator can open, when the vendor has one. */
  url?: string;
}

export interface Customer {
  /** threadbridge's contact id (uuid). */
  contactId: string;
  /** WhatsApp id: digits only, as Meta sends it. */
  waId: string;
  /** E.164 with '+', e.g. +48601234567. */
  e164: string;
  /** The WhatsApp profile name, when known. */
  profileName?: string;
}

export interface Thread {
  /** threadbridge's conversation id (uuid). */
  conversationId: string;
  customer: Customer;
  /** The remote contact, as contacts.ensure returned it. */
  contact: RemoteRef;
  /** The ticket of this conversation, once tickets.ensure returned one. */
  ticket?: RemoteRef;
  /** The business phone number (display form) the customer wrote to. */
  businessNumber: string;
  openedAt: Date;
  status: 'open' | 'closed';
}

export interface MediaRef {
  /** Key in the media store; absent when the download failed or has not finished. */
  storageKey?: string;
  mimeType?: string;
  filename?: string;
  sizeBytes?: number;
  sha256?: string;
  /** A URL an operator can open (served by threadbridge) when the file is stored. */
  url?: string;
  /** Why the file is not available, when it is not. */
  unavailableReason?: string;
}

export type MessageDirection = 'inbound' | 'outbound';

export interface UnifiedMessage {
  /** threadbridge's message id (uuid): the idempotency key for the remote object. */
  id: string;
  wamid: string;
  direction: MessageDirection;
  /** Meta's message type ('text', 'image', 'location', … or whatever unknown type arrived). */
  type: string;
  /** Human-readable text: the body, a caption, or a rendering of a location/contact/order/… */
  text: string;
  /** When WhatsApp says the message was sent. */
  timestamp: Date;
  /** For outbound messages: who wrote it (agent name/system), for the record. */
  author?: string;
  media?: MediaRef;
  /**
   * True when an earlier attempt may already have created this message remotely (a worker died
   * or a call timed out after sending). The connector must look it up before creating it again,
   * as its `timeline.reconcile` declares.
   */
  maybeCreated: boolean;
}

export interface TranscriptEntry {
  timestamp: Date;
  direction: MessageDirection;
  author: string;
  text: string;
  media?: MediaRef;
}

export interface Transcript {
  conversationId: string;
  openedAt: Date;
  closedAt: Date;
  entries: TranscriptEntry[];
  /** The transcript rendered as plain text, for systems that take one blob. */
  text: string;
}

export type ConsentScope = 'marketing' | 'transactional';

export interface ConsentState {
  scope: ConsentScope;
  optedIn: boolean;
  changedAt: Date;
  source: string;
}

export interface ErasureReceipt {
  /** 'done' when the vendor confirmed; 'not_found' when it held nothing. */
  outcome: 'done' | 'not_found';
  detail?: string;
}

// ---------------------------------------------------------------------------------------------
// Webhooks coming from the vendor (agent replies, status callbacks)

export interface RawWebhook {
  method: string;
  /** Full URL as the vendor called it (scheme, host, path and query). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  /** Receive time, for timestamp freshness checks. */
  receivedAt: Date;
}

/** A file attached to an agent's reply, as the vendor names it. */
export interface ReplyAttachment {
  /** Where the vendor serves the file; it may need the connection's credentials (replies.download). */
  url?: string;
  /** The vendor's id of the file, when the event gives one (with or instead of a URL). */
  remoteId?: string;
  filename?: string;
  mimeType?: string;
}

/** What replies.download fetched. */
export type AttachmentDownload =
  | { status: 'ok'; bytes: Buffer; /** As the vendor served it (Content-Type), when it said. */ mimeType?: string; filename?: string }
  /** Larger than the `maxBytes` asked for: not read further. `sizeBytes` when the vendor said. */
  | { status: 'too_large'; sizeBytes?: number; mimeType?: string };

export interface AgentReplyEvent {
  kind: 'agent_reply';
  /** The vendor's id of the reply (comment id, message id): the dedupe key. */
  remoteId: string;
  /** The remote ticket/thread it belongs to, to find the conversation. */
  remoteThreadId?: string;
  /** The remote contact it is addressed to, when the vendor says. */
  remoteContactId?: string;
  text: string;
  author: string;
  attachments: ReplyAttachment[];
}

export type ConnectorEvent = AgentReplyEvent;

/** An agent's reply as the origin system knows it, to report back what became of it. */
export interface ReplyRef {
  /** The vendor's id of the reply (comment id, channel message id). */
  remoteId: string;
  /** The remote ticket/thread it belongs to. */
  remoteThreadId?: string;
}

export interface ReplyStatus {
  /** sent/delivered/read: WhatsApp's statuses; failed: WhatsApp refused or could not deliver;
   *  refused: threadbridge did not send it (consent, 24-hour window without a template…). */
  state: 'sent' | 'delivered' | 'read' | 'failed' | 'refused';
  /** The whole message for the agent — what happened and what they can do, in words an agent
   *  understands (e.g. "Not sent on WhatsApp: …"). Connectors show it as it is. */
  detail?: string;
  at: Date;
}

/** What timeline.append returns for each message it logged. */
export interface AppendResult {
  messageId: string;
  remote: RemoteRef;
  /**
   * The remote contact the vendor filed the message under, when its answer names one the
   * connector could not know before (a receiver that answers with its own contact id). The core
   * saves it as the customer's link for this connection, so later calls get it as `known` and
   * `Thread.contact`; it is ignored when that remote id is already linked to another customer.
   */
  contact?: RemoteRef;
}

// ---------------------------------------------------------------------------------------------
// The connector: `contacts` and optional facets, each with batch forms only. A vendor's rate
// limit counts calls per account, so a batch endpoint lets the core sync a burst from many
// conversations in a few calls; a vendor without one uses oneByOne() (./batch.ts). Each batch
// call takes at most manifest.maxBatch items and answers one result per item, in order.

export interface ContactRequest {
  customer: Customer;
  /** The link the core holds already; the connector may return it as is or re-check it. */
  known?: RemoteRef;
}

/**
 * What a conversation's route asks of its helpdesk ticket. `group` and `assignee` are what an
 * operator types: a name (group) or an email (assignee), or the vendor's own id; the connector
 * resolves names (its README says how, and what a vendor without groups or tags does with them).
 */
export interface TicketRouting {
  group?: string;
  priority?: 'low' | 'normal' | 'high' | 'urgent';
  /** Added to the ticket; tags already on it (an agent's own) stay. */
  tags?: string[];
  assignee?: string;
  /** Taken off the ticket (the tags of the route it left); a tag also in `tags` stays. */
  removeTags?: string[];
}

export interface TicketRequest {
  thread: Thread;
  /** The conversation's ticket as the core knows it (or the customer's latest ticket). */
  known?: RemoteRef;
  /**
   * The conversation's route, applied when tickets.ensure creates a ticket (the core never sends
   * `removeTags` here). A ticket that is kept or reopened is left as its agents set it: a route
   * change reaches it through the `ticketRouting` facet, never through ensure. At creation a name
   * the vendor does not know never blocks the ticket: it is created without that field, and the
   * connector says so where agents look (its README says where) and in its log.
   */
  routing?: TicketRouting;
}

export interface TicketRoutingRequest {
  /** The ticket, as tickets.ensure returned it. */
  ticket: RemoteRef;
  routing: TicketRouting;
}

/** One conversation's messages, in WhatsApp order. */
export interface ThreadMessages {
  thread: Thread;
  messages: UnifiedMessage[];
}

export interface TranscriptRequest {
  thread: Thread;
  transcript: Transcript;
}

export interface ConsentRequest {
  contact: RemoteRef;
  consent: ConsentState;
}

export interface ErasureRequest {
  contact: RemoteRef;
  customer: Customer;
}

export interface ReplyStatusReport {
  reply: ReplyRef;
  status: ReplyStatus;
}

export interface ContactsFacet {
  /**
   * Finds each customer (by every phone format the vendor may hold) or creates them. Idempotent:
   * two calls for the same customer return the same RemoteRef, also when several run at once.
   */
  ensure(requests: ContactRequest[]): Promise<RemoteRef[]>;
}

export interface TimelineFacet {
  /**
   * Records messages on each customer's record, each thread's in the order given. Returns an
   * AppendResult per message logged; a message it does not report stays open and is retried
   * (with maybeCreated). Idempotent for messages flagged maybeCreated, as `reconcile` says.
   */
  append(batches: ThreadMessages[]): Promise<AppendResult[]>;
  /** How a maybe-created message is found before it is created again. */
  readonly reconcile: MaybeCreatedReconciliation;
  /**
   * How long a conversation must have been quiet before the core hands its new messages over
   * (never more than 30 s after the first of them arrived), so a burst reaches the vendor in one
   * call. For vendors that limit updates per record (a Zendesk ticket takes about 30 updates in
   * 10 minutes). Absent or 0: messages go as soon as they arrive.
   */
  readonly quietPeriodMs?: number;
  /** True when media files are uploaded to the vendor, false when they are linked. */
  readonly uploadsMedia: boolean;
}

export interface TicketsFacet {
  /**
   * The ticket for each conversation: `known` while it is open, `known` reopened when the
   * customer wrote within the reopen window, else a new ticket.
   */
  ensure(requests: TicketRequest[]): Promise<RemoteRef[]>;
}

export interface TicketRoutingFacet {
  /**
   * Updates existing tickets to their conversation's new route: group, priority and assignee set
   * when given (absent fields are left alone), `tags` added and `removeTags` taken off (never a
   * full replace: agents' own tags stay). One result per request, in order. A group or assignee
   * the vendor does not know throws ConnectorError('invalid_request') naming it; a ticket that is
   * gone throws not_found. Applying the same routing twice leaves the ticket as once.
   */
  apply(requests: TicketRoutingRequest[]): Promise<void[]>;
}

export interface TranscriptsFacet {
  /** Attaches each closed conversation's whole transcript to the customer's record (or ticket). */
  attach(requests: TranscriptRequest[]): Promise<RemoteRef[]>;
}

export interface RepliesFacet {
  /** Constant-time check of the vendor's signature; false rejects with 401. */
  verify(req: RawWebhook): boolean;
  /** Turns a verified webhook into events; ignores what isn't for us. */
  parse(req: RawWebhook): ConnectorEvent[];
  /**
   * Tells the origin system what became of agents' replies (a FAILED status in an inbox, an
   * internal note on a ticket…), so an agent never wonders why a reply didn't arrive.
   */
  reportStatus(reports: ReplyStatusReport[]): Promise<void>;
  /**
   * Optional. Fetches a file attached to an agent's reply with the connection's credentials
   * (helpdesk attachment links are often private), so the core can send it to the customer as
   * WhatsApp media. Stops reading once the file passes `maxBytes` and answers `too_large`.
   * Throws ConnectorError: `not_found` when the file is gone, `auth` when the credentials are
   * refused, `transient`/`rate_limited` when trying again later can help. Without it, a reply's
   * attachments cannot be sent and the agent is told so.
   */
  download?(attachment: ReplyAttachment, options: { maxBytes: number }): Promise<AttachmentDownload>;
}

/** Values a set-up step stores with the connection. */
export interface ConnectionUpdate {
  credentials?: Record<string, string>;
  settings?: Record<string, unknown>;
}

export interface ReplySetupFacet {
  /**
   * Sets up the vendor's side of agent replies (webhooks, triggers, channels) pointing at
   * `callbackUrl`, and returns values to store with the connection (a webhook signing secret, a
   * channel id) — with which the connection then has the `replies` facet.
   */
  setUp(callbackUrl: string): Promise<ConnectionUpdate>;
}

export interface ConsentFacet {
  /** Writes each consent state onto the remote contact. */
  record(requests: ConsentRequest[]): Promise<void>;
}

export interface ErasureFacet {
  /** Erases each customer remotely; one receipt per request, in order. */
  erase(requests: ErasureRequest[]): Promise<ErasureReceipt[]>;
}

export interface CrmConnector {
  /** Throws ConnectorError('auth') when the credentials are wrong. */
  verifyCredentials(): Promise<void>;

  /**
   * Optional. Credential values the vendor tells about the credentials themselves, which the
   * connector needs later and cannot cheaply learn in every job (e.g. the id of the API token's own
   * user, to recognise its comments). The core calls it right after a successful
   * verifyCredentials() on the same instance (a connection created, its credentials changed, or
   * declared by the environment at start) and stores the values with the credentials; the keys
   * must be fields of the credentials DTO. Throws ConnectorError like verifyCredentials.
   */
  learnCredentials?(): Promise<Record<string, string>>;

  contacts: ContactsFacet;
  timeline?: TimelineFacet;
  tickets?: TicketsFacet;
  ticketRouting?: TicketRoutingFacet;
  transcripts?: TranscriptsFacet;
  replies?: RepliesFacet;
  replySetup?: ReplySetupFacet;
  consent?: ConsentFacet;
  erasure?: ErasureFacet;
}

/** The facets a connector may have besides `contacts`. */
export type FacetName = 'timeline' | 'tickets' | 'ticketRouting' | 'transcripts' | 'replies' | 'replySetup' | 'consent' | 'erasure';

/** Every facet name, in the order the API documents them (conformance checks a connector has exactly its harness's). */
export const FACET_NAMES: readonly FacetName[] = ['timeline', 'tickets', 'ticketRouting', 'transcripts', 'replies', 'replySetup', 'consent', 'erasure'];

/** A connector that has facet `K`, as the type checker sees it once the facet was found present. */
export type WithFacet<K extends FacetName> = CrmConnector & { [P in K]-?: NonNullable<CrmConnector[P]> };

/** Whether the connector has facet `name` (narrows its type). */
export function hasFacet<K extends FacetName>(connector: CrmConnector, name: K): connector is WithFacet<K> {
  return connector[name] !== undefined && connector[name] !== null;
}

/** What a connector can do, as the API shows it: one flag per facet present. */
export function capabilitiesOf(connector: CrmConnector): ConnectorCapabilities {
  return {
    contacts: true,
    history: hasFacet(connector, 'timeline'),
    tickets: hasFacet(connector, 'tickets'),
    transcripts: hasFacet(connector, 'transcripts'),
    replies: hasFacet(connector, 'replies'),
    consent: hasFacet(connector, 'consent'),
    erasure: hasFacet(connector, 'erasure'),
    ticketRouting: hasFacet(connector, 'ticketRouting'),
    attachments: connector.timeline?.uploadsMedia === true,
  };
}

export type { ConnectorError };
