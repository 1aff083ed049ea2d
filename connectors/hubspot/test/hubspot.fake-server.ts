/**
 * An in-memory HubSpot for tests, the demo and benchmarks: plain node:http on 127.0.0.1, the real
 * `@hubspot/api-client` talks to it through `basePath`. It answers like HubSpot on the endpoints
 * threadbridge uses, with HubSpot's status codes (the SDK throws on a 200 where it expects 201),
 * its error bodies `{status:'error', message, correlationId, category}` and its limits:
 *
 * - Bearer auth (401 INVALID_AUTHENTICATION).
 * - CRM objects contacts / tickets / notes / communications: create (201), get, patch, archive,
 *   list, batch create (201) / read (200, or 207 listing the ids it does not hold) / update /
 *   archive (≤ 100 inputs, unique ids, else 400 VALIDATION_ERROR), search (OR of ≤ 5
 *   filterGroups, ≤ 10 filters AND'ed in a group, ≤ 25 in all; EQ, NEQ, IN, NOT_IN (≤ 100
 *   values), HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN, NOT_CONTAINS_TOKEN,
 *   GT/GTE/LT/LTE/BETWEEN; limit ≤ 200, `after` paging up to 10,000 hits), inline
 *   `associations` on create with the HUBSPOT_DEFINED type ids checked.
 * - Properties: get/create/list; writing an unknown custom property is 400 PROPERTY_DOESNT_EXIST,
 *   an enumeration value outside its options 400 INVALID_OPTION. A property created with
 *   `hasUniqueValue: true` refuses a value another object of its type holds (create, batch create
 *   — the whole batch, as HubSpot validates it first — and update): 400 VALIDATION_ERROR naming
 *   the property and the object that holds the value. (HubSpot's exact wording of this error is
 *   not published; clients should rely on the status and read the object back.)
 * - Batch read by a unique property (`idProperty`): answered from the store at once, like every
 *   read by id — only search goes through the lagging index. A property that is not unique is 400.
 * - v4 associations: default PUT (200), labelled PUT (201), list.
 * - Files API multipart upload (201 {id, url}); the file is then served at its url (to anyone,
 *   like a CDN); GET /files/v3/files/{id} and /files/v3/files/{id}/signed-url (a URL that expires).
 * - GDPR delete of contacts (204; 404 when absent).
 * - Owners: GET /crm/v3/owners (`email=` exact, case ignored; seedOwner()). `hubspot_owner_id` must
 *   name an owner and `hs_ticket_priority` be LOW/MEDIUM/HIGH/URGENT, else 400 INVALID_OPTION; a
 *   custom multiple-checkbox property takes `;`-separated option values, each checked.
 * - Tickets get `closed_date` when moved into one of `closedStages`, as HubSpot's closed stages do.
 * - Limits: the ten-second rolling limit (429 TEN_SECONDLY_ROLLING + Retry-After +
 *   X-HubSpot-RateLimit-* headers), optionally a daily and a per-second search limit.
 * - Faults: latency, random 5xx, `failNext(status)`, `hang(ms)`, search-index lag (objects
 *   become visible to search only `searchLagMs` after they were written, as in HubSpot), and
 *   `resetAfterNextCreate()`: the next create (single or batch) is carried out, then its connection
 *   is reset before any answer, so the client cannot know whether it happened.
 * - Conversations custom channels (v3): channel registration on the app (201; authenticated by
 *   `hapikey` = the developer API key and `appId` in the query), channel accounts (201; the inbox
 *   must exist), published messages (201, threaded by integrationThreadId, else by the sender;
 *   associateWithContactId must name a contact;
 *   a second message with the same integrationIdempotencyId answers 200 with the first one;
 *   FILE attachments must name an uploaded file), status PATCH of outgoing messages (200; SENT,
 *   FAILED, READ; every update recorded). Errors in HubSpot's shape (400 VALIDATION_ERROR,
 *   404 OBJECT_NOT_FOUND, 401).
 * - The agent side: `agentReply(thread, {text, senderName})` records an agent's message in an
 *   inbox thread and POSTs OUTGOING_CHANNEL_MESSAGE_CREATED to the channel's webhookUrl, signed
 *   like HubSpot (X-HubSpot-Signature-v3 = base64 HMAC-SHA256(app secret, METHOD + URL + body +
 *   timestamp), X-HubSpot-Request-Timestamp in ms).
 * - Read-back helpers: contacts(), communications() in creation order, tickets(), notes(),
 *   associations(), files(), requests() with timestamps; customChannels(), channelAccounts(),
 *   channelThreads(), channelMessages(thread), messageStatuses(messageId), channelDeliveries().
 *
 * Everything lives in Maps: a few thousand objects cost nothing, so `bench:sync` can push 2,000
 * messages through it at 190 requests / 10 s with 50 ms latency.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, randomUUID } from 'node:crypto';
import busboy from 'busboy';
import { countryOf, toE164 } from '../../_sdk/phone';

export type HubspotObjectType = 'contacts' | 'tickets' | 'notes' | 'communications';
const OBJECT_TYPES: HubspotObjectType[] = ['contacts', 'tickets', 'notes', 'communications'];

/** HubSpot's object type ids, accepted in paths as aliases. */
const OBJECT_TYPE_IDS: Record<HubspotObjectType, string> = { contacts: '0-1', tickets: '0-5', notes: '0-46', communications: '0-18' };

/** HUBSPOT_DEFINED association type ids, `${from}>${to}` → id (VENDOR-APIS.md §2.5). */
export const ASSOCIATION_TYPE_IDS: Record<string, number> = {
  'communications>contacts': 81,
  'contacts>communications': 82,
  'communications>tickets': 83,
  'tickets>communications': 84,
  'notes>contacts': 202,
  'contacts>notes': 201,
  'notes>tickets': 228,
  'tickets>notes': 227,
  'tickets>contacts': 16,
  'contacts>tickets': 15,
};

/** Properties HubSpot defines on each object (any `hs_*` name is accepted as well). */
const BUILT_IN_PROPERTIES: Record<HubspotObjectType, string[]> = {
  contacts: ['firstname', 'lastname', 'email', 'phone', 'mobilephone', 'company', 'website', 'city', 'country', 'jobtitle', 'lifecyclestage', 'hubspot_owner_id', 'createdate', 'lastmodifieddate', 'hs_whatsapp_phone_number'],
  tickets: ['subject', 'content', 'hs_pipeline', 'hs_pipeline_stage', 'hs_ticket_priority', 'hs_ticket_category', 'hubspot_owner_id', 'closed_date', 'createdate', 'source_type'],
  notes: ['hubspot_owner_id', 'hs_note_body', 'hs_timestamp', 'hs_attachment_ids'],
  communications: ['hubspot_owner_id', 'hs_communication_channel_type', 'hs_communication_logged_from', 'hs_communication_body', 'hs_timestamp'],
};

/** Properties returned when a read names none. */
const DEFAULT_READ_PROPERTIES: Record<HubspotObjectType, string[]> = {
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  tickets: ['content', 'createdate', 'hs_lastmodifieddate', 'hs_object_id', 'hs_pipeline', 'hs_pipeline_stage', 'hs_ticket_category', 'hs_ticket_priority', 'subject'],
  notes: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  communications: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};

const TICKET_PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'URGENT'];
const DATE_PROPERTIES = new Set(['hs_timestamp', 'closed_date']);
const COMMUNICATION_CHANNELS = ['WHATS_APP', 'LINKEDIN_MESSAGE', 'SMS'];
const MAX_BATCH = 100;
const MAX_SEARCH_LIMIT = 200;
/** HubSpot's search limits since its 2024-08 change: 5 groups, 10 filters a group, 25 in all. */
const MAX_FILTER_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 10;
const MAX_FILTERS = 25;
/**
 * Values in one IN / NOT_IN filter. HubSpot publishes no figure; the fake holds clients to the
 * conservative 100 the connector assumes, so a request that needs more fails here first.
 */
const MAX_IN_VALUES = 100;
/** A search serves at most 10,000 hits in all, however it is paged. */
const MAX_SEARCH_RESULTS = 10_000;
const PLAIN_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;

export interface HubspotFakeOptions {
  /** Bearer tokens accepted. Default ['hubspot-test-token']. */
  accessTokens?: string[];
  /** The ten-second rolling limit; false turns it off. Default { max: 190, intervalMs: 10_000 }. */
  rateLimit?: { max: number; intervalMs?: number } | false;
  /** Requests allowed over the fake's lifetime before 429 policyName DAILY. Default: no limit. */
  dailyLimit?: number;
  /** Search requests per second before 429 "secondly limit" (HubSpot: about 5). Default: no limit. */
  searchPerSecond?: number;
  /** Written objects stay invisible to search for this long. Default 0. */
  searchLagMs?: number;
  /** Delay before every answer. Default 0. */
  latencyMs?: number;
  /**
   * Delay after a request has been carried out, before its answer is sent (a client that gives up
   * or dies meanwhile leaves the write done but unacknowledged). Default 0.
   */
  responseDelayMs?: number;
  /** Probability (0..1) that a request is answered 500. Default 0. */
  serverErrorRate?: number;
  /**
   * Answer this share (0..1) of authenticated requests, at random, with HubSpot's ten-second-limit
   * 429 and `Retry-After: retryAfterSec` (e.g. {rate: 0.5, retryAfterSec: 2}: half of all calls).
   * Random rather than every n-th: a fixed pattern can starve a retried multi-call operation. Default off.
   */
  throttle?: { rate: number; retryAfterSec: number } | null;
  /** Ticket stages that count as closed (set closed_date). Default ['4']. */
  closedStages?: string[];
  /** Answer batch creates in reverse order (HubSpot does not promise input order). Default false. */
  reverseBatchResults?: boolean;
  portalId?: number;
  /** The developer app that registers custom channels. Default 1234567. */
  appId?: number;
  /** Developer API keys accepted as `hapikey` for channel registration. Default ['hubspot-developer-key']. */
  developerApiKeys?: string[];
  /** The app's client secret: signs the channel webhooks. Default 'hubspot-app-secret'. */
  appSecret?: string;
  /** Conversations inboxes of the portal. Default ['147959634']. */
  inboxIds?: string[];
  /** The body of a channel webhook: one event object (default) or an array of events. */
  channelWebhookEnvelope?: 'object' | 'array';
  /** Port to listen on (127.0.0.1). Default 0: any free port. */
  port?: number;
}

export interface FakeObject {
  id: string;
  type: HubspotObjectType;
  properties: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
  archived: boolean;
  /** Epoch ms from which search sees the latest write. */
  searchableAt: number;
}

export interface FakeAssociation {
  fromType: HubspotObjectType;
  fromId: string;
  toType: HubspotObjectType;
  toId: string;
  typeId: number;
  category: 'HUBSPOT_DEFINED' | 'USER_DEFINED';
}

export interface FakeFile {
  id: string;
  name: string;
  folderPath: string;
  access: string;
  mimeType: string;
  bytes: Buffer;
  url: string;
  createdAt: Date;
}

export interface FakePropertyDefinition {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  description: string;
  options: { label: string; value: string; hidden?: boolean; displayOrder?: number }[];
  /** No two objects of the type may hold the same value (HubSpot: set at creation only). */
  hasUniqueValue: boolean;
  hubspotDefined: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface FakeRequest {
  /** Epoch ms when the request arrived. */
  at: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** The parsed JSON body ('[multipart]' for uploads). */
  body?: unknown;
  /** HTTP status answered; 0 while unanswered or when the client went away first. */
  status: number;
  durationMs: number;
}

export interface FakeDeliveryIdentifier {
  type: string;
  value: string;
}

export interface FakeCustomChannel {
  id: string;
  appId: number;
  name: string;
  webhookUrl: string;
  capabilities: Record<string, unknown>;
  channelDescription?: string;
  createdAt: string;
}

export interface FakeChannelAccount {
  id: string;
  channelId: string;
  name: string;
  inboxId: string;
  deliveryIdentifier: FakeDeliveryIdentifier;
  authorized: boolean;
  archived: boolean;
  createdAt: string;
}

export interface FakeChannelThread {
  /** conversationsThreadId */
  id: string;
  channelId: string;
  channelAccountId: string;
  integrationThreadId?: string;
  /** The customer: the sender of the thread's incoming messages. */
  customer: { deliveryIdentifier: FakeDeliveryIdentifier; name?: string };
  /** The contact the thread is associated with (associateWithContactId), when one was given. */
  contactId?: string;
}

export interface FakeChannelAttachment {
  type: string;
  fileId?: string;
  fileUsageType?: string;
  name?: string;
  url?: string;
}

export interface FakeChannelMessage {
  id: string;
  type: 'MESSAGE';
  channelId: string;
  channelAccountId: string;
  conversationsThreadId: string;
  integrationThreadId?: string;
  integrationIdempotencyId?: string;
  direction: 'INCOMING' | 'OUTGOING';
  senders: { actorId?: string; name?: string; deliveryIdentifier?: FakeDeliveryIdentifier }[];
  recipients: { actorId?: string; name?: string; deliveryIdentifier?: FakeDeliveryIdentifier }[];
  text: string;
  richText?: string;
  attachments: FakeChannelAttachment[];
  /** The timestamp the integration gave (incoming) or when the agent sent it (outgoing). */
  timestamp: string;
  createdAt: string;
  createdBy: string;
  status?: { statusType: string; failureDetails?: { errorMessage?: string } };
}

export interface FakeStatusUpdate {
  messageId: string;
  statusType: string;
  errorMessage?: string;
  at: Date;
}

export interface FakeChannelDelivery {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The receiver's answer, when there was one. */
  status?: number;
  error?: string;
  at: Date;
}

export interface HubspotFake {
  /** Base URL to pass as the SDK's basePath. */
  readonly url: string;
  readonly portalId: number;
  close(): Promise<void>;
  /**
   * The next request (whatever it is) is answered `status`; a 429 carries Retry-After when given.
   * `body` replaces HubSpot's error body (a string is sent as HTML, like an edge proxy's page);
   * `contentType` overrides the Content-Type ('' sends none).
   */
  failNext(status: number, opts?: { retryAfterSec?: number; body?: unknown; contentType?: string }): void;
  /** The next request gets no answer for `ms`, then is handled normally if the client still waits. */
  hang(ms: number): void;
  /**
   * The next `times` creates (POST /crm/v3/objects/{type} or …/batch/create) are carried out, then
   * their connection is reset without an answer: the write happened, the client only sees a reset.
   */
  resetAfterNextCreate(times?: number): void;
  /** Shorthand for setOptions({ searchLagMs }): objects written from now on reach search `ms` later. */
  setSearchLag(ms: number): void;
  /** Live objects of every type whose body (communication, note) or any property contains `text`. */
  recordsContaining(text: string): number;
  /** Changes options of the running fake (lag, latency, limits…). */
  setOptions(patch: Partial<Omit<HubspotFakeOptions, 'port' | 'portalId'>>): void;
  requests(): FakeRequest[];
  requestCount(): number;
  clearRequests(): void;
  objects(type: HubspotObjectType): FakeObject[];
  contacts(): FakeObject[];
  /** Communications in creation order. */
  communications(): FakeObject[];
  tickets(): FakeObject[];
  notes(): FakeObject[];
  object(type: HubspotObjectType, id: string): FakeObject | undefined;
  /** Associations from this object (both directions are stored, as HubSpot reports both). */
  associations(type: HubspotObjectType, id: string, toType?: HubspotObjectType): FakeAssociation[];
  files(): FakeFile[];
  property(type: HubspotObjectType, name: string): FakePropertyDefinition | undefined;
  /** Objects removed by GDPR delete (ids). */
  gdprDeleted(): string[];
  /** A user of the portal who can own records; returns the owner id. */
  seedOwner(input: { email: string; firstName?: string; lastName?: string }): string;
  /** Stores an object as if it had been in the portal for long (searchable at once). */
  seedObject(type: HubspotObjectType, properties: Record<string, string>): string;
  seedContactWithPhone(formatted: string, field?: 'phone' | 'mobilephone' | 'hs_whatsapp_phone_number'): string;
  /** Changes properties directly (e.g. a ticket moved to a closed stage by an agent). */
  updateObject(type: HubspotObjectType, id: string, properties: Record<string, string>, at?: Date): void;
  /** Contacts holding this number in phone, mobilephone or hs_whatsapp_phone_number, in any format. */
  contactsMatching(e164: string): number;

  /** The developer app and its credentials, for a connection that sets up agent replies. */
  readonly app: { appId: string; developerApiKey: string; appSecret: string; inboxId: string };
  /** A channel and a connected account, as a completed set-up leaves them (webhookUrl default: none reachable). */
  seedCustomChannel(input?: { webhookUrl?: string; inboxId?: string; deliveryIdentifier?: string }): { channelId: string; channelAccountId: string };
  customChannels(): FakeCustomChannel[];
  channelAccounts(): FakeChannelAccount[];
  channelThreads(): FakeChannelThread[];
  /** Messages of one inbox thread (by conversationsThreadId or integrationThreadId) in order, or all. */
  channelMessages(thread?: string): FakeChannelMessage[];
  /** Every status update of one message, in order. */
  messageStatuses(messageId: string): FakeStatusUpdate[];
  /** Every channel webhook POSTed (agent replies). */
  channelDeliveries(): FakeChannelDelivery[];
  /**
   * An agent answers in an inbox thread (by conversationsThreadId or integrationThreadId): the
   * message is recorded and OUTGOING_CHANNEL_MESSAGE_CREATED is POSTed, signed, to the channel's
   * webhookUrl. Resolves when the receiver answered (or failed).
   */
  agentReply(
    thread: string,
    input: { text: string; senderName?: string; attachments?: { name: string; url?: string; fileId?: string }[] },
  ): Promise<{ message: FakeChannelMessage; delivery: FakeChannelDelivery }>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

function hubspotError(status: number, category: string, message: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError(status, { status: 'error', message, correlationId: randomUUID(), category, ...extra });
}

const validation = (message: string, extra: Record<string, unknown> = {}): HttpError => hubspotError(400, 'VALIDATION_ERROR', message, extra);

type Scripted = { kind: 'fail'; status: number; retryAfterSec?: number; body?: unknown; contentType?: string } | { kind: 'hang'; ms: number };

interface ParsedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  json: unknown;
}

/** Starts the fake on 127.0.0.1 (port 0 by default). */
export async function startHubspotFake(options: HubspotFakeOptions = {}): Promise<HubspotFake> {
  let opts: Required<Omit<HubspotFakeOptions, 'dailyLimit' | 'searchPerSecond' | 'port'>> & Pick<HubspotFakeOptions, 'dailyLimit' | 'searchPerSecond'> = {
    accessTokens: options.accessTokens ?? ['hubspot-test-token'],
    rateLimit: options.rateLimit ?? { max: 190, intervalMs: 10_000 },
    dailyLimit: options.dailyLimit,
    searchPerSecond: options.searchPerSecond,
    searchLagMs: options.searchLagMs ?? 0,
    latencyMs: options.latencyMs ?? 0,
    serverErrorRate: options.serverErrorRate ?? 0,
    throttle: options.throttle ?? null,
    responseDelayMs: options.responseDelayMs ?? 0,
    closedStages: options.closedStages ?? ['4'],
    reverseBatchResults: options.reverseBatchResults ?? false,
    portalId: options.portalId ?? 12345678,
    appId: options.appId ?? 1234567,
    developerApiKeys: options.developerApiKeys ?? ['hubspot-developer-key'],
    appSecret: options.appSecret ?? 'hubspot-app-secret',
    inboxIds: options.inboxIds ?? ['147959634'],
    channelWebhookEnvelope: options.channelWebhookEnvelope ?? 'object',
  };

  const store = new Map<HubspotObjectType, Map<string, FakeObject>>(OBJECT_TYPES.map((t) => [t, new Map()]));
  const associationList: FakeAssociation[] = [];
  const associationKeys = new Set<string>();
  const customProperties = new Map<HubspotObjectType, Map<string, FakePropertyDefinition>>(OBJECT_TYPES.map((t) => [t, new Map()]));
  const owners: { id: string; email: string; firstName: string; lastName: string; userId: number; type: string; archived: boolean; createdAt: string; updatedAt: string; teams: unknown[] }[] = [];
  const fileStore = new Map<string, FakeFile>();
  const filesByUrlPath = new Map<string, FakeFile>();
  const gdprDeletedIds: string[] = [];
  const channels = new Map<string, FakeCustomChannel>();
  const channelAccountStore = new Map<string, FakeChannelAccount>();
  const threadStore = new Map<string, FakeChannelThread>();
  const channelMessageStore = new Map<string, FakeChannelMessage>();
  const statusLog: FakeStatusUpdate[] = [];
  const channelDeliveryLog: FakeChannelDelivery[] = [];
  const log: FakeRequest[] = [];
  const scripted: Scripted[] = [];
  let resetsAfterCreate = 0;
  const timers = new Set<NodeJS.Timeout>();
  let rollingWindow: number[] = [];
  let searchWindow: number[] = [];
  let dailyCount = 0;
  let nextId = 100_001;
  let baseUrl = '';

  const newId = (): string => String(nextId++);
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  // -------------------------------------------------------------------------------------------
  // Objects and properties

  function normaliseType(raw: string): HubspotObjectType {
    const byId = (Object.entries(OBJECT_TYPE_IDS) as [HubspotObjectType, string][]).find(([, id]) => id === raw);
    if (byId) return byId[0];
    if ((OBJECT_TYPES as string[]).includes(raw)) return raw as HubspotObjectType;
    if ((OBJECT_TYPES as string[]).includes(`${raw}s`)) return `${raw}s` as HubspotObjectType;
    throw hubspotError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${raw}`);
  }

  function propertyExists(type: HubspotObjectType, name: string): boolean {
    return name.startsWith('hs_') || BUILT_IN_PROPERTIES[type].includes(name) || customProperties.get(type)!.has(name);
  }

  function builtInDefinition(type: HubspotObjectType, name: string): FakePropertyDefinition | undefined {
    if (!BUILT_IN_PROPERTIES[type].includes(name)) return undefined;
    const now = new Date(0).toISOString();
    return { name, label: name, type: 'string', fieldType: 'text', groupName: `${type.replace(/s$/, '')}information`, description: '', options: [], hasUniqueValue: false, hubspotDefined: true, createdAt: now, updatedAt: now };
  }

  /** Validates and normalises property values as HubSpot stores them (strings). */
  function cleanProperties(type: HubspotObjectType, input: unknown): Record<string, string> {
    if (input === undefined || input === null) return {};
    if (typeof input !== 'object' || Array.isArray(input)) throw validation('Invalid input JSON: properties must be an object');
    const out: Record<string, string> = {};
    const problems: Record<string, unknown>[] = [];
    for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
      if (!propertyExists(type, name)) {
        problems.push({ isValid: false, message: `Property "${name}" does not exist`, error: 'PROPERTY_DOESNT_EXIST', name });
        continue;
      }
      if (value === null || value === undefined) {
        out[name] = '';
        continue;
      }
      if (typeof value === 'object') {
        problems.push({ isValid: false, message: `${JSON.stringify(value)} is not a valid value for ${name}`, error: 'INVALID_VALUE', name });
        continue;
      }
      let text = String(value);
      if (DATE_PROPERTIES.has(name) && text !== '') {
        const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
        if (!Number.isFinite(ms)) {
          problems.push({ isValid: false, message: `${text} is not a valid datetime for ${name}`, error: 'INVALID_DATE', name });
          continue;
        }
        text = new Date(ms).toISOString();
      }
      if (name === 'hs_ticket_priority' && type === 'tickets' && text !== '' && !TICKET_PRIORITIES.includes(text)) {
        problems.push({ isValid: false, message: `${text} was not one of the allowed options: [${TICKET_PRIORITIES.join(', ')}]`, error: 'INVALID_OPTION', name });
        continue;
      }
      if (name === 'hubspot_owner_id' && text !== '' && !owners.some((o) => o.id === text && !o.archived)) {
        problems.push({ isValid: false, message: `${text} was not one of the allowed options: [${owners.map((o) => o.id).join(', ')}]`, error: 'INVALID_OPTION', name });
        continue;
      }
      const custom = customProperties.get(type)!.get(name);
      const chosen = custom?.fieldType === 'checkbox' ? text.split(';').filter(Boolean) : [text];
      if (custom?.type === 'enumeration' && text !== '' && !chosen.every((value) => custom.options.some((o) => o.value === value))) {
        problems.push({ isValid: false, message: `${text} was not one of the allowed options: [${custom.options.map((o) => o.value).join(', ')}]`, error: 'INVALID_OPTION', name });
        continue;
      }
      out[name] = text;
    }
    if (problems.length > 0) {
      throw validation(`Property values were not valid: ${JSON.stringify(problems)}`, {
        errors: problems.map((p) => ({ message: p.message, code: p.error, context: { propertyName: [p.name] } })),
      });
    }
    return out;
  }

  function requireProperties(type: HubspotObjectType, props: Record<string, string>): void {
    const missing = (names: string[]): string[] => names.filter((n) => !props[n]);
    if (type === 'communications') {
      if (!COMMUNICATION_CHANNELS.includes(props.hs_communication_channel_type ?? '')) {
        throw validation(`hs_communication_channel_type must be one of ${COMMUNICATION_CHANNELS.join(', ')}`);
      }
      if (props.hs_communication_logged_from !== 'CRM') throw validation('hs_communication_logged_from must be CRM');
      if (missing(['hs_timestamp']).length) throw validation('hs_timestamp is required');
    }
    if (type === 'notes' && missing(['hs_timestamp']).length) throw validation('hs_timestamp is required');
    if (type === 'tickets') {
      const absent = missing(['subject', 'hs_pipeline_stage']);
      if (absent.length) throw validation(`Missing required properties: ${absent.join(', ')}`);
    }
  }

  /**
   * Refuses values of unique properties that another live object of the type holds, or that two
   * inputs of one batch share (`others`: values the batch's earlier inputs claim).
   */
  function checkUniqueValues(type: HubspotObjectType, props: Record<string, string>, selfId?: string, others?: Map<string, string>): void {
    for (const def of customProperties.get(type)!.values()) {
      const value = props[def.name];
      if (!def.hasUniqueValue || value === undefined || value === '') continue;
      const key = `${def.name}\u0000${value}`;
      const holder = others?.get(key) ?? [...store.get(type)!.values()].find((o) => !o.archived && o.id !== selfId && o.properties[def.name] === value)?.id;
      if (holder !== undefined) {
        const problem = { isValid: false, message: `${value} already has that value on ${holder}`, error: 'DUPLICATE_UNIQUE_VALUE', name: def.name };
        throw validation(`Property values were not valid: ${JSON.stringify([problem])}`, {
          errors: [{ message: problem.message, code: problem.error, context: { propertyName: [def.name], existingObjectId: [holder] } }],
        });
      }
      others?.set(key, 'this batch');
    }
  }

  function applyTicketStage(obj: FakeObject, previousStage: string | undefined, at: Date): void {
    const stage = obj.properties.hs_pipeline_stage;
    if (stage === previousStage) return;
    if (opts.closedStages.includes(stage)) obj.properties.closed_date = at.toISOString();
    else if (previousStage !== undefined && opts.closedStages.includes(previousStage)) obj.properties.closed_date = '';
  }

  function createObject(type: HubspotObjectType, properties: Record<string, string>, at = new Date(), searchable = at.getTime() + opts.searchLagMs): FakeObject {
    const id = newId();
    const iso = at.toISOString();
    const obj: FakeObject = {
      id,
      type,
      properties: { hs_pipeline: type === 'tickets' ? '0' : '', ...properties, hs_object_id: id, hs_createdate: iso, hs_lastmodifieddate: iso },
      createdAt: at,
      updatedAt: at,
      archived: false,
      searchableAt: searchable,
    };
    if (type !== 'tickets') delete obj.properties.hs_pipeline;
    if (type === 'contacts' || type === 'tickets') obj.properties.createdate = iso;
    if (type === 'contacts') obj.properties.lastmodifieddate = iso;
    if (type === 'tickets') applyTicketStage(obj, undefined, at);
    store.get(type)!.set(id, obj);
    return obj;
  }

  function patchObject(obj: FakeObject, properties: Record<string, string>, at = new Date()): void {
    const previousStage = obj.properties.hs_pipeline_stage;
    Object.assign(obj.properties, properties);
    const iso = at.toISOString();
    obj.properties.hs_lastmodifieddate = iso;
    if (obj.type === 'contacts') obj.properties.lastmodifieddate = iso;
    obj.updatedAt = at;
    obj.searchableAt = at.getTime() + opts.searchLagMs;
    if (obj.type === 'tickets') applyTicketStage(obj, previousStage, at);
  }

  function getLive(type: HubspotObjectType, id: string): FakeObject {
    const obj = store.get(type)!.get(id);
    if (!obj || obj.archived) throw hubspotError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', { context: { id: [id] } });
    return obj;
  }

  function serialise(obj: FakeObject, requested?: string[], withAllProperties = false, associationsTo?: HubspotObjectType[]): Record<string, unknown> {
    const names = withAllProperties ? Object.keys(obj.properties) : [...new Set([...DEFAULT_READ_PROPERTIES[obj.type], ...(requested ?? [])])];
    const properties: Record<string, string | null> = {};
    for (const name of names) {
      const value = obj.properties[name];
      properties[name] = value === undefined || value === '' ? null : value;
    }
    const out: Record<string, unknown> = { id: obj.id, properties, createdAt: obj.createdAt.toISOString(), updatedAt: obj.updatedAt.toISOString(), archived: obj.archived };
    if (associationsTo && associationsTo.length > 0) {
      const assoc: Record<string, unknown> = {};
      for (const toType of associationsTo) {
        const list = associationsOf(obj.type, obj.id, toType);
        if (list.length) {
          assoc[toType] = { results: list.map((a) => ({ id: a.toId, type: `${obj.type.replace(/s$/, '')}_to_${toType.replace(/s$/, '')}` })) };
        }
      }
      out.associations = assoc;
    }
    return out;
  }

  function associationsOf(type: HubspotObjectType, id: string, toType?: HubspotObjectType): FakeAssociation[] {
    return associationList.filter((a) => a.fromType === type && a.fromId === id && (!toType || a.toType === toType));
  }

  /** Resolves a HUBSPOT_DEFINED type id from `fromType` to its target type; throws 400 if invalid. */
  function targetTypeFor(fromType: HubspotObjectType, typeId: number, category: string): HubspotObjectType {
    if (category !== 'HUBSPOT_DEFINED') throw validation(`associationCategory ${category} is not supported here`);
    const key = Object.entries(ASSOCIATION_TYPE_IDS).find(([k, id]) => id === typeId && k.startsWith(`${fromType}>`))?.[0];
    if (!key) throw validation(`${typeId} is not a valid association type id from ${fromType}`, { subCategory: 'crm.associations.INVALID_ASSOCIATION_TYPE' });
    return key.split('>')[1] as HubspotObjectType;
  }

  function associate(fromType: HubspotObjectType, fromId: string, toType: HubspotObjectType, toId: string, typeId: number): void {
    const reverseId = ASSOCIATION_TYPE_IDS[`${toType}>${fromType}`];
    const add = (a: FakeAssociation): void => {
      const key = `${a.fromType}/${a.fromId}/${a.toType}/${a.toId}/${a.typeId}`;
      if (associationKeys.has(key)) return;
      associationKeys.add(key);
      associationList.push(a);
    };
    add({ fromType, fromId, toType, toId, typeId, category: 'HUBSPOT_DEFINED' });
    if (reverseId) add({ fromType: toType, fromId: toId, toType: fromType, toId: fromId, typeId: reverseId, category: 'HUBSPOT_DEFINED' });
  }

  interface InlineAssociation {
    toType: HubspotObjectType;
    toId: string;
    typeId: number;
  }

  function checkInlineAssociations(fromType: HubspotObjectType, input: unknown): InlineAssociation[] {
    if (input === undefined) return [];
    if (!Array.isArray(input)) throw validation('associations must be an array');
    const out: InlineAssociation[] = [];
    for (const a of input as { to?: { id?: unknown }; types?: { associationCategory?: string; associationTypeId?: number }[] }[]) {
      const toId = a?.to?.id === undefined ? undefined : String(a.to.id);
      if (!toId || !Array.isArray(a.types) || a.types.length === 0) throw validation('each association needs to.id and types');
      for (const t of a.types) {
        const toType = targetTypeFor(fromType, Number(t.associationTypeId), String(t.associationCategory));
        const target = store.get(toType)!.get(toId);
        if (!target || target.archived) throw validation(`${toType} ${toId} does not exist; cannot associate`, { subCategory: 'crm.associations.INVALID_OBJECT_IDS' });
        out.push({ toType, toId, typeId: Number(t.associationTypeId) });
      }
    }
    return out;
  }

  function createWithInput(type: HubspotObjectType, input: unknown): { props: Record<string, string>; assocs: InlineAssociation[] } {
    const body = (input ?? {}) as { properties?: unknown; associations?: unknown };
    const props = cleanProperties(type, body.properties);
    requireProperties(type, props);
    const assocs = checkInlineAssociations(type, body.associations);
    return { props, assocs };
  }

  function commitCreate(type: HubspotObjectType, prepared: { props: Record<string, string>; assocs: InlineAssociation[] }): FakeObject {
    const obj = createObject(type, prepared.props);
    for (const a of prepared.assocs) associate(type, obj.id, a.toType, a.toId, a.typeId);
    return obj;
  }

  // -------------------------------------------------------------------------------------------
  // Search

  interface SearchFilter {
    propertyName?: string;
    operator?: string;
    value?: unknown;
    values?: unknown[];
    highValue?: unknown;
  }

  const OPERATORS = ['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN'];

  function compare(a: string, b: string): number {
    const na = Number(a);
    const nb = Number(b);
    if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
    const da = Date.parse(a);
    const db = Date.parse(b);
    if (Number.isFinite(da) && Number.isFinite(db)) return da - db;
    return a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0;
  }

  function containsToken(value: string, token: string): boolean {
    const pattern = token.toLowerCase();
    const tokens = value.toLowerCase().split(/[\s,;:!?()[\]{}"'/\\|<>@.+-]+/).filter(Boolean);
    if (pattern.includes('*')) {
      const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      return tokens.some((t) => re.test(t));
    }
    return tokens.includes(pattern) || (/[\s]/.test(pattern) && value.toLowerCase().includes(pattern));
  }

  function matches(obj: FakeObject, f: SearchFilter): boolean {
    const raw = obj.properties[f.propertyName ?? ''];
    const has = raw !== undefined && raw !== '';
    const value = f.value === undefined ? '' : String(f.value);
    // Strings compare case-insensitively; plain numbers numerically ("1.0" = "1"), but a leading
    // zero is text, so "0048601234567" never equals "48601234567".
    const eq = (candidate: string): boolean =>
      has && (raw.toLowerCase() === candidate.toLowerCase() || (PLAIN_NUMBER.test(raw) && PLAIN_NUMBER.test(candidate) && Number(raw) === Number(candidate)));
    switch (f.operator) {
      case 'EQ':
        return eq(value);
      case 'NEQ':
        return !eq(value);
      case 'IN':
        return (f.values ?? []).some((v) => eq(String(v)));
      case 'NOT_IN':
        return !(f.values ?? []).some((v) => eq(String(v)));
      case 'HAS_PROPERTY':
        return has;
      case 'NOT_HAS_PROPERTY':
        return !has;
      case 'CONTAINS_TOKEN':
        return has && containsToken(raw, value);
      case 'NOT_CONTAINS_TOKEN':
        return !has || !containsToken(raw, value);
      case 'LT':
        return has && compare(raw, value) < 0;
      case 'LTE':
        return has && compare(raw, value) <= 0;
      case 'GT':
        return has && compare(raw, value) > 0;
      case 'GTE':
        return has && compare(raw, value) >= 0;
      case 'BETWEEN':
        return has && compare(raw, value) >= 0 && compare(raw, String(f.highValue ?? '')) <= 0;
      default:
        return false;
    }
  }

  function search(type: HubspotObjectType, body: unknown): Record<string, unknown> {
    const req = (body ?? {}) as { filterGroups?: { filters?: SearchFilter[] }[]; sorts?: unknown[]; query?: string; properties?: string[]; limit?: number; after?: string };
    const groups = req.filterGroups ?? [];
    if (!Array.isArray(groups)) throw validation('filterGroups must be an array');
    if (groups.length > MAX_FILTER_GROUPS) throw validation(`Too many filter groups: ${groups.length} (max ${MAX_FILTER_GROUPS})`);
    let filterCount = 0;
    for (const g of groups) {
      const filters = g.filters ?? [];
      if (filters.length > MAX_FILTERS_PER_GROUP) throw validation(`Too many filters in a group: ${filters.length} (max ${MAX_FILTERS_PER_GROUP})`);
      filterCount += filters.length;
      for (const f of filters) {
        if (!f.propertyName || !OPERATORS.includes(String(f.operator))) throw validation(`Invalid filter: ${JSON.stringify(f)}`);
        if ((f.operator === 'IN' || f.operator === 'NOT_IN') && (!Array.isArray(f.values) || f.values.length === 0)) throw validation(`${f.operator} needs values`);
        if (Array.isArray(f.values) && f.values.length > MAX_IN_VALUES) throw validation(`Too many values in an ${f.operator} filter: ${f.values.length} (max ${MAX_IN_VALUES})`);
      }
    }
    if (filterCount > MAX_FILTERS) throw validation(`Too many filters: ${filterCount} (max ${MAX_FILTERS})`);
    const limit = req.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) throw validation(`limit must be between 1 and ${MAX_SEARCH_LIMIT}`);
    const offset = req.after === undefined || req.after === '' ? 0 : Number(req.after);
    if (!Number.isInteger(offset) || offset < 0) throw validation(`after must be a paging cursor`);
    if (offset + limit > MAX_SEARCH_RESULTS) throw validation(`Search results are limited to ${MAX_SEARCH_RESULTS} (after ${offset} + limit ${limit})`);

    const now = Date.now();
    let hits = [...store.get(type)!.values()].filter((o) => !o.archived && o.searchableAt <= now);
    if (groups.length > 0) hits = hits.filter((o) => groups.some((g) => (g.filters ?? []).every((f) => matches(o, f))));
    if (req.query) {
      const q = req.query.toLowerCase();
      hits = hits.filter((o) => Object.values(o.properties).some((v) => v.toLowerCase().includes(q)));
    }
    const sort = (req.sorts ?? [])[0];
    if (sort !== undefined) {
      const spec = typeof sort === 'string' ? { propertyName: sort.replace(/^-/, ''), direction: sort.startsWith('-') ? 'DESCENDING' : 'ASCENDING' } : (sort as { propertyName: string; direction?: string });
      const dir = spec.direction === 'DESCENDING' ? -1 : 1;
      hits.sort((a, b) => dir * compare(a.properties[spec.propertyName] ?? '', b.properties[spec.propertyName] ?? ''));
    }
    const page = hits.slice(offset, offset + limit);
    const out: Record<string, unknown> = { total: hits.length, results: page.map((o) => serialise(o, req.properties)) };
    if (offset + limit < hits.length) out.paging = { next: { after: String(offset + limit), link: '' } };
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  /** An answer; `created` marks one whose request created objects (for resetAfterNextCreate). */
  async function route(req: ParsedRequest): Promise<{ status: number; body?: unknown; headers?: Record<string, string>; created?: boolean }> {
    const { method, path } = req;
    const seg = path.split('/').filter(Boolean);
    const body = req.json as Record<string, unknown> | undefined;

    // /crm/v3/objects/...
    if (seg[0] === 'crm' && seg[1] === 'v3' && seg[2] === 'objects' && seg[3]) {
      const type = normaliseType(seg[3]);
      const rest = seg.slice(4);
      if (method === 'POST' && rest.length === 0) {
        const prepared = createWithInput(type, body);
        checkUniqueValues(type, prepared.props);
        const obj = commitCreate(type, prepared);
        return { status: 201, body: serialise(obj, undefined, true), created: true };
      }
      if (method === 'GET' && rest.length === 0) {
        const limit = Math.min(Number(req.query.get('limit') ?? 10), 100);
        const after = Number(req.query.get('after') ?? 0);
        const all = [...store.get(type)!.values()].filter((o) => !o.archived);
        const page = all.slice(after, after + limit);
        const out: Record<string, unknown> = { results: page.map((o) => serialise(o, req.query.getAll('properties').flatMap((p) => p.split(',')))) };
        if (after + limit < all.length) out.paging = { next: { after: String(after + limit) } };
        return { status: 200, body: out };
      }
      if (method === 'POST' && rest[0] === 'search' && rest.length === 1) return { status: 200, body: search(type, body) };
      if (method === 'POST' && rest[0] === 'gdpr-delete' && type === 'contacts') {
        const input = (body ?? {}) as { objectId?: unknown; idProperty?: string };
        if (input.objectId === undefined || input.objectId === '') throw validation('objectId is required');
        const objectId = String(input.objectId);
        const contacts = store.get('contacts')!;
        const target = input.idProperty && input.idProperty !== 'hs_object_id'
          ? [...contacts.values()].find((c) => (c.properties[input.idProperty!] ?? '').toLowerCase() === objectId.toLowerCase())
          : contacts.get(objectId);
        if (!target) throw hubspotError(404, 'OBJECT_NOT_FOUND', 'Object not found.', { context: { id: [objectId] } });
        contacts.delete(target.id);
        for (let i = associationList.length - 1; i >= 0; i--) {
          const a = associationList[i];
          if ((a.fromType === 'contacts' && a.fromId === target.id) || (a.toType === 'contacts' && a.toId === target.id)) {
            associationKeys.delete(`${a.fromType}/${a.fromId}/${a.toType}/${a.toId}/${a.typeId}`);
            associationList.splice(i, 1);
          }
        }
        gdprDeletedIds.push(target.id);
        return { status: 204 };
      }
      if (method === 'POST' && rest[0] === 'batch' && rest.length === 2) {
        const inputs = (body as { inputs?: unknown[] } | undefined)?.inputs;
        if (!Array.isArray(inputs)) throw validation('inputs must be an array');
        if (inputs.length > MAX_BATCH) throw validation(`Batch size ${inputs.length} exceeds the limit of ${MAX_BATCH} inputs`, { context: { inputs: [String(inputs.length)] } });
        if (rest[1] !== 'create') {
          const ids = (inputs as { id?: unknown }[]).map((input) => String(input?.id));
          const duplicates = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
          if (duplicates.length > 0) throw validation(`Duplicate IDs found in batch input: [${duplicates.join(', ')}]. IDs must be unique`);
        }
        const startedAt = new Date().toISOString();
        const done = (status: number, results: unknown[], errors: unknown[] = []): { status: number; body: unknown } => ({
          status: errors.length > 0 ? 207 : status,
          body: { status: 'COMPLETE', results, ...(errors.length ? { errors, numErrors: errors.length } : {}), startedAt, completedAt: new Date().toISOString() },
        });
        switch (rest[1]) {
          case 'create': {
            // Validate every input first: HubSpot rejects the whole batch on one bad input.
            const prepared = inputs.map((input) => createWithInput(type, input));
            const claimed = new Map<string, string>();
            for (const p of prepared) checkUniqueValues(type, p.props, undefined, claimed);
            const created = prepared.map((p) => serialise(commitCreate(type, p), undefined, true));
            return { ...done(201, opts.reverseBatchResults ? created.reverse() : created), created: true };
          }
          case 'read': {
            const { properties: props, idProperty } = body as { properties?: string[]; idProperty?: string };
            // By a unique property: straight from the store (no index), as HubSpot reads by id.
            let byValue: ((value: string) => FakeObject | undefined) | undefined;
            if (idProperty !== undefined && idProperty !== 'hs_object_id') {
              const def = customProperties.get(type)!.get(idProperty);
              if (!def) throw validation(`Property "${idProperty}" does not exist`, { subCategory: 'crm.properties.PROPERTY_DOESNT_EXIST' });
              if (!def.hasUniqueValue) throw validation(`${idProperty} is not a unique identifier property for ${type}; idProperty must name a property with unique values`);
              byValue = (value) => [...store.get(type)!.values()].find((o) => !o.archived && o.properties[idProperty] === value);
            }
            const found: unknown[] = [];
            const missing: string[] = [];
            for (const input of inputs as { id?: unknown }[]) {
              const obj = byValue ? byValue(String(input?.id)) : store.get(type)!.get(String(input?.id));
              if (obj && !obj.archived) found.push(serialise(obj, byValue ? [...(props ?? []), idProperty!] : props));
              else missing.push(String(input?.id));
            }
            const errors = missing.length ? [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: `Could not get some ${type} objects, they may be deleted or not exist.`, context: { ids: missing } }] : [];
            return done(200, found, errors);
          }
          case 'update': {
            const prepared = (inputs as { id?: unknown; properties?: unknown }[]).map((input) => ({ obj: getLive(type, String(input?.id)), props: cleanProperties(type, input?.properties) }));
            const claimed = new Map<string, string>();
            for (const p of prepared) checkUniqueValues(type, p.props, p.obj.id, claimed);
            for (const p of prepared) patchObject(p.obj, p.props);
            return done(200, prepared.map((p) => serialise(p.obj, undefined, true)));
          }
          case 'archive': {
            for (const input of inputs as { id?: unknown }[]) {
              const obj = store.get(type)!.get(String(input?.id));
              if (obj) obj.archived = true;
            }
            return { status: 204 };
          }
          default:
            break;
        }
      }
      if (rest.length === 1 && rest[0] !== 'search' && rest[0] !== 'batch') {
        const id = rest[0];
        if (method === 'GET') {
          const obj = getLive(type, id);
          const props = req.query.getAll('properties').flatMap((p) => p.split(',')).filter(Boolean);
          const assocTo = req.query.getAll('associations').flatMap((p) => p.split(',')).filter(Boolean).map(normaliseType);
          return { status: 200, body: serialise(obj, props, false, assocTo) };
        }
        if (method === 'PATCH') {
          const obj = getLive(type, id);
          const props = cleanProperties(type, (body as { properties?: unknown } | undefined)?.properties);
          checkUniqueValues(type, props, obj.id);
          patchObject(obj, props);
          return { status: 200, body: serialise(obj, undefined, true) };
        }
        if (method === 'DELETE') {
          getLive(type, id).archived = true;
          return { status: 204 };
        }
      }
    }

    // /crm/v3/owners
    if (seg[0] === 'crm' && seg[1] === 'v3' && seg[2] === 'owners' && seg.length === 3 && method === 'GET') {
      const email = req.query.get('email');
      const archived = req.query.get('archived') === 'true';
      const limit = Math.min(Number(req.query.get('limit') ?? 100) || 100, 500);
      const found = owners.filter((o) => o.archived === archived && (!email || o.email.toLowerCase() === email.toLowerCase()));
      return { status: 200, body: { results: found.slice(0, limit) } };
    }

    // /crm/v3/properties/{type}[/{name}]
    if (seg[0] === 'crm' && seg[1] === 'v3' && seg[2] === 'properties' && seg[3]) {
      const type = normaliseType(seg[3]);
      const custom = customProperties.get(type)!;
      if (method === 'GET' && seg.length === 5) {
        const def = custom.get(seg[4]) ?? builtInDefinition(type, seg[4]);
        if (!def) throw hubspotError(404, 'OBJECT_NOT_FOUND', `Unable to find property ${seg[4]} for object type ${type}`);
        return { status: 200, body: def };
      }
      if (method === 'GET' && seg.length === 4) {
        return { status: 200, body: { results: [...BUILT_IN_PROPERTIES[type].map((n) => builtInDefinition(type, n)), ...custom.values()] } };
      }
      if (method === 'POST' && seg.length === 4) {
        const input = (body ?? {}) as Partial<FakePropertyDefinition>;
        const absent = (['name', 'label', 'type', 'fieldType', 'groupName'] as const).filter((k) => typeof input[k] !== 'string' || input[k] === '');
        if (absent.length) throw validation(`Missing required fields: ${absent.join(', ')}`);
        if (!/^[a-z][a-z0-9_]*$/.test(input.name!)) throw validation(`Invalid property name ${input.name}`);
        if (!['string', 'number', 'date', 'datetime', 'enumeration', 'bool'].includes(input.type!)) throw validation(`Invalid property type ${input.type}`);
        if (input.type === 'enumeration' && (!Array.isArray(input.options) || input.options.length === 0)) throw validation('enumeration properties need options');
        if (custom.has(input.name!) || BUILT_IN_PROPERTIES[type].includes(input.name!)) {
          throw hubspotError(409, 'OBJECT_ALREADY_EXISTS', `Property named '${input.name}' already exists.`);
        }
        const now = new Date().toISOString();
        const def: FakePropertyDefinition = {
          name: input.name!,
          label: input.label!,
          type: input.type!,
          fieldType: input.fieldType!,
          groupName: input.groupName!,
          description: input.description ?? '',
          options: input.options ?? [],
          hasUniqueValue: input.hasUniqueValue === true,
          hubspotDefined: false,
          createdAt: now,
          updatedAt: now,
        };
        custom.set(def.name, def);
        return { status: 201, body: def };
      }
    }

    // /crm/v4/objects/{from}/{fromId}/associations/...
    if (seg[0] === 'crm' && seg[1] === 'v4' && seg[2] === 'objects' && seg[5] === 'associations') {
      const fromType = normaliseType(seg[3]);
      const fromId = seg[4];
      getLive(fromType, fromId);
      if (method === 'PUT' && seg[6] === 'default' && seg.length === 9) {
        const toType = normaliseType(seg[7]);
        const toId = seg[8];
        getLive(toType, toId);
        const typeId = ASSOCIATION_TYPE_IDS[`${fromType}>${toType}`];
        if (!typeId) throw validation(`No default association from ${fromType} to ${toType}`);
        associate(fromType, fromId, toType, toId, typeId);
        const now = new Date().toISOString();
        return { status: 200, body: { status: 'COMPLETE', results: [{ from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId } }], startedAt: now, completedAt: now } };
      }
      if (method === 'PUT' && seg.length === 8) {
        const toType = normaliseType(seg[6]);
        const toId = seg[7];
        getLive(toType, toId);
        if (!Array.isArray(body) || body.length === 0) throw validation('body must be a non-empty array of association specs');
        for (const spec of body as { associationCategory?: string; associationTypeId?: number }[]) {
          const target = targetTypeFor(fromType, Number(spec.associationTypeId), String(spec.associationCategory));
          if (target !== toType) throw validation(`${spec.associationTypeId} does not associate ${fromType} to ${toType}`);
        }
        for (const spec of body as { associationTypeId: number }[]) associate(fromType, fromId, toType, toId, Number(spec.associationTypeId));
        return { status: 201, body: { fromObjectTypeId: OBJECT_TYPE_IDS[fromType], fromObjectId: fromId, toObjectTypeId: OBJECT_TYPE_IDS[toType], toObjectId: toId, labels: [] } };
      }
      if (method === 'GET' && seg.length === 7) {
        const toType = normaliseType(seg[6]);
        const grouped = new Map<string, FakeAssociation[]>();
        for (const a of associationsOf(fromType, fromId, toType)) grouped.set(a.toId, [...(grouped.get(a.toId) ?? []), a]);
        return {
          status: 200,
          body: { results: [...grouped.entries()].map(([toObjectId, list]) => ({ toObjectId, associationTypes: list.map((a) => ({ category: a.category, typeId: a.typeId, label: null })) })) },
        };
      }
    }

    // Conversations custom channels
    if (seg[0] === 'conversations' && seg[1] === 'v3' && seg[2] === 'custom-channels') return customChannelRoute(method, seg.slice(3), req);

    // Files API
    if (path === '/files/v3/files' && method === 'POST') return { status: 201, body: await upload(req) };
    if (seg[0] === 'files' && seg[1] === 'v3' && seg[2] === 'files' && seg.length === 4 && method === 'GET') {
      const file = fileStore.get(seg[3]);
      if (!file) throw hubspotError(404, 'OBJECT_NOT_FOUND', `File ${seg[3]} not found`);
      return { status: 200, body: fileJson(file) };
    }
    if (seg[0] === 'files' && seg[1] === 'v3' && seg[2] === 'files' && seg.length === 5 && seg[4] === 'signed-url' && method === 'GET') {
      const file = fileStore.get(seg[3]);
      if (!file) throw hubspotError(404, 'OBJECT_NOT_FOUND', `File ${seg[3]} not found`);
      const seconds = Number(req.query.get('expirationSeconds') ?? 3600) || 3600;
      const { name, extension, size, type } = fileJson(file) as { name: string; extension: string; size: number; type: string };
      return { status: 200, body: { url: `${file.url}?expires=${Date.now() + seconds * 1000}`, expiresAt: new Date(Date.now() + seconds * 1000).toISOString(), name, extension, size, type } };
    }

    throw hubspotError(404, 'OBJECT_NOT_FOUND', `Unable to route ${method} ${path}`);
  }

  // -------------------------------------------------------------------------------------------
  // Conversations custom channels

  const DELIVERY_IDENTIFIER_TYPES = ['HS_PHONE_NUMBER', 'HS_EMAIL_ADDRESS', 'CHANNEL_SPECIFIC_OPAQUE_ID', 'HS_SHORT_CODE'];
  const FILE_USAGE_TYPES = ['AUDIO', 'IMAGE', 'OTHER', 'STICKER', 'VOICE_RECORDING'];
  const STATUS_TYPES = ['SENT', 'FAILED', 'READ'];
  /** The agent whose messages agentReply() sends: HubSpot actor ids are 'A-<user id>'. */
  const AGENT_ACTOR = 'A-5551234';

  const notFound = (what: string, id: string): HttpError => hubspotError(404, 'OBJECT_NOT_FOUND', `${what} ${id} not found`);

  function deliveryIdentifier(input: unknown, field: string): FakeDeliveryIdentifier {
    const d = (input ?? {}) as { type?: unknown; value?: unknown };
    if (typeof d.type !== 'string' || !DELIVERY_IDENTIFIER_TYPES.includes(d.type)) throw validation(`${field}.type must be one of ${DELIVERY_IDENTIFIER_TYPES.join(', ')}`);
    if (typeof d.value !== 'string' || d.value.trim() === '') throw validation(`${field}.value is required`);
    if (d.type === 'HS_PHONE_NUMBER' && !/^\+[1-9]\d{6,14}$/.test(d.value)) throw validation(`${field}.value must be a phone number in E.164 format`);
    return { type: d.type, value: d.value };
  }

  function participants(input: unknown, field: string): FakeChannelMessage['senders'] {
    if (!Array.isArray(input) || input.length === 0) throw validation(`${field} must be a non-empty array`);
    return (input as { name?: unknown; deliveryIdentifier?: unknown }[]).map((p, i) => ({
      ...(typeof p?.name === 'string' ? { name: p.name } : {}),
      deliveryIdentifier: deliveryIdentifier(p?.deliveryIdentifier, `${field}[${i}].deliveryIdentifier`),
    }));
  }

  function registerChannel(input: Record<string, unknown> | undefined): FakeCustomChannel {
    const body = input ?? {};
    if (typeof body.name !== 'string' || body.name.trim() === '') throw validation('name is required');
    if (!body.capabilities || typeof body.capabilities !== 'object' || Array.isArray(body.capabilities)) throw validation('capabilities is required');
    let webhookUrl = '';
    if (body.webhookUrl !== undefined) {
      try {
        const url = new URL(String(body.webhookUrl));
        if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('protocol');
        webhookUrl = url.toString();
      } catch {
        throw validation('webhookUrl must be an absolute URL');
      }
    }
    const channel: FakeCustomChannel = {
      id: newId(),
      appId: opts.appId,
      name: body.name,
      webhookUrl: webhookUrl ? String(body.webhookUrl) : '',
      capabilities: body.capabilities as Record<string, unknown>,
      ...(typeof body.channelDescription === 'string' ? { channelDescription: body.channelDescription } : {}),
      createdAt: new Date().toISOString(),
    };
    channels.set(channel.id, channel);
    return channel;
  }

  function connectAccount(channel: FakeCustomChannel, input: Record<string, unknown> | undefined): FakeChannelAccount {
    const body = input ?? {};
    if (typeof body.name !== 'string' || body.name.trim() === '') throw validation('name is required');
    const inboxId = body.inboxId === undefined ? '' : String(body.inboxId);
    if (!opts.inboxIds.includes(inboxId)) throw validation(`Inbox ${inboxId || '(none)'} does not exist`, { subCategory: 'CustomChannelsError.INBOX_NOT_FOUND' });
    const account: FakeChannelAccount = {
      id: newId(),
      channelId: channel.id,
      name: body.name,
      inboxId,
      deliveryIdentifier: deliveryIdentifier(body.deliveryIdentifier, 'deliveryIdentifier'),
      authorized: body.authorized !== false,
      archived: false,
      createdAt: new Date().toISOString(),
    };
    channelAccountStore.set(account.id, account);
    return account;
  }

  function threadFor(channel: FakeCustomChannel, account: FakeChannelAccount, integrationThreadId: string | undefined, customer: FakeChannelThread['customer']): FakeChannelThread {
    const existing = [...threadStore.values()].find(
      (t) =>
        t.channelAccountId === account.id &&
        (integrationThreadId !== undefined ? t.integrationThreadId === integrationThreadId : t.integrationThreadId === undefined && t.customer.deliveryIdentifier.value === customer.deliveryIdentifier.value),
    );
    if (existing) return existing;
    const thread: FakeChannelThread = { id: newId(), channelId: channel.id, channelAccountId: account.id, ...(integrationThreadId !== undefined ? { integrationThreadId } : {}), customer };
    threadStore.set(thread.id, thread);
    return thread;
  }

  /** POST .../messages: an integration publishes a message. Returns [status, message]. */
  function publish(channel: FakeCustomChannel, input: Record<string, unknown> | undefined): { status: number; message: FakeChannelMessage } {
    const body = input ?? {};
    const idempotencyId = typeof body.integrationIdempotencyId === 'string' && body.integrationIdempotencyId ? body.integrationIdempotencyId : undefined;
    if (idempotencyId) {
      const earlier = [...channelMessageStore.values()].find((m) => m.channelId === channel.id && m.integrationIdempotencyId === idempotencyId);
      if (earlier) return { status: 200, message: earlier };
    }
    if (body.messageDirection !== 'INCOMING' && body.messageDirection !== 'OUTGOING') throw validation('messageDirection must be INCOMING or OUTGOING');
    const account = channelAccountStore.get(String(body.channelAccountId ?? ''));
    if (!account || account.channelId !== channel.id || account.archived) throw validation(`channelAccountId ${String(body.channelAccountId)} is not an account of channel ${channel.id}`);
    const senders = participants(body.senders, 'senders');
    const recipients = participants(body.recipients, 'recipients');
    if (typeof body.text !== 'string') throw validation('text is required');
    const timestamp = typeof body.timestamp === 'string' ? Date.parse(body.timestamp) : Number.NaN;
    if (!Number.isFinite(timestamp)) throw validation('timestamp must be an ISO 8601 date-time');
    if (!Array.isArray(body.attachments)) throw validation('attachments must be an array');
    const attachments = (body.attachments as { type?: unknown; fileId?: unknown; fileUsageType?: unknown }[]).map((a, i): FakeChannelAttachment => {
      if (a?.type !== 'FILE') throw validation(`attachments[${i}].type ${String(a?.type)} is not supported here`);
      const file = fileStore.get(String(a.fileId ?? ''));
      if (!file) throw validation(`attachments[${i}].fileId ${String(a.fileId)} is not a file of this portal`);
      if (typeof a.fileUsageType !== 'string' || !FILE_USAGE_TYPES.includes(a.fileUsageType)) throw validation(`attachments[${i}].fileUsageType must be one of ${FILE_USAGE_TYPES.join(', ')}`);
      return { type: 'FILE', fileId: file.id, fileUsageType: a.fileUsageType, name: file.name, url: file.url };
    });
    if (body.text.trim() === '' && attachments.length === 0) throw validation('A message needs text or attachments');
    let associatedContactId: string | undefined;
    if (body.associateWithContactId !== undefined) {
      associatedContactId = String(body.associateWithContactId);
      const contact = store.get('contacts')!.get(associatedContactId);
      if (!Number.isInteger(body.associateWithContactId) || !contact || contact.archived) throw validation(`associateWithContactId ${associatedContactId} is not a contact of this portal`);
    }
    const direction = body.messageDirection;
    const integrationThreadId = typeof body.integrationThreadId === 'string' && body.integrationThreadId ? body.integrationThreadId : undefined;
    const customer = direction === 'INCOMING' ? senders[0] : recipients[0];
    const thread = threadFor(channel, account, integrationThreadId, { deliveryIdentifier: customer.deliveryIdentifier!, ...(customer.name ? { name: customer.name } : {}) });
    thread.contactId ??= associatedContactId;
    const message: FakeChannelMessage = {
      id: randomUUID().replace(/-/g, ''),
      type: 'MESSAGE',
      channelId: channel.id,
      channelAccountId: account.id,
      conversationsThreadId: thread.id,
      ...(integrationThreadId ? { integrationThreadId } : {}),
      ...(idempotencyId ? { integrationIdempotencyId: idempotencyId } : {}),
      direction,
      senders,
      recipients,
      text: body.text,
      ...(typeof body.richText === 'string' ? { richText: body.richText } : {}),
      attachments,
      timestamp: new Date(timestamp).toISOString(),
      createdAt: new Date().toISOString(),
      createdBy: `I-${opts.appId}`,
    };
    channelMessageStore.set(message.id, message);
    return { status: 201, message };
  }

  function messageJson(message: FakeChannelMessage): Record<string, unknown> {
    const { integrationIdempotencyId: _hidden, timestamp: _t, ...visible } = message;
    return { ...visible, archived: false, truncationStatus: 'NOT_TRUNCATED', client: { clientType: 'INTEGRATION', integrationAppId: opts.appId } };
  }

  async function customChannelRoute(method: string, rest: string[], req: ParsedRequest): Promise<{ status: number; body?: unknown }> {
    const body = req.json as Record<string, unknown> | undefined;
    if (rest.length === 0 && method === 'POST') {
      if (req.query.get('appId') !== String(opts.appId)) throw validation(`appId ${req.query.get('appId') ?? '(none)'} is not an app of this developer account`);
      return { status: 201, body: registerChannel(body) };
    }
    const channel = channels.get(rest[0] ?? '');
    if (!channel) throw notFound('Channel', rest[0] ?? '');
    if (rest.length === 1 && method === 'GET') return { status: 200, body: channel };
    if (rest[1] === 'channel-accounts' && rest.length === 2) {
      if (method === 'POST') return { status: 201, body: connectAccount(channel, body) };
      if (method === 'GET') return { status: 200, body: { results: [...channelAccountStore.values()].filter((a) => a.channelId === channel.id) } };
    }
    if (rest[1] === 'messages' && rest.length === 2 && method === 'POST') {
      const { status, message } = publish(channel, body);
      return { status, body: messageJson(message) };
    }
    if (rest[1] === 'messages' && rest.length === 3) {
      const message = channelMessageStore.get(rest[2]);
      if (!message || message.channelId !== channel.id) throw notFound('Message', rest[2]);
      if (method === 'GET') return { status: 200, body: messageJson(message) };
      if (method === 'PATCH') {
        const update = body ?? {};
        if (typeof update.statusType !== 'string' || !STATUS_TYPES.includes(update.statusType)) throw validation(`statusType must be one of ${STATUS_TYPES.join(', ')}`);
        if (message.direction !== 'OUTGOING') throw validation('Only the status of outgoing messages can be updated');
        const errorMessage = typeof update.errorMessage === 'string' ? update.errorMessage : undefined;
        message.status = { statusType: update.statusType, ...(update.statusType === 'FAILED' ? { failureDetails: { errorMessage } } : {}) };
        statusLog.push({ messageId: message.id, statusType: update.statusType, ...(errorMessage !== undefined ? { errorMessage } : {}), at: new Date() });
        return { status: 200, body: { ...messageJson(message), updatedAt: new Date().toISOString() } };
      }
    }
    throw hubspotError(404, 'OBJECT_NOT_FOUND', `Unable to route ${method} /conversations/v3/custom-channels/${rest.join('/')}`);
  }

  function findThread(ref: string): FakeChannelThread | undefined {
    return threadStore.get(ref) ?? [...threadStore.values()].find((t) => t.integrationThreadId === ref);
  }

  /** v3: base64(HMAC-SHA256(app secret, METHOD + URL + body + timestamp)), as HubSpot signs requests. */
  function signV3(method: string, url: string, body: string, timestamp: string): string {
    return createHmac('sha256', opts.appSecret).update(`${method}${url}${body}${timestamp}`, 'utf8').digest('base64');
  }

  async function agentReply(
    ref: string,
    input: { text: string; senderName?: string; attachments?: { name: string; url?: string; fileId?: string }[] },
  ): Promise<{ message: FakeChannelMessage; delivery: FakeChannelDelivery }> {
    const thread = findThread(ref);
    if (!thread) throw new Error(`no inbox thread ${ref}`);
    const channel = channels.get(thread.channelId)!;
    const account = channelAccountStore.get(thread.channelAccountId)!;
    const now = new Date();
    const message: FakeChannelMessage = {
      id: randomUUID().replace(/-/g, ''),
      type: 'MESSAGE',
      channelId: channel.id,
      channelAccountId: account.id,
      conversationsThreadId: thread.id,
      ...(thread.integrationThreadId ? { integrationThreadId: thread.integrationThreadId } : {}),
      direction: 'OUTGOING',
      senders: [{ actorId: AGENT_ACTOR, name: input.senderName ?? 'Agent Smith', deliveryIdentifier: account.deliveryIdentifier }],
      recipients: [{ ...(thread.customer.name ? { name: thread.customer.name } : {}), deliveryIdentifier: thread.customer.deliveryIdentifier }],
      text: input.text,
      richText: `<p>${input.text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</p>`,
      attachments: (input.attachments ?? []).map((a) => ({ type: 'FILE', fileUsageType: 'OTHER', name: a.name, ...(a.fileId ? { fileId: a.fileId } : {}), ...(a.url ? { url: a.url } : {}) })),
      timestamp: now.toISOString(),
      createdAt: now.toISOString(),
      createdBy: AGENT_ACTOR,
    };
    channelMessageStore.set(message.id, message);
    const event = {
      type: 'OUTGOING_CHANNEL_MESSAGE_CREATED',
      portalId: opts.portalId,
      appId: opts.appId,
      channelId: channel.id,
      channelAccountId: account.id,
      occurredAt: now.getTime(),
      message: messageJson(message),
    };
    const body = JSON.stringify(opts.channelWebhookEnvelope === 'array' ? [event] : event);
    const timestamp = String(Date.now());
    const delivery: FakeChannelDelivery = {
      url: channel.webhookUrl,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/)',
        'x-hubspot-request-timestamp': timestamp,
        'x-hubspot-signature-v3': signV3('POST', channel.webhookUrl, body, timestamp),
      },
      body,
      at: now,
    };
    channelDeliveryLog.push(delivery);
    if (!channel.webhookUrl) {
      delivery.error = 'the channel has no webhookUrl';
      return { message, delivery };
    }
    try {
      const response = await fetch(channel.webhookUrl, { method: 'POST', headers: delivery.headers, body, signal: AbortSignal.timeout(10_000) });
      delivery.status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch (err) {
      delivery.error = err instanceof Error ? err.message : String(err);
    }
    return { message, delivery };
  }

  function fileJson(file: FakeFile): Record<string, unknown> {
    const extension = file.name.includes('.') ? file.name.split('.').pop() : '';
    return {
      id: file.id,
      name: file.name.replace(/\.[^.]*$/, ''),
      extension,
      path: `${file.folderPath}/${file.name}`,
      size: file.bytes.length,
      type: file.mimeType.startsWith('image/') ? 'IMG' : file.mimeType.startsWith('audio/') ? 'AUDIO' : file.mimeType.startsWith('video/') ? 'MOVIE' : 'OTHER',
      access: file.access,
      url: file.url,
      defaultHostingUrl: file.url,
      isUsableInContent: true,
      archived: false,
      createdAt: file.createdAt.toISOString(),
      updatedAt: file.createdAt.toISOString(),
    };
  }

  async function upload(req: ParsedRequest): Promise<Record<string, unknown>> {
    const type = String(req.headers['content-type'] ?? '');
    if (!type.startsWith('multipart/form-data')) throw validation('Files must be uploaded as multipart/form-data');
    const fields: Record<string, string> = {};
    let file: { bytes: Buffer; filename: string; mimeType: string } | undefined;
    await new Promise<void>((resolve, reject) => {
      const bb = busboy({ headers: req.headers, limits: { fileSize: 20 * 1024 * 1024 } });
      bb.on('file', (name, stream, info) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (name === 'file') file = { bytes: Buffer.concat(chunks), filename: info.filename ?? '', mimeType: info.mimeType };
        });
      });
      bb.on('field', (name, value) => {
        fields[name] = value;
      });
      bb.on('close', () => resolve());
      bb.on('error', (err) => reject(validation(`Invalid multipart body: ${(err as Error).message}`)));
      bb.end(req.raw);
    });
    if (!file) throw validation('file is required');
    if (!fields.folderPath && !fields.folderId) throw validation('folderPath or folderId is required');
    let access: string | undefined;
    try {
      access = (JSON.parse(fields.options ?? '{}') as { access?: string }).access;
    } catch {
      throw validation('options must be JSON');
    }
    if (!['PUBLIC_INDEXABLE', 'PUBLIC_NOT_INDEXABLE', 'PRIVATE'].includes(access ?? '')) throw validation('options.access must be PUBLIC_INDEXABLE, PUBLIC_NOT_INDEXABLE or PRIVATE');
    const folderPath = `/${(fields.folderPath ?? `folder-${fields.folderId}`).replace(/^\/+|\/+$/g, '')}`;
    const name = fields.fileName || file.filename || 'file';
    const id = newId();
    const urlPath = `/hubfs/${opts.portalId}${folderPath}/${id}/${encodeURIComponent(name)}`;
    const stored: FakeFile = { id, name, folderPath, access: access!, mimeType: file.mimeType || 'application/octet-stream', bytes: file.bytes, url: `${baseUrl}${urlPath}`, createdAt: new Date() };
    fileStore.set(id, stored);
    filesByUrlPath.set(urlPath, stored);
    return fileJson(stored);
  }

  // -------------------------------------------------------------------------------------------
  // Limits, auth and the HTTP plumbing

  function rateHeaders(now: number): Record<string, string> {
    const headers: Record<string, string> = {};
    if (opts.rateLimit) {
      const interval = opts.rateLimit.intervalMs ?? 10_000;
      headers['X-HubSpot-RateLimit-Max'] = String(opts.rateLimit.max);
      headers['X-HubSpot-RateLimit-Remaining'] = String(Math.max(0, opts.rateLimit.max - rollingWindow.filter((t) => t > now - interval).length));
      headers['X-HubSpot-RateLimit-Interval-Milliseconds'] = String(interval);
    }
    if (opts.dailyLimit !== undefined) {
      headers['X-HubSpot-RateLimit-Daily'] = String(opts.dailyLimit);
      headers['X-HubSpot-RateLimit-Daily-Remaining'] = String(Math.max(0, opts.dailyLimit - dailyCount));
    }
    return headers;
  }

  function rateLimitBody(message: string, policyName: string): Record<string, unknown> {
    return { status: 'error', message, errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName, requestId: randomUUID() };
  }

  /** Counts the request against the limits; throws the 429 HubSpot would answer. */
  function spendLimits(isSearch: boolean): void {
    const now = Date.now();
    if (opts.dailyLimit !== undefined && dailyCount >= opts.dailyLimit) {
      throw new HttpError(429, rateLimitBody('You have reached your daily limit.', 'DAILY'), rateHeaders(now));
    }
    if (opts.rateLimit) {
      const interval = opts.rateLimit.intervalMs ?? 10_000;
      rollingWindow = rollingWindow.filter((t) => t > now - interval);
      if (rollingWindow.length >= opts.rateLimit.max) {
        const retryAfterSec = Math.max(1, Math.ceil((rollingWindow[0] + interval - now) / 1000));
        throw new HttpError(429, rateLimitBody('You have reached your ten_secondly_rolling limit.', 'TEN_SECONDLY_ROLLING'), { ...rateHeaders(now), 'Retry-After': String(retryAfterSec) });
      }
    }
    if (isSearch && opts.searchPerSecond !== undefined) {
      searchWindow = searchWindow.filter((t) => t > now - 1000);
      if (searchWindow.length >= opts.searchPerSecond) {
        throw new HttpError(429, rateLimitBody('You have reached your secondly limit.', 'SECONDLY'), { ...rateHeaders(now), 'Retry-After': '1' });
      }
      searchWindow.push(now);
    }
    rollingWindow.push(now);
    dailyCount += 1;
  }

  function checkAuth(headers: http.IncomingHttpHeaders, url: URL): void {
    // Custom channels are registered on the developer app: its API key in the query, no token.
    if (/^\/conversations\/v3\/custom-channels\/?$/.test(url.pathname)) {
      const key = url.searchParams.get('hapikey');
      if (!key || !opts.developerApiKeys.includes(key)) throw hubspotError(401, 'INVALID_AUTHENTICATION', 'The developer API key provided is invalid.');
      return;
    }
    const header = headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1];
    if (!token || !opts.accessTokens.includes(token)) {
      throw hubspotError(401, 'INVALID_AUTHENTICATION', token
        ? 'Authentication credentials not found. The OAuth token used to make this call expired or is not valid.'
        : 'Authentication credentials not found. This API supports OAuth 2.0 authentication.');
    }
  }

  function scriptedFailure(step: Extract<Scripted, { kind: 'fail' }>): HttpError {
    const headers: Record<string, string> = {};
    if (step.retryAfterSec !== undefined) headers['Retry-After'] = String(step.retryAfterSec);
    if (step.contentType !== undefined) headers['Content-Type'] = step.contentType;
    if (step.body !== undefined) return new HttpError(step.status, step.body as Record<string, unknown>, headers);
    if (step.status === 429) return new HttpError(429, rateLimitBody('You have reached your ten_secondly_rolling limit.', 'TEN_SECONDLY_ROLLING'), { ...rateHeaders(Date.now()), ...headers });
    const category =
      step.status === 401 ? 'INVALID_AUTHENTICATION' : step.status === 403 ? 'MISSING_SCOPES' : step.status === 404 ? 'OBJECT_NOT_FOUND' : step.status === 409 ? 'CONFLICT' : step.status < 500 ? 'VALIDATION_ERROR' : 'INTERNAL_ERROR';
    const err = hubspotError(step.status, category, step.status >= 500 ? 'internal error' : `scripted ${step.status}`);
    Object.assign(err.headers, headers);
    return err;
  }

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
    if (res.destroyed || res.writableEnded) return;
    if (status === 204 || body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const isText = typeof body === 'string';
    const payload = isText ? body : JSON.stringify(body);
    const all: Record<string, string> = { 'Content-Type': isText ? 'text/html; charset=utf-8' : 'application/json;charset=utf-8', 'Content-Length': String(Buffer.byteLength(payload)), ...headers };
    if (all['Content-Type'] === '') delete all['Content-Type'];
    res.writeHead(status, all);
    res.end(payload);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    const entry: FakeRequest = { at: started, method: req.method ?? 'GET', path: url.pathname, query: {}, status: 0, durationMs: 0 };
    for (const key of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(key);
      entry.query[key] = all.length === 1 ? all[0] : all;
    }
    log.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
      entry.durationMs = Date.now() - started;
    });

    const isJson = String(req.headers['content-type'] ?? '').includes('json');
    let json: unknown;
    let status = 500;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      if (isJson && raw.length > 0) {
        try {
          json = JSON.parse(raw.toString('utf8'));
        } catch {
          throw validation('Invalid input JSON on line 1');
        }
      }
      entry.body = String(req.headers['content-type'] ?? '').startsWith('multipart/') ? '[multipart]' : json;

      const step = scripted.shift();
      if (step?.kind === 'hang') {
        await sleep(step.ms);
        if (res.destroyed) return;
      }
      if (opts.latencyMs > 0) await sleep(opts.latencyMs);
      if (res.destroyed) return;
      if (step?.kind === 'fail') throw scriptedFailure(step);

      // Files are served without auth, as HubSpot's CDN serves file URLs.
      if (req.method === 'GET' && url.pathname.startsWith('/hubfs/')) {
        const file = filesByUrlPath.get(url.pathname);
        if (!file) throw hubspotError(404, 'OBJECT_NOT_FOUND', 'File not found');
        if (!res.destroyed) {
          res.writeHead(200, { 'Content-Type': file.mimeType, 'Content-Length': String(file.bytes.length) });
          res.end(file.bytes);
        }
        return;
      }
      checkAuth(req.headers, url);
      if (opts.serverErrorRate > 0 && Math.random() < opts.serverErrorRate) throw hubspotError(500, 'INTERNAL_ERROR', 'internal error');
      if (opts.throttle && Math.random() < opts.throttle.rate) {
        throw scriptedFailure({ kind: 'fail', status: 429, retryAfterSec: opts.throttle.retryAfterSec });
      }
      spendLimits(url.pathname.endsWith('/search'));
      const result = await route({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, raw, json });
      if (result.created && resetsAfterCreate > 0) {
        // The objects exist now; the client hears only a reset (ECONNRESET / socket hang up).
        resetsAfterCreate -= 1;
        req.socket.destroy();
        return;
      }
      if (opts.responseDelayMs > 0) await sleep(opts.responseDelayMs);
      status = result.status;
      body = result.body;
      headers = { ...rateHeaders(Date.now()), ...(result.headers ?? {}) };
    } catch (err) {
      if (err instanceof HttpError) {
        status = err.status;
        body = err.body;
        headers = { ...rateHeaders(Date.now()), ...err.headers };
      } else {
        status = 500;
        body = { status: 'error', message: `fake HubSpot bug: ${(err as Error).message}`, correlationId: randomUUID(), category: 'INTERNAL_ERROR' };
      }
    }
    send(res, status, body, headers);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { status: 'error', message: String(err), category: 'INTERNAL_ERROR' }, {}));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  const list = (type: HubspotObjectType): FakeObject[] => [...store.get(type)!.values()].filter((o) => !o.archived);

  return {
    url: baseUrl,
    portalId: opts.portalId,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    failNext(status, failOpts = {}) {
      scripted.push({ kind: 'fail', status, retryAfterSec: failOpts.retryAfterSec, body: failOpts.body, contentType: failOpts.contentType });
    },
    hang(ms) {
      scripted.push({ kind: 'hang', ms });
    },
    resetAfterNextCreate(times = 1) {
      resetsAfterCreate += times;
    },
    setSearchLag(ms) {
      opts = { ...opts, searchLagMs: ms };
    },
    recordsContaining(text) {
      return OBJECT_TYPES.flatMap(list).filter((o) => Object.values(o.properties).some((v) => v.includes(text))).length;
    },
    setOptions(patch) {
      opts = { ...opts, ...patch } as typeof opts;
    },
    requests: () => [...log],
    requestCount: () => log.length,
    clearRequests() {
      log.length = 0;
    },
    objects: list,
    contacts: () => list('contacts'),
    communications: () => list('communications'),
    tickets: () => list('tickets'),
    notes: () => list('notes'),
    object: (type, id) => store.get(type)!.get(id),
    associations: (type, id, toType) => associationsOf(type, id, toType),
    files: () => [...fileStore.values()],
    property: (type, name) => customProperties.get(type)!.get(name) ?? builtInDefinition(type, name),
    gdprDeleted: () => [...gdprDeletedIds],
    seedOwner(input) {
      const id = String(90_000_000 + owners.length + 1);
      const now = new Date().toISOString();
      owners.push({ id, email: input.email, firstName: input.firstName ?? '', lastName: input.lastName ?? '', userId: Number(id) - 80_000_000, type: 'PERSON', archived: false, createdAt: now, updatedAt: now, teams: [] });
      return id;
    },
    seedObject(type, properties) {
      return createObject(type, properties, new Date(), 0).id;
    },
    seedContactWithPhone(formatted, field = 'phone') {
      return createObject('contacts', { firstname: 'Seeded', lastname: 'Contact', [field]: formatted }, new Date(), 0).id;
    },
    updateObject(type, id, properties, at) {
      const obj = store.get(type)!.get(id);
      if (!obj) throw new Error(`no ${type} ${id}`);
      patchObject(obj, properties, at);
    },
    app: { appId: String(opts.appId), developerApiKey: opts.developerApiKeys[0], appSecret: opts.appSecret, inboxId: opts.inboxIds[0] },
    seedCustomChannel(input = {}) {
      const channel = registerChannel({ name: 'WhatsApp (seeded)', webhookUrl: input.webhookUrl, capabilities: {} });
      const account = connectAccount(channel, {
        name: 'WhatsApp (seeded)',
        inboxId: input.inboxId ?? opts.inboxIds[0],
        deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: input.deliveryIdentifier ?? '+15550100000' },
      });
      return { channelId: channel.id, channelAccountId: account.id };
    },
    customChannels: () => [...channels.values()],
    channelAccounts: () => [...channelAccountStore.values()],
    channelThreads: () => [...threadStore.values()],
    channelMessages(ref) {
      const all = [...channelMessageStore.values()];
      if (ref === undefined) return all;
      const thread = findThread(ref);
      return thread ? all.filter((m) => m.conversationsThreadId === thread.id) : [];
    },
    messageStatuses: (messageId) => statusLog.filter((u) => u.messageId === messageId),
    channelDeliveries: () => [...channelDeliveryLog],
    agentReply,
    contactsMatching(e164) {
      const country = countryOf(e164);
      return list('contacts').filter((c) =>
        ['phone', 'mobilephone', 'hs_whatsapp_phone_number'].some((f) => c.properties[f] && toE164(c.properties[f], country) === e164),
      ).length;
    },
  };
}
