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

export interface ConnectorCapabilities {
  /** Finds or creates the customer as a contact/user. Every connector has this. */
  contacts: true;
  /** Logs each WhatsApp message on the customer's record (appendMessages). */
  history: boolean;
  /** Opens/reuses/reopens a ticket per conversation (ensureTicket). */
  tickets: boolean;
  /** Attaches the whole transcript when a conversation closes (attachTranscript). */
  transcripts: boolean;
  /** Receives agent replies by webhook (verifyWebhook + parseWebhook) and reports what became of them (reportReplyStatus). */
  replies: boolean;
  /** Mirrors consent changes onto the remote contact (recordConsent). */
  consent: boolean;
  /** Erases the customer remotely on a right-to-be-forgotten request (eraseContact). */
  erasure: boolean;
  /** Uploads media files rather than linking to them. */
  attachments: boolean;
}

/**
 * How a connector settles a message flagged maybeCreated: an earlier call may have written it
 * (it timed out, or its connection was reset after sending) and the connector must find that
 * write before creating the message again. The core retries such a call soon (a backoff from
 * 200 ms), so the lookup must see writes that are seconds old.
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
  capabilities: ConnectorCapabilities;
  /**
   * The vendor's default request budget per account. The core enforces it across all workers
   * (deps.budget); a connection's settings may override it (e.g. a higher HubSpot tier).
   */
  defaultBudget: { requests: number; perMs: number };
  /** Most messages appendMessages accepts in one call (e.g. a vendor batch endpoint's limit). */
  maxBatch: number;
  /**
   * Capability `history`: how appendMessages finds messages flagged maybeCreated (the conformance
   * suite requires it then, and replays a lost create against the fake's lagging search).
   */
  reconcile?: MaybeCreatedReconciliation;
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
   * The capabilities a connection with these settings has, when its settings can switch a
   * feature off (e.g. tickets disabled). Never more than manifest.capabilities. Absent: the manifest's.
   */
  capabilitiesFor?(settings: S): ConnectorCapabilities;
  /** Builds a connector for one job. Cheap: called once per job with fresh credentials. */
  create(credentials: C, settings: S, deps: ConnectorDeps): CrmConnector;
  /**
   * The base URLs a connection with these credentials and settings calls (its API, and any fixed
   * upload/file host). The core checks each against the egress policy when the connection is
   * created or changed, and refuses it with a reason before anything is sent.
   */
  endpoints(credentials: C, settings: S): string[];
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
  /** The remote contact, as returned by ensureContact. */
  contact: RemoteRef;
  /** The ticket of this conversation, once ensureTicket returned one. */
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
   * as its manifest's `reconcile` declares.
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
  /** Where the vendor serves the file; it may need the connection's credentials (downloadAttachment). */
  url?: string;
  /** The vendor's id of the file, when the event gives one (with or instead of a URL). */
  remoteId?: string;
  filename?: string;
  mimeType?: string;
}

/** What downloadAttachment fetched. */
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

/** What appendMessages returns for each message, in the order given. */
export interface AppendResult {
  messageId: string;
  remote: RemoteRef;
}

// ---------------------------------------------------------------------------------------------
// The connector

export interface CrmConnector {
  /**
   * Optional. How long a conversation must have been quiet before the core hands its new messages
   * over (never more than 30 s after the first of them arrived), so a burst of messages reaches the
   * vendor in one call. For vendors that limit updates per record (a Zendesk ticket takes about
   * 30 updates in 10 minutes). Absent or 0: messages go as soon as they arrive.
   */
  readonly quietPeriodMs?: number;

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

  /**
   * Finds the customer (by every phone format the vendor may hold) or creates them. Idempotent:
   * two calls for the same customer return the same RemoteRef. `known` is the link the core
   * holds already; the connector may return it as is or re-check it.
   */
  ensureContact(customer: Customer, known?: RemoteRef): Promise<RemoteRef>;

  /**
   * Capability `tickets`. Returns the ticket for this conversation: `known` while it is open,
   * `known` reopened when the customer wrote within the reopen window, else a new ticket.
   */
  ensureTicket?(thread: Thread, known?: RemoteRef): Promise<RemoteRef>;

  /**
   * Capability `history`. Records messages on the customer's record, in the given order (already
   * WhatsApp order), at most manifest.maxBatch at a time. Returns one result per message.
   * Idempotent for messages flagged maybeCreated.
   */
  appendMessages?(thread: Thread, messages: UnifiedMessage[]): Promise<AppendResult[]>;

  /** Capability `transcripts`. */
  attachTranscript?(thread: Thread, transcript: Transcript): Promise<RemoteRef>;

  // ---- Batch forms (optional). A vendor's rate limit counts calls per account, so a connector
  // whose API has batch endpoints should implement these: the core then syncs a burst from many
  // conversations in a few calls. Absent, the core calls the single forms above, one per item.

  /**
   * ensureContact for many customers at once (at most manifest.maxBatch). Same rules as
   * ensureContact; returns one RemoteRef per request, in order.
   */
  ensureContacts?(requests: { customer: Customer; known?: RemoteRef }[]): Promise<RemoteRef[]>;

  /** ensureTicket for many threads at once; one RemoteRef per request, in order. */
  ensureTickets?(requests: { thread: Thread; known?: RemoteRef }[]): Promise<RemoteRef[]>;

  /**
   * appendMessages for several threads in one go (at most manifest.maxBatch messages in all).
   * Each thread's messages are in WhatsApp order. Returns one AppendResult per message.
   */
  appendToThreads?(batches: { thread: Thread; messages: UnifiedMessage[] }[]): Promise<AppendResult[]>;

  /** Capability `replies`. Constant-time check of the vendor's signature; false rejects with 401. */
  verifyWebhook?(req: RawWebhook): boolean;
  /** Capability `replies`. Turns a verified webhook into events; ignores what isn't for us. */
  parseWebhook?(req: RawWebhook): ConnectorEvent[];

  /**
   * Capability `replies`. Tells the origin system what became of an agent's reply (a FAILED status
   * in an inbox, an internal note on a ticket…), so an agent never wonders why a reply didn't arrive.
   */
  reportReplyStatus?(reply: ReplyRef, status: ReplyStatus): Promise<void>;

  /**
   * Capability `replies`, optional. Sets up the vendor's side of agent replies (webhooks, triggers,
   * channels) pointing at `callbackUrl`, and returns credential/setting values to store with the
   * connection (e.g. a webhook signing secret, a channel id).
   */
  setUpReplies?(callbackUrl: string): Promise<{ credentials?: Record<string, string>; settings?: Record<string, unknown> }>;

  /**
   * Capability `replies`, optional. Fetches a file attached to an agent's reply with the
   * connection's credentials (helpdesk attachment links are often private), so the core can send
   * it to the customer as WhatsApp media. Stops reading once the file passes `maxBytes` and answers
   * `too_large` instead. Throws ConnectorError: `not_found` when the file is gone, `auth` when the
   * credentials are refused, `transient`/`rate_limited` when trying again later can help.
   * Without it, a reply's attachments cannot be sent and the agent is told so.
   */
  downloadAttachment?(attachment: ReplyAttachment, options: { maxBytes: number }): Promise<AttachmentDownload>;

  /** Capability `consent`. */
  recordConsent?(contact: RemoteRef, consent: ConsentState): Promise<void>;

  /** Capability `erasure`. */
  eraseContact?(contact: RemoteRef, customer: Customer): Promise<ErasureReceipt>;
}

/** Method names each capability requires; the conformance suite and the registry check them. */
export const CAPABILITY_METHODS: Record<Exclude<keyof ConnectorCapabilities, 'attachments'>, (keyof CrmConnector)[]> = {
  contacts: ['verifyCredentials', 'ensureContact'],
  history: ['appendMessages'],
  tickets: ['ensureTicket'],
  transcripts: ['attachTranscript'],
  replies: ['verifyWebhook', 'parseWebhook', 'reportReplyStatus'],
  consent: ['recordConsent'],
  erasure: ['eraseContact'],
};

export type { ConnectorError };
