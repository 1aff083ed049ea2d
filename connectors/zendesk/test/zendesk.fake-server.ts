/**
 * An in-memory Zendesk Support for tests, the demo and benchmarks: plain node:http on 127.0.0.1,
 * the real node-zendesk client talks to it through `endpointUri` (= `fake.apiUrl`). It answers
 * like Zendesk on the endpoints threadbridge uses, with Zendesk's status codes and error bodies:
 *
 * - Auth: Basic `{email}/token:{apiToken}` or Bearer `{apiToken}`; else 401
 *   `{"error":"Couldn't authenticate you"}`.
 * - Users: GET /users/me; GET /users/search (`external_id=` exact, or `query=` in Zendesk's search
 *   syntax: space-separated terms that must all hold, of `phone:`, `role:`, `type:user`,
 *   `external_id:`, `email:` and free words; `phone:` takes digits only as Zendesk documents,
 *   `phone:*<digits>` matching the phone field or a phone_number identity typed in any punctuation,
 *   see phoneTermMatches; a keyword given twice → 400, since Zendesk does not document whether that
 *   means OR or AND); POST /users/create_or_update
 *   (201 created / 200 updated, matched by external_id, then email); POST /users; GET/PUT/DELETE
 *   /users/{id} (DELETE = soft delete); GET/POST /users/{id}/identities; GET/DELETE
 *   /deleted_users/{id} (permanent deletion).
 * - Tickets: POST /tickets (201 `{ticket, audit}`; a first comment is required, as in Zendesk);
 *   GET /tickets?external_id=; GET/PUT /tickets/{id} (PUT with a comment → 200 `{ticket, audit}`,
 *   comment `via.channel` = 'api'; `ticket.metadata` lands in `audit.metadata.custom`; closed
 *   tickets refuse updates; an end user's comment reopens a solved/pending ticket);
 *   GET /tickets/{id}/comments and /audits (`sort_order=desc`).
 * - Routing: GET /groups (cursor pages of `page[size]`, `page[after]`; seedGroup()); `group_id`
 *   and `assignee_id` on ticket create/update checked like Zendesk (an unknown group, or an
 *   assignee who is not an active agent, or not a member of the ticket's group → 422); PUT
 *   /tickets/{id}/tags adds tags and DELETE takes them off (204), both leaving the others, while
 *   Update Ticket's `tags` replaces them all. Tags are stored lowercase, as Zendesk does.
 * - Uploads: POST /uploads?filename= with raw bytes → 201 `{upload:{token, attachments}}`; an
 *   unknown or already used token in `comment.uploads` → 422. Files are served at content_url,
 *   to the API token's credentials only (option `publicAttachments` serves them to anyone).
 * - Webhooks/triggers: POST /webhooks, GET /webhooks/{id}/signing_secret, POST /triggers. A
 *   webhook created through the API (with a trigger that notifies it, for conditional ones)
 *   receives deliveries like one configured with `configureWebhook()`.
 * - Errors: 422 `{"error":"RecordInvalid","description":"Record validation errors","details":{…}}`,
 *   404 `{"error":"RecordNotFound","description":"Not found"}`.
 * - Limits: an account limit per minute (default 400) and the per-ticket update limit (default
 *   30 per 10 minutes) → 429 with Retry-After; every response carries X-Rate-Limit and
 *   X-Rate-Limit-Remaining.
 * - Faults: latency, `failNext(status)` (optionally for a path, several times), `hang(ms)`,
 *   search lag (`searchLagMs`: new users show up in `query=` searches late; `external_id=` is exact;
 *   `setSearchLag(ms)` at run time), and `resetAfterNextCreate()`: the next ticket create or
 *   comment (PUT with a comment) is carried out, then its connection is reset without an answer.
 * - The agent side: `agentComment(ticketId, {body, public, authorId})` records a comment made in
 *   Zendesk's agent UI and delivers the signed webhook exactly as Zendesk would
 *   (X-Zendesk-Webhook-Signature = base64 HMAC-SHA256(secret, timestamp + body)), either the
 *   `zen:event-type:ticket.comment_added` event or the trigger's JSON body. Comments written
 *   through the API by the API user never fire a webhook. Deliveries are logged in
 *   `webhookDeliveries`.
 * - Read-back: users(), identities(), tickets(), comments(), audits(), uploads(), requests.
 *
 * Everything lives in Maps; a few thousand objects and 500 webhook deliveries cost milliseconds.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { countryOf, toE164 } from '../../_sdk/phone';
import { TRIGGER_WEBHOOK_BODY } from '../zendesk.webhooks';

// ---------------------------------------------------------------------------------------------
// Records

export type FakeUserRole = 'end-user' | 'agent' | 'admin';

export interface FakeUser {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  external_id: string | null;
  role: FakeUserRole;
  active: boolean;
  created_at: string;
  updated_at: string;
  /** Internal: when the user becomes visible to `query=` searches (search lag). */
  searchableAt: number;
}

export interface FakeIdentity {
  id: number;
  user_id: number;
  type: string;
  value: string;
  verified: boolean;
  primary: boolean;
  created_at: string;
}

export type FakeTicketStatus = 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';

export interface FakeTicket {
  id: number;
  subject: string;
  description: string;
  status: FakeTicketStatus;
  requester_id: number;
  submitter_id: number;
  assignee_id: number | null;
  external_id: string | null;
  tags: string[];
  group_id: number | null;
  priority: string | null;
  custom_fields: { id: number; value: unknown }[];
  via: { channel: string };
  followup_source_id: number | null;
  created_at: string;
  updated_at: string;
}

export interface FakeGroup {
  id: number;
  name: string;
  deleted: boolean;
  /** Agents who belong to it (Zendesk's group memberships). */
  memberIds: number[];
  created_at: string;
  updated_at: string;
}

export interface FakeAttachment {
  id: number;
  file_name: string;
  content_url: string;
  content_type: string;
  size: number;
}

export interface FakeComment {
  id: number;
  type: 'Comment';
  author_id: number;
  body: string;
  html_body: string;
  plain_body: string;
  public: boolean;
  attachments: FakeAttachment[];
  via: { channel: string };
  created_at: string;
  metadata: { system: Record<string, unknown>; custom: Record<string, unknown> };
}

export interface FakeAuditEvent {
  id: number;
  type: string;
  [key: string]: unknown;
}

export interface FakeAudit {
  id: number;
  ticket_id: number;
  author_id: number;
  created_at: string;
  via: { channel: string };
  metadata: { system: Record<string, unknown>; custom: Record<string, unknown> };
  events: FakeAuditEvent[];
}

export interface FakeUpload {
  token: string;
  expires_at: string;
  attachments: FakeAttachment[];
  /** Set once a comment used the token. */
  usedBy?: number;
}

export interface FakeRequestLog {
  method: string;
  /** Path after /api/v2, without `.json`, e.g. `/tickets/12`. */
  path: string;
  query: Record<string, string>;
  status: number;
  at: Date;
  /** Parsed JSON body, or `{bytes}` for uploads. */
  body?: unknown;
}

export interface FakeWebhookTarget {
  id: string;
  url: string;
  secret: string;
  /** 'event': the comment_added event for every comment; 'trigger': our trigger's body for public agent comments. */
  mode: 'trigger' | 'event';
  /** Trigger mode: the JSON body template (default: the one threadbridge prescribes). */
  bodyTemplate?: string;
  /** Trigger mode: only tickets carrying this tag (default 'whatsapp'). */
  tag?: string;
}

export interface FakeWebhookDelivery {
  webhookId: string;
  url: string;
  mode: 'trigger' | 'event';
  ticketId: number;
  commentId: number;
  headers: Record<string, string>;
  body: string;
  attempts: number;
  /** The last answer's status, when there was one. */
  status?: number;
  error?: string;
  at: Date;
}

export interface ZendeskFakeOptions {
  email?: string;
  apiToken?: string;
  /** Only for URLs in responses. */
  subdomain?: string;
  /** Account limit per minute (Zendesk: 200 Team, 400 Professional, 700 Enterprise). 0 = none. Default 400. */
  requestsPerMinute?: number;
  /** Updates one ticket accepts per window (Zendesk: about 30 per 10 minutes). 0 = none. Default 30. */
  ticketUpdatesPerWindow?: number;
  ticketUpdateWindowMs?: number;
  latencyMs?: number;
  /** How long a new user stays invisible to `query=` searches. Default 0. */
  searchLagMs?: number;
  /** Where agent comments are delivered; more targets come from webhooks created through the API. */
  webhook?: Omit<FakeWebhookTarget, 'id'> & { id?: string };
  /** Event mode only: also deliver comments the API user wrote (real Zendesk does). Default false. */
  deliverApiComments?: boolean;
  /**
   * Serve attachments (content_url) to anyone. Default false: like an account with "Require
   * authentication to download attachments" on, they need the API token's credentials.
   */
  publicAttachments?: boolean;
  /** Delivery attempts on network errors, 409, 429 and 5xx. Default 3. */
  webhookMaxAttempts?: number;
  webhookRetryDelayMs?: number;
  now?: () => Date;
}

export interface FailSpec {
  times?: number;
  retryAfterSec?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Only requests whose path (after /api/v2, without .json) matches. */
  path?: string | RegExp;
  method?: string;
}

interface Fault {
  kind: 'fail' | 'hang';
  status: number;
  ms: number;
  spec: FailSpec;
  remaining: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

const notFound = (): HttpError => new HttpError(404, { error: 'RecordNotFound', description: 'Not found' });

/** 422 with Zendesk's validation shape; `details` maps field → [{description, error}]. */
export function recordInvalid(details: Record<string, { description: string; error: string }[]>): HttpError {
  return new HttpError(422, { error: 'RecordInvalid', description: 'Record validation errors', details });
}

const DEFAULT_ERROR_BODIES: Record<number, unknown> = {
  400: { error: 'InvalidEndpoint', description: 'Bad request' },
  401: { error: "Couldn't authenticate you" },
  403: { error: 'Forbidden', description: 'You do not have access to this page.' },
  404: { error: 'RecordNotFound', description: 'Not found' },
  409: { error: 'UpdateConflict', description: 'The ticket was updated by someone else. Try again.' },
  422: { error: 'RecordInvalid', description: 'Record validation errors', details: { base: [{ description: 'Invalid', error: 'InvalidValue' }] } },
  429: { error: 'TooManyRequests', description: 'Rate limit exceeded' },
  500: { error: 'InternalServerError', description: 'Something went wrong' },
  503: { error: 'ServiceUnavailable', description: 'Service temporarily unavailable' },
};

const STAFF: ReadonlySet<FakeUserRole> = new Set(['agent', 'admin']);

// ---------------------------------------------------------------------------------------------

export class ZendeskFake {
  readonly email: string;
  readonly apiToken: string;
  /** `http://127.0.0.1:PORT`: the credentials' baseUrl. */
  url = '';
  /** `http://127.0.0.1:PORT/api/v2`: node-zendesk's endpointUri. */
  apiUrl = '';
  /** The API token's user (an admin): what /users/me returns. */
  readonly apiUser: FakeUser;
  /** An agent who answers in the agent UI (agentComment's default author). */
  readonly agent: FakeUser;

  readonly requests: FakeRequestLog[] = [];
  readonly webhookDeliveries: FakeWebhookDelivery[] = [];

  private readonly server: http.Server;
  private readonly options: ZendeskFakeOptions;
  private readonly now: () => Date;
  private readonly usersById = new Map<number, FakeUser>();
  private readonly identitiesByUser = new Map<number, FakeIdentity[]>();
  private readonly ticketsById = new Map<number, FakeTicket>();
  private readonly groupsById = new Map<number, FakeGroup>();
  private readonly commentsByTicket = new Map<number, FakeComment[]>();
  private readonly auditsByTicket = new Map<number, FakeAudit[]>();
  private readonly uploadsByToken = new Map<string, FakeUpload>();
  private readonly files = new Map<string, { bytes: Buffer; contentType: string }>();
  private readonly webhookTargets: FakeWebhookTarget[] = [];
  private readonly apiWebhooks = new Map<string, { webhook: Record<string, unknown>; secret: string }>();
  private readonly triggersById = new Map<number, Record<string, unknown>>();
  private readonly faults: Fault[] = [];
  private readonly accountWindow: number[] = [];
  private readonly ticketUpdateWindows = new Map<number, number[]>();
  private readonly inFlightDeliveries = new Set<Promise<unknown>>();
  private resetsAfterCreate = 0;
  private requestsPerMinute: number;
  private ticketUpdatesPerWindow: number;
  private readonly ticketUpdateWindowMs: number;
  private latencyMs: number;
  private seq = { group: 20_000_000, user: 1_000_000, identity: 3_000_000, ticket: 0, comment: 5_000_000, audit: 7_000_000, attachment: 9_000_000, event: 11_000_000, trigger: 13_000_000 };

  constructor(options: ZendeskFakeOptions = {}) {
    this.options = { ...options };
    this.now = options.now ?? (() => new Date());
    this.email = options.email ?? 'threadbridge@example.com';
    this.apiToken = options.apiToken ?? 'zendesk-test-token';
    this.requestsPerMinute = options.requestsPerMinute ?? 400;
    this.ticketUpdatesPerWindow = options.ticketUpdatesPerWindow ?? 30;
    this.ticketUpdateWindowMs = options.ticketUpdateWindowMs ?? 10 * 60_000;
    this.latencyMs = options.latencyMs ?? 0;
    this.apiUser = this.insertUser({ name: 'threadbridge API', email: this.email, role: 'admin' });
    this.agent = this.insertUser({ name: 'Agent Smith', email: 'agent.smith@example.com', role: 'agent' });
    if (options.webhook) this.configureWebhook(options.webhook);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1_000;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.url}/api/v2`;
    return this;
  }

  /** Stops the server (hung requests included) after pending webhook deliveries settle. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlightDeliveries]);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Plain credentials JSON for a connection to this fake. */
  credentials(extra: Record<string, string> = {}): { email: string; apiToken: string; baseUrl: string; webhookSecret?: string } {
    const secret = this.webhookTargets[0]?.secret;
    return { email: this.email, apiToken: this.apiToken, baseUrl: this.url, ...(secret ? { webhookSecret: secret } : {}), ...extra };
  }

  // -------------------------------------------------------------------------------------------
  // Faults and limits

  /** The next matching request (or `times` of them) is answered with `status`. */
  failNext(status = 500, spec: FailSpec = {}): void {
    this.faults.push({ kind: 'fail', status, ms: 0, spec, remaining: spec.times ?? 1 });
  }

  /** The next matching request gets no answer for `ms` (then an ordinary one, if anyone still listens). */
  hang(ms: number, spec: Pick<FailSpec, 'path' | 'method' | 'times'> = {}): void {
    this.faults.push({ kind: 'hang', status: 0, ms, spec, remaining: spec.times ?? 1 });
  }

  /** Users created or updated from now on reach `query=` searches `ms` later. */
  setSearchLag(ms: number): void {
    this.options.searchLagMs = ms;
  }

  /**
   * The next `times` writes that create a comment (POST /tickets, PUT /tickets/{id} with a
   * comment) are carried out, then their connection is reset without an answer.
   */
  resetAfterNextCreate(times = 1): void {
    this.resetsAfterCreate += times;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  setRateLimit(requestsPerMinute: number): void {
    this.requestsPerMinute = requestsPerMinute;
    this.accountWindow.length = 0;
  }

  setTicketUpdateLimit(perWindow: number): void {
    this.ticketUpdatesPerWindow = perWindow;
    this.ticketUpdateWindows.clear();
  }

  /** Adds (or, with the same id, replaces) a webhook target for agent comments. Returns its id. */
  configureWebhook(target: Omit<FakeWebhookTarget, 'id'> & { id?: string }): string {
    const id = target.id ?? `01FAKE${randomBytes(10).toString('hex').toUpperCase()}`;
    const index = this.webhookTargets.findIndex((t) => t.id === id);
    const full: FakeWebhookTarget = { ...target, id };
    if (index >= 0) this.webhookTargets[index] = full;
    else this.webhookTargets.push(full);
    return id;
  }

  removeWebhooks(): void {
    this.webhookTargets.length = 0;
  }

  // -------------------------------------------------------------------------------------------
  // Read-back

  requestCount(): number {
    return this.requests.length;
  }

  /** Requests whose method and path match, e.g. `fake.requestsTo('PUT', /^\/tickets\/\d+$/)`. */
  requestsTo(method: string, path: string | RegExp): FakeRequestLog[] {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  /** Every user that was not permanently deleted (soft-deleted ones have active: false). */
  users(): FakeUser[] {
    return [...this.usersById.values()];
  }

  user(id: number | string): FakeUser | undefined {
    return this.usersById.get(Number(id));
  }

  endUsers(): FakeUser[] {
    return this.users().filter((u) => u.role === 'end-user');
  }

  identities(userId: number | string): FakeIdentity[] {
    return [...(this.identitiesByUser.get(Number(userId)) ?? [])];
  }

  tickets(): FakeTicket[] {
    return [...this.ticketsById.values()];
  }

  ticket(id: number | string): FakeTicket | undefined {
    return this.ticketsById.get(Number(id));
  }

  /** The ticket's comments, oldest first (the first one is the description). */
  comments(ticketId: number | string): FakeComment[] {
    return [...(this.commentsByTicket.get(Number(ticketId)) ?? [])];
  }

  audits(ticketId: number | string): FakeAudit[] {
    return [...(this.auditsByTicket.get(Number(ticketId)) ?? [])];
  }

  uploads(): FakeUpload[] {
    return [...this.uploadsByToken.values()];
  }

  /** The bytes behind an attachment's content_url. */
  attachmentBytes(attachment: Pick<FakeAttachment, 'content_url'>): Buffer | undefined {
    const token = /\/attachments\/token\/([^/]+)/.exec(attachment.content_url)?.[1];
    return token ? this.files.get(token)?.bytes : undefined;
  }

  webhooks(): Record<string, unknown>[] {
    return [...this.apiWebhooks.values()].map((w) => w.webhook);
  }

  triggers(): Record<string, unknown>[] {
    return [...this.triggersById.values()];
  }

  /** Comments on any ticket whose body contains `text` (a coalesced comment counts once). */
  recordsContaining(text: string): number {
    return [...this.commentsByTicket.values()].flat().filter((c) => c.body.includes(text)).length;
  }

  /** Active users whose phone field or phone identities hold `e164` in any format. */
  contactsMatching(e164: string): number {
    const country = countryOf(e164);
    const holds = (value: string | null | undefined) => !!value && toE164(value, country) === e164;
    return this.users().filter(
      (u) => u.active && (holds(u.phone) || this.identities(u.id).some((i) => i.type === 'phone_number' && holds(i.value))),
    ).length;
  }

  // -------------------------------------------------------------------------------------------
  // Seeds and agent actions

  /** An end user (or agent) as an agent would have typed it in, e.g. `{ phone: '601 234 567' }`. */
  seedUser(input: Partial<Pick<FakeUser, 'name' | 'email' | 'phone' | 'external_id' | 'role'>> & { identities?: { type: string; value: string }[] } = {}): FakeUser {
    const user = this.insertUser({ name: input.name ?? 'Seeded Customer', ...input });
    for (const identity of input.identities ?? []) this.insertIdentity(user.id, identity.type, identity.value);
    return user;
  }

  /** A group of agents as an admin creates it; `members` may be assigned its tickets. */
  seedGroup(name: string, members: FakeUser[] = []): FakeGroup {
    const now = iso(this.now());
    const group: FakeGroup = { id: ++this.seq.group, name, deleted: false, memberIds: members.map((m) => m.id), created_at: now, updated_at: now };
    this.groupsById.set(group.id, group);
    return group;
  }

  /** An agent (who can be assigned tickets), a member of `groups`. */
  seedAgent(input: { name?: string; email: string }, groups: FakeGroup[] = []): FakeUser {
    const agent = this.seedUser({ name: input.name ?? input.email, email: input.email, role: 'agent' });
    for (const group of groups) group.memberIds.push(agent.id);
    return agent;
  }

  groups(): FakeGroup[] {
    return [...this.groupsById.values()];
  }

  /** Conformance hook: an end user whose phone field holds `formatted` as typed. */
  seedContactWithPhone(formatted: string): string {
    return String(this.seedUser({ phone: formatted }).id);
  }

  /** Sets a ticket's status as an agent would (e.g. 'solved'), optionally back-dating updated_at. */
  setTicketStatus(ticketId: number | string, status: FakeTicketStatus, options: { updatedAt?: Date } = {}): FakeTicket {
    const ticket = this.ticketsById.get(Number(ticketId));
    if (!ticket) throw new Error(`no ticket ${ticketId}`);
    ticket.status = status;
    ticket.updated_at = iso(options.updatedAt ?? this.now());
    return ticket;
  }

  /**
   * An agent comments in Zendesk's UI (or an end user by email: pass their authorId). Records the
   * comment and, for each webhook target, delivers the signed webhook as Zendesk would. Resolves
   * when the deliveries are done.
   */
  async agentComment(
    ticketId: number | string,
    input: { body: string; public?: boolean; authorId?: number; attachments?: { filename: string; contentType?: string; bytes?: Buffer }[] },
  ): Promise<{ comment: FakeComment; deliveries: FakeWebhookDelivery[] }> {
    const ticket = this.ticketsById.get(Number(ticketId));
    if (!ticket) throw new Error(`no ticket ${ticketId}`);
    const author = this.usersById.get(input.authorId ?? this.agent.id);
    if (!author) throw new Error(`no user ${input.authorId}`);
    const attachments = (input.attachments ?? []).map((a) => this.storeFile(a.filename, a.contentType ?? 'application/octet-stream', a.bytes ?? Buffer.from(a.filename)).attachments[0]);
    const { comment } = this.addComment(ticket, {
      authorId: author.id,
      updaterId: author.id,
      body: input.body,
      isPublic: input.public ?? true,
      attachments,
      channel: 'web',
      custom: {},
      changes: {},
    });
    const deliveries = await this.deliver(ticket, comment, author, 'web');
    return { comment, deliveries };
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const route = url.pathname.replace(/^\/api\/v2/, '').replace(/\.json$/, '') || '/';
    const query = Object.fromEntries(url.searchParams.entries());
    const log: FakeRequestLog = { method, path: route, query, status: 0, at: this.now() };
    this.requests.push(log);

    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      log.status = status;
      if (res.destroyed) return;
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'X-Rate-Limit': String(this.requestsPerMinute || 100_000),
        'X-Rate-Limit-Remaining': String(Math.max(0, (this.requestsPerMinute || 100_000) - this.accountWindow.length)),
        ...headers,
      });
      res.end(text);
    };

    try {
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      const fault = this.takeFault(method, route);
      if (fault?.kind === 'hang') await sleep(fault.ms);
      if (res.destroyed) {
        log.status = -1;
        return;
      }

      // Attachment downloads (content_url): private unless publicAttachments, as accounts can choose.
      const download = /^\/attachments\/token\/([^/]+)\/?$/.exec(url.pathname);
      if (method === 'GET' && download) {
        if (!this.options.publicAttachments && !this.authenticated(req.headers.authorization)) return send(401, DEFAULT_ERROR_BODIES[401]);
        const file = this.files.get(download[1]);
        if (!file) return send(404, DEFAULT_ERROR_BODIES[404]);
        log.status = 200;
        res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': String(file.bytes.length) });
        res.end(file.bytes);
        return;
      }

      if (fault?.kind === 'fail') {
        const headers = { ...(fault.spec.headers ?? {}) };
        if (fault.status === 429) headers['Retry-After'] = String(fault.spec.retryAfterSec ?? 60);
        else if (fault.spec.retryAfterSec !== undefined) headers['Retry-After'] = String(fault.spec.retryAfterSec);
        return send(fault.status, fault.spec.body ?? DEFAULT_ERROR_BODIES[fault.status] ?? { error: 'Error' }, headers);
      }
      if (!this.authenticated(req.headers.authorization)) return send(401, DEFAULT_ERROR_BODIES[401]);
      const limited = this.accountLimit();
      if (limited) return send(429, DEFAULT_ERROR_BODIES[429], limited);

      const isUpload = method === 'POST' && route === '/uploads';
      let body: unknown;
      if (isUpload) body = { bytes: raw.length };
      else if (raw.length) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return send(400, { error: 'InvalidJSON', description: 'The request body is not valid JSON' });
        }
      }
      log.body = body;
      const { status, body: out, headers } = this.route(method, route, query, (body ?? {}) as Record<string, unknown>, raw, req);
      const wroteComment = (method === 'POST' && route === '/tickets') || (method === 'PUT' && /^\/tickets\/\d+$/.test(route) && !!(body as { ticket?: { comment?: unknown } } | undefined)?.ticket?.comment);
      if (wroteComment && status < 300 && this.resetsAfterCreate > 0) {
        // The comment exists now; the client hears only a reset.
        this.resetsAfterCreate -= 1;
        log.status = -1;
        req.socket.destroy();
        return;
      }
      send(status, out, headers);
    } catch (error) {
      if (error instanceof HttpError) return send(error.status, error.body, error.headers);
      send(500, { error: 'InternalServerError', description: error instanceof Error ? error.message : String(error) });
    }
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const index = this.faults.findIndex(
      (f) =>
        (!f.spec.method || f.spec.method.toUpperCase() === method) &&
        (!f.spec.path || (typeof f.spec.path === 'string' ? f.spec.path === path : f.spec.path.test(path))),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private authenticated(header: string | undefined): boolean {
    if (!header) return false;
    const [scheme, value] = header.split(' ', 2);
    if (scheme === 'Bearer') return value === this.apiToken;
    if (scheme !== 'Basic' || !value) return false;
    return Buffer.from(value, 'base64').toString('utf8') === `${this.email}/token:${this.apiToken}`;
  }

  /** Sliding one-minute window over accepted requests; the 429 says when a slot frees up. */
  private accountLimit(): Record<string, string> | undefined {
    if (!this.requestsPerMinute) return undefined;
    const now = this.now().getTime();
    while (this.accountWindow.length && this.accountWindow[0] <= now - 60_000) this.accountWindow.shift();
    if (this.accountWindow.length >= this.requestsPerMinute) {
      const retryAfter = Math.max(1, Math.ceil((this.accountWindow[0] + 60_000 - now) / 1000));
      return { 'Retry-After': String(retryAfter), 'X-Rate-Limit': String(this.requestsPerMinute), 'X-Rate-Limit-Remaining': '0' };
    }
    this.accountWindow.push(now);
    return undefined;
  }

  private route(
    method: string,
    path: string,
    query: Record<string, string>,
    body: Record<string, unknown>,
    raw: Buffer,
    req: http.IncomingMessage,
  ): { status: number; body: unknown; headers?: Record<string, string> } {
    const ok = (out: unknown, status = 200) => ({ status, body: out });
    let m: RegExpExecArray | null;

    if (method === 'GET' && path === '/users/me') return ok({ user: this.publicUser(this.apiUser) });
    if (method === 'GET' && path === '/users/search') return ok(this.searchUsers(query));
    if (method === 'POST' && path === '/users/create_or_update') return this.createOrUpdateUser(body);
    if (method === 'POST' && path === '/users') return ok({ user: this.publicUser(this.createUser(userInput(body))) }, 201);
    if ((m = /^\/users\/(\d+)$/.exec(path))) {
      const user = this.usersById.get(Number(m[1]));
      if (!user) throw notFound();
      if (method === 'GET') return ok({ user: this.publicUser(user) });
      if (method === 'PUT') return ok({ user: this.publicUser(this.updateUser(user, userInput(body))) });
      if (method === 'DELETE') {
        if (!user.active) throw notFound();
        user.active = false;
        user.updated_at = iso(this.now());
        return ok({ user: this.publicUser(user) });
      }
    }
    if ((m = /^\/users\/(\d+)\/identities$/.exec(path))) {
      const user = this.usersById.get(Number(m[1]));
      if (!user || !user.active) throw notFound();
      if (method === 'GET') {
        const identities = this.identities(user.id);
        return ok({ identities, count: identities.length, next_page: null, previous_page: null });
      }
      if (method === 'POST') {
        const input = (body.identity ?? body) as { type?: string; value?: string };
        if (!input.type || !['email', 'phone_number', 'twitter', 'facebook', 'google', 'agent_forwarding', 'sdk'].includes(input.type)) {
          throw recordInvalid({ type: [{ description: 'Type: is invalid', error: 'InvalidValue' }] });
        }
        if (!input.value) throw recordInvalid({ value: [{ description: 'Value: cannot be blank', error: 'BlankValue' }] });
        if (this.identities(user.id).some((i) => i.type === input.type && i.value === input.value)) {
          throw recordInvalid({ value: [{ description: `Value: ${input.value} has already been taken`, error: 'DuplicateValue' }] });
        }
        return ok({ identity: this.insertIdentity(user.id, input.type, input.value) }, 201);
      }
    }
    if ((m = /^\/deleted_users\/(\d+)$/.exec(path))) {
      const user = this.usersById.get(Number(m[1]));
      if (!user || user.active) throw notFound();
      if (method === 'GET') return ok({ deleted_user: this.publicUser(user) });
      if (method === 'DELETE') {
        this.usersById.delete(user.id);
        this.identitiesByUser.delete(user.id);
        return ok({ deleted_user: { ...this.publicUser(user), name: 'Permanently Deleted User', email: null, phone: null, external_id: null } });
      }
    }

    if (method === 'POST' && path === '/tickets') return ok(this.createTicket(asRecord(body.ticket)), 201);
    if (method === 'GET' && path === '/tickets') {
      let tickets = this.tickets();
      if (query.external_id !== undefined) tickets = tickets.filter((t) => t.external_id === query.external_id);
      return ok({ tickets, count: tickets.length, next_page: null, previous_page: null, meta: { has_more: false, after_cursor: null, before_cursor: null }, links: { next: null, prev: null } });
    }
    if ((m = /^\/tickets\/(\d+)$/.exec(path))) {
      const ticket = this.ticketsById.get(Number(m[1]));
      if (!ticket) throw notFound();
      if (method === 'GET') return ok({ ticket });
      if (method === 'PUT') {
        const limited = this.ticketUpdateLimit(ticket.id);
        if (limited) return { status: 429, body: { error: 'TooManyRequests', description: 'Too many updates to this ticket. Try again later.' }, headers: limited };
        return ok(this.updateTicket(ticket, asRecord(body.ticket)));
      }
    }
    if ((m = /^\/tickets\/(\d+)\/tags$/.exec(path)) && (method === 'PUT' || method === 'DELETE' || method === 'GET')) {
      const ticket = this.ticketsById.get(Number(m[1]));
      if (!ticket) throw notFound();
      if (method === 'GET') return ok({ tags: ticket.tags });
      if (ticket.status === 'closed') throw recordInvalid({ status: [{ description: 'Status: closed prevents ticket update', error: 'ClosedTicket' }] });
      const limited = this.ticketUpdateLimit(ticket.id);
      if (limited) return { status: 429, body: { error: 'TooManyRequests', description: 'Too many updates to this ticket. Try again later.' }, headers: limited };
      if (!Array.isArray(body.tags)) throw new HttpError(400, { error: 'InvalidEndpoint', description: 'tags must be an array' });
      const given = normaliseTags(body.tags);
      const before = ticket.tags;
      ticket.tags = method === 'PUT' ? [...new Set([...before, ...given])] : before.filter((t) => !given.includes(t));
      if (ticket.tags.join(' ') !== before.join(' ')) {
        this.addComment(ticket, { authorId: this.apiUser.id, updaterId: this.apiUser.id, isPublic: false, attachments: [], channel: 'api', custom: {}, changes: { tags: [before, ticket.tags] } });
        this.recordTicketUpdate(ticket.id);
      }
      return method === 'PUT' ? ok({ tags: ticket.tags }) : { status: 204, body: undefined };
    }
    if (method === 'GET' && path === '/groups') {
      const size = Math.min(Number(query['page[size]'] ?? 100) || 100, 100);
      const live = this.groups().filter((g) => !g.deleted);
      const start = query['page[after]'] ? live.findIndex((g) => String(g.id) === query['page[after]']) + 1 : 0;
      const page = live.slice(start, start + size);
      const hasMore = start + size < live.length;
      const groups = page.map(({ memberIds: _members, ...g }) => ({ ...g, url: `${this.apiUrl}/groups/${g.id}.json` }));
      return ok({ groups, meta: { has_more: hasMore, after_cursor: hasMore ? String(page.at(-1)!.id) : null, before_cursor: null }, links: { next: null, prev: null } });
    }
    if ((m = /^\/tickets\/(\d+)\/(comments|audits)$/.exec(path)) && method === 'GET') {
      const ticketId = Number(m[1]);
      if (!this.ticketsById.has(ticketId)) throw notFound();
      const items = m[2] === 'comments' ? this.comments(ticketId) : this.audits(ticketId);
      if (query.sort_order === 'desc') items.reverse();
      return ok({ [m[2]]: items.slice(0, 100), count: items.length, next_page: null, previous_page: null });
    }

    if (method === 'POST' && path === '/uploads') {
      const filename = query.filename;
      if (!filename) throw recordInvalid({ filename: [{ description: 'Filename: cannot be blank', error: 'BlankValue' }] });
      const contentType = String(req.headers['content-type'] ?? 'application/binary');
      const upload = this.storeFile(filename, contentType === 'application/binary' ? 'application/octet-stream' : contentType, raw, query.token);
      return ok({ upload: { token: upload.token, expires_at: upload.expires_at, attachments: upload.attachments, attachment: upload.attachments.at(-1) } }, 201);
    }

    if (method === 'POST' && path === '/webhooks') return ok({ webhook: this.createWebhook(asRecord(body.webhook)) }, 201);
    if ((m = /^\/webhooks\/([^/]+)\/signing_secret$/.exec(path)) && method === 'GET') {
      const hook = this.apiWebhooks.get(m[1]);
      if (!hook) throw notFound();
      return ok({ signing_secret: { algorithm: 'SHA256', secret: hook.secret } });
    }
    if (method === 'POST' && path === '/triggers') return ok({ trigger: this.createTrigger(asRecord(body.trigger)) }, 201);

    throw new HttpError(404, { error: 'InvalidEndpoint', description: 'Not found' });
  }

  // -------------------------------------------------------------------------------------------
  // Users

  private insertUser(input: Partial<Pick<FakeUser, 'name' | 'email' | 'phone' | 'external_id' | 'role'>>): FakeUser {
    const now = this.now();
    const user: FakeUser = {
      id: ++this.seq.user,
      name: input.name ?? 'Unnamed',
      email: input.email ?? null,
      phone: input.phone ?? null,
      external_id: input.external_id ?? null,
      role: input.role ?? 'end-user',
      active: true,
      created_at: iso(now),
      updated_at: iso(now),
      searchableAt: now.getTime() + (this.options.searchLagMs ?? 0),
    };
    this.usersById.set(user.id, user);
    if (user.email) this.insertIdentity(user.id, 'email', user.email);
    return user;
  }

  private insertIdentity(userId: number, type: string, value: string): FakeIdentity {
    const list = this.identitiesByUser.get(userId) ?? [];
    const identity: FakeIdentity = { id: ++this.seq.identity, user_id: userId, type, value, verified: type !== 'email', primary: !list.some((i) => i.type === type), created_at: iso(this.now()) };
    list.push(identity);
    this.identitiesByUser.set(userId, list);
    return identity;
  }

  private publicUser(user: FakeUser): Omit<FakeUser, 'searchableAt'> & { url: string } {
    const { searchableAt: _hidden, ...visible } = user;
    return { ...visible, url: `${this.apiUrl}/users/${user.id}.json` };
  }

  private searchUsers(query: Record<string, string>): unknown {
    const active = this.users().filter((u) => u.active);
    let found: FakeUser[];
    if (query.external_id !== undefined) {
      found = active.filter((u) => u.external_id === query.external_id);
    } else {
      const now = this.now().getTime();
      const visible = active.filter((u) => u.searchableAt <= now);
      const q = (query.query ?? '').trim();
      const terms = searchTerms(q);
      if (terms.some((t) => t.key)) {
        const keys = terms.flatMap((t) => (t.key ? [t.key] : []));
        const repeated = keys.find((key, i) => keys.indexOf(key) !== i);
        if (repeated) {
          // Zendesk's search reference does not say whether `phone:a phone:b` means a OR b or a AND b.
          throw new HttpError(400, { error: 'InvalidQuery', description: `fake Zendesk: "${repeated}:" appears twice; what Zendesk does with that is not documented` });
        }
        found = visible.filter((u) => terms.every((t) => this.matchesTerm(u, t)));
      } else {
        const text = q.toLowerCase();
        found = text ? visible.filter((u) => [u.name, u.email, u.phone].some((f) => f?.toLowerCase().includes(text))) : [];
      }
    }
    const users = found.map((u) => this.publicUser(u));
    return { users, count: users.length, next_page: null, previous_page: null };
  }

  /**
   * One term of a users search, as Zendesk documents it: `phone:<digits>` / `phone:*<digits>` (see
   * {@link phoneTermMatches}), `role:`, `type:user`, `external_id:`, `email:` exact; a word without a
   * keyword is looked for in name, email and phone.
   */
  private matchesTerm(user: FakeUser, term: SearchTerm): boolean {
    const value = term.value;
    const identities = this.identities(user.id);
    switch (term.key) {
      case undefined: {
        const word = value.toLowerCase();
        return [user.name, user.email, user.phone].some((f) => f?.toLowerCase().includes(word));
      }
      case 'phone':
        return [user.phone, ...identities.filter((i) => i.type === 'phone_number').map((i) => i.value)].some((stored) => phoneTermMatches(value, stored));
      case 'role':
        return user.role === value.toLowerCase();
      case 'type':
        return value.toLowerCase() === 'user';
      case 'external_id':
        return user.external_id === value;
      case 'email':
        return user.email?.toLowerCase() === value.toLowerCase() || identities.some((i) => i.type === 'email' && i.value.toLowerCase() === value.toLowerCase());
      default:
        throw new HttpError(400, { error: 'InvalidQuery', description: `fake Zendesk: the users search keyword "${term.key}:" is not modelled` });
    }
  }

  private createUser(input: UserInput): FakeUser {
    if (!input.name?.trim()) throw recordInvalid({ name: [{ description: 'Name: cannot be blank', error: 'BlankValue' }] });
    if (input.external_id && this.users().some((u) => u.external_id === input.external_id)) {
      throw recordInvalid({ external_id: [{ description: `External ID: ${input.external_id} has already been taken`, error: 'DuplicateValue' }] });
    }
    const user = this.insertUser({ name: input.name, email: input.email, phone: input.phone, external_id: input.external_id, role: input.role });
    for (const identity of input.identities ?? []) {
      if (!this.identities(user.id).some((i) => i.type === identity.type && i.value === identity.value)) this.insertIdentity(user.id, identity.type, identity.value);
    }
    return user;
  }

  private updateUser(user: FakeUser, input: UserInput): FakeUser {
    if (input.external_id && this.users().some((u) => u.id !== user.id && u.external_id === input.external_id)) {
      throw recordInvalid({ external_id: [{ description: `External ID: ${input.external_id} has already been taken`, error: 'DuplicateValue' }] });
    }
    if (input.name !== undefined) user.name = input.name;
    if (input.email !== undefined) user.email = input.email;
    if (input.phone !== undefined) user.phone = input.phone;
    if (input.external_id !== undefined) user.external_id = input.external_id;
    if (input.role !== undefined) user.role = input.role;
    for (const identity of input.identities ?? []) {
      if (!this.identities(user.id).some((i) => i.type === identity.type && i.value === identity.value)) this.insertIdentity(user.id, identity.type, identity.value);
    }
    user.updated_at = iso(this.now());
    return user;
  }

  private createOrUpdateUser(body: Record<string, unknown>): { status: number; body: unknown } {
    const input = userInput(body);
    const existing =
      (input.external_id && this.users().find((u) => u.active && u.external_id === input.external_id)) ||
      (input.email && this.users().find((u) => u.active && u.email?.toLowerCase() === input.email!.toLowerCase())) ||
      undefined;
    if (existing) return { status: 200, body: { user: this.publicUser(this.updateUser(existing, input)) } };
    return { status: 201, body: { user: this.publicUser(this.createUser(input)) } };
  }

  // -------------------------------------------------------------------------------------------
  // Tickets

  private createTicket(input: Record<string, unknown>): { ticket: FakeTicket; audit: FakeAudit } {
    const comment = asRecord(input.comment);
    const bodyText = typeof comment.body === 'string' ? comment.body : typeof comment.html_body === 'string' ? comment.html_body : '';
    if (!bodyText.trim() && !(Array.isArray(comment.uploads) && comment.uploads.length)) {
      throw recordInvalid({ description: [{ description: 'Description: cannot be blank', error: 'BlankValue' }] });
    }
    const requesterId = Number(input.requester_id ?? this.apiUser.id);
    const requester = this.usersById.get(requesterId);
    if (!requester || !requester.active) throw recordInvalid({ requester: [{ description: 'Requester: is invalid', error: 'InvalidValue' }] });
    const uploads = this.claimUploads(comment.uploads);
    const followUp = input.via_followup_source_id !== undefined ? this.ticketsById.get(Number(input.via_followup_source_id)) : undefined;
    const status = (typeof input.status === 'string' ? input.status : 'new') as FakeTicketStatus;
    const priority = input.priority ?? null;
    if (priority !== null && !['low', 'normal', 'high', 'urgent'].includes(String(priority))) {
      throw recordInvalid({ priority: [{ description: 'Priority: is invalid', error: 'InvalidValue' }] });
    }
    const groupId = input.group_id !== undefined && input.group_id !== null ? Number(input.group_id) : null;
    const assigneeId = input.assignee_id !== undefined && input.assignee_id !== null ? Number(input.assignee_id) : null;
    this.checkAssignment(groupId, assigneeId);
    const now = iso(this.now());
    const ticket: FakeTicket = {
      id: ++this.seq.ticket,
      subject: typeof input.subject === 'string' && input.subject ? input.subject : bodyText.slice(0, 80),
      description: bodyText,
      status,
      requester_id: requesterId,
      submitter_id: this.apiUser.id,
      assignee_id: assigneeId,
      external_id: typeof input.external_id === 'string' ? input.external_id : null,
      tags: Array.isArray(input.tags) ? normaliseTags(input.tags) : followUp ? [...followUp.tags] : [],
      group_id: groupId,
      priority: priority === null ? null : String(priority),
      custom_fields: Array.isArray(input.custom_fields) ? (input.custom_fields as { id: number; value: unknown }[]) : [],
      via: { channel: 'api' },
      followup_source_id: followUp?.status === 'closed' ? followUp.id : null,
      created_at: now,
      updated_at: now,
    };
    this.ticketsById.set(ticket.id, ticket);
    const { audit } = this.addComment(ticket, {
      authorId: comment.author_id !== undefined ? Number(comment.author_id) : this.apiUser.id,
      updaterId: this.apiUser.id,
      body: bodyText,
      isPublic: comment.public !== false,
      attachments: uploads,
      channel: 'api',
      custom: asRecord(input.metadata),
      changes: {},
      created: true,
    });
    this.deliverApiComment(ticket, audit);
    return { ticket, audit };
  }

  private updateTicket(ticket: FakeTicket, input: Record<string, unknown>): { ticket: FakeTicket; audit: FakeAudit } {
    if (ticket.status === 'closed') throw recordInvalid({ status: [{ description: 'Status: closed prevents ticket update', error: 'ClosedTicket' }] });
    const changes: Record<string, [unknown, unknown]> = {};
    if (typeof input.status === 'string' && input.status !== ticket.status) {
      if (!['new', 'open', 'pending', 'hold', 'solved', 'closed'].includes(input.status)) {
        throw recordInvalid({ status: [{ description: 'Status: is invalid', error: 'InvalidValue' }] });
      }
      changes.status = [ticket.status, input.status];
    }
    if (input.priority !== undefined && input.priority !== null && !['low', 'normal', 'high', 'urgent'].includes(String(input.priority))) {
      throw recordInvalid({ priority: [{ description: 'Priority: is invalid', error: 'InvalidValue' }] });
    }
    if (input.group_id !== undefined || input.assignee_id !== undefined) {
      const groupId = input.group_id !== undefined ? (input.group_id === null ? null : Number(input.group_id)) : ticket.group_id;
      let assigneeId = input.assignee_id !== undefined ? (input.assignee_id === null ? null : Number(input.assignee_id)) : ticket.assignee_id;
      // Moved to a group its assignee is not in, without a new assignee: Zendesk unassigns it.
      if (input.assignee_id === undefined && assigneeId !== null && groupId !== null && !this.groupsById.get(groupId)?.memberIds.includes(assigneeId)) assigneeId = null;
      this.checkAssignment(groupId, assigneeId);
      if (groupId !== ticket.group_id) changes.group_id = [ticket.group_id, groupId];
      if (assigneeId !== ticket.assignee_id) changes.assignee_id = [ticket.assignee_id, assigneeId];
    }
    for (const field of ['subject', 'priority'] as const) {
      if (input[field] !== undefined && input[field] !== ticket[field]) changes[field] = [ticket[field], input[field]];
    }
    if (Array.isArray(input.tags)) changes.tags = [ticket.tags, normaliseTags(input.tags)];

    const comment = input.comment === undefined ? undefined : asRecord(input.comment);
    let attachments: FakeAttachment[] = [];
    if (comment) {
      const text = typeof comment.body === 'string' ? comment.body : typeof comment.html_body === 'string' ? comment.html_body : '';
      if (!text.trim() && !(Array.isArray(comment.uploads) && comment.uploads.length)) {
        throw recordInvalid({ comment: [{ description: 'Comment: cannot be blank', error: 'BlankValue' }] });
      }
      if (comment.author_id !== undefined && !this.usersById.get(Number(comment.author_id))?.active) {
        throw recordInvalid({ author_id: [{ description: 'Author: is invalid', error: 'InvalidValue' }] });
      }
      attachments = this.claimUploads(comment.uploads);
    }

    for (const [field, [, next]] of Object.entries(changes)) (ticket as unknown as Record<string, unknown>)[field] = next;
    const { audit } = this.addComment(ticket, {
      authorId: comment?.author_id !== undefined ? Number(comment.author_id) : this.apiUser.id,
      updaterId: this.apiUser.id,
      body: comment ? String(comment.body ?? comment.html_body ?? '') : undefined,
      isPublic: comment ? comment.public !== false : false,
      attachments,
      channel: 'api',
      custom: asRecord(input.metadata),
      changes,
    });
    this.recordTicketUpdate(ticket.id);
    this.deliverApiComment(ticket, audit);
    return { ticket, audit };
  }

  /** Zendesk's checks of a ticket's group and assignee: both must exist, the assignee be an active agent of the group. */
  private checkAssignment(groupId: number | null, assigneeId: number | null): void {
    const group = groupId !== null ? this.groupsById.get(groupId) : undefined;
    if (groupId !== null && (!group || group.deleted)) throw recordInvalid({ group: [{ description: 'Group: is invalid', error: 'InvalidValue' }] });
    if (assigneeId === null) return;
    const assignee = this.usersById.get(assigneeId);
    if (!assignee || !assignee.active || assignee.role === 'end-user') throw recordInvalid({ assignee: [{ description: 'Assignee: is invalid', error: 'InvalidValue' }] });
    if (group && !group.memberIds.includes(assigneeId)) {
      throw recordInvalid({ assignee: [{ description: 'Assignee: is not a member of the group', error: 'InvalidValue' }] });
    }
  }

  /**
   * Records an update: optional comment + field changes → one audit. An end user's public comment
   * reopens a pending/solved ticket, as in Zendesk.
   */
  private addComment(
    ticket: FakeTicket,
    input: {
      authorId: number;
      updaterId: number;
      body?: string;
      isPublic: boolean;
      attachments: FakeAttachment[];
      channel: string;
      custom: Record<string, unknown>;
      changes: Record<string, [unknown, unknown]>;
      created?: boolean;
    },
  ): { comment: FakeComment; audit: FakeAudit } {
    const now = iso(this.now());
    const events: FakeAuditEvent[] = [];
    let comment: FakeComment | undefined;
    if (input.body !== undefined) {
      comment = {
        id: ++this.seq.comment,
        type: 'Comment',
        author_id: input.authorId,
        body: input.body,
        html_body: `<div class="zd-comment"><p>${escapeHtml(input.body).replace(/\n/g, '<br>')}</p></div>`,
        plain_body: input.body,
        public: input.isPublic,
        attachments: input.attachments,
        via: { channel: input.channel },
        created_at: now,
        metadata: { system: { client: 'threadbridge-fake' }, custom: input.custom },
      };
      const list = this.commentsByTicket.get(ticket.id) ?? [];
      list.push(comment);
      this.commentsByTicket.set(ticket.id, list);
      events.push({ id: comment.id, type: 'Comment', author_id: comment.author_id, body: comment.body, html_body: comment.html_body, public: comment.public, attachments: comment.attachments });
      const author = this.usersById.get(input.authorId);
      if (!input.created && author?.id === ticket.requester_id && comment.public && (ticket.status === 'pending' || ticket.status === 'solved')) {
        input.changes.status = [ticket.status, 'open'];
        ticket.status = 'open';
      }
    }
    if (input.created) {
      for (const [field, value] of Object.entries({ status: ticket.status, subject: ticket.subject, requester_id: ticket.requester_id, tags: ticket.tags, priority: ticket.priority })) {
        events.push({ id: ++this.seq.event, type: 'Create', field_name: field, value });
      }
    }
    for (const [field, [previous, value]] of Object.entries(input.changes)) {
      events.push({ id: ++this.seq.event, type: 'Change', field_name: field, value, previous_value: previous });
    }
    ticket.updated_at = now;
    const audit: FakeAudit = {
      id: ++this.seq.audit,
      ticket_id: ticket.id,
      author_id: input.updaterId,
      created_at: now,
      via: { channel: input.channel },
      metadata: { system: { client: 'threadbridge-fake' }, custom: input.custom },
      events,
    };
    const audits = this.auditsByTicket.get(ticket.id) ?? [];
    audits.push(audit);
    this.auditsByTicket.set(ticket.id, audits);
    return { comment: comment ?? ({} as FakeComment), audit };
  }

  private ticketUpdateLimit(ticketId: number): Record<string, string> | undefined {
    if (!this.ticketUpdatesPerWindow) return undefined;
    const now = this.now().getTime();
    const window = (this.ticketUpdateWindows.get(ticketId) ?? []).filter((t) => t > now - this.ticketUpdateWindowMs);
    this.ticketUpdateWindows.set(ticketId, window);
    if (window.length < this.ticketUpdatesPerWindow) return undefined;
    const retryAfter = Math.max(1, Math.ceil((window[0] + this.ticketUpdateWindowMs - now) / 1000));
    return { 'Retry-After': String(retryAfter) };
  }

  private recordTicketUpdate(ticketId: number): void {
    const window = this.ticketUpdateWindows.get(ticketId) ?? [];
    window.push(this.now().getTime());
    this.ticketUpdateWindows.set(ticketId, window);
  }

  // -------------------------------------------------------------------------------------------
  // Uploads

  private storeFile(filename: string, contentType: string, bytes: Buffer, existingToken?: string): FakeUpload {
    let upload = existingToken ? this.uploadsByToken.get(existingToken) : undefined;
    if (existingToken && !upload) throw notFound();
    if (!upload) {
      upload = { token: randomBytes(12).toString('hex'), expires_at: iso(new Date(this.now().getTime() + 3 * 86_400_000)), attachments: [] };
      this.uploadsByToken.set(upload.token, upload);
    }
    const fileKey = `${upload.token}-${upload.attachments.length}`;
    this.files.set(fileKey, { bytes, contentType });
    upload.attachments.push({
      id: ++this.seq.attachment,
      file_name: filename,
      content_url: `${this.url}/attachments/token/${fileKey}/?name=${encodeURIComponent(filename)}`,
      content_type: contentType,
      size: bytes.length,
    });
    return upload;
  }

  private claimUploads(tokens: unknown): FakeAttachment[] {
    if (tokens === undefined) return [];
    if (!Array.isArray(tokens)) throw recordInvalid({ uploads: [{ description: 'Uploads: must be a list of tokens', error: 'InvalidValue' }] });
    const uploads = tokens.map((token) => this.uploadsByToken.get(String(token)));
    if (uploads.some((u) => !u || u.usedBy !== undefined)) {
      throw recordInvalid({ uploads: [{ description: 'Uploads: contains an invalid or already used token', error: 'InvalidValue' }] });
    }
    return uploads.flatMap((u) => {
      u!.usedBy = this.seq.comment + 1;
      return u!.attachments;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Webhooks

  private createWebhook(input: Record<string, unknown>): Record<string, unknown> {
    for (const field of ['name', 'endpoint', 'http_method', 'request_format', 'status', 'subscriptions']) {
      if (input[field] === undefined) throw new HttpError(400, { errors: [{ code: 'InvalidInput', title: `${field} is required` }] });
    }
    const id = `01FAKE${randomBytes(10).toString('hex').toUpperCase()}`;
    const webhook = { id, ...input, created_at: iso(this.now()) };
    const secret = randomBytes(24).toString('base64');
    this.apiWebhooks.set(id, { webhook, secret });
    const subscriptions = input.subscriptions as string[];
    if (subscriptions.includes('zen:event-type:ticket.comment_added')) {
      this.configureWebhook({ id, url: String(input.endpoint), secret, mode: 'event' });
    }
    return webhook;
  }

  private createTrigger(input: Record<string, unknown>): Record<string, unknown> {
    if (!input.title || !input.conditions || !Array.isArray(input.actions)) {
      throw recordInvalid({ base: [{ description: 'Title, conditions and actions are required', error: 'BlankValue' }] });
    }
    const trigger = { id: ++this.seq.trigger, active: true, ...input, created_at: iso(this.now()) };
    this.triggersById.set(trigger.id, trigger);
    for (const action of input.actions as { field?: string; value?: unknown }[]) {
      if (action.field !== 'notification_webhook' || !Array.isArray(action.value)) continue;
      const [webhookId, template] = action.value as [string, string];
      const hook = this.apiWebhooks.get(webhookId);
      if (!hook) throw recordInvalid({ actions: [{ description: `Webhook ${webhookId} does not exist`, error: 'InvalidValue' }] });
      const conditions = asRecord(input.conditions).all as { field?: string; value?: string }[] | undefined;
      const tag = conditions?.find((c) => c.field === 'current_tags')?.value;
      this.configureWebhook({ id: webhookId, url: String(hook.webhook.endpoint), secret: hook.secret, mode: 'trigger', bodyTemplate: template, tag });
    }
    return trigger;
  }

  /** Event mode with `deliverApiComments`: comments written through the API are delivered too (not awaited). */
  private deliverApiComment(ticket: FakeTicket, audit: FakeAudit): void {
    if (!this.options.deliverApiComments) return;
    const event = audit.events.find((e) => e.type === 'Comment');
    const comment = event ? this.comments(ticket.id).find((c) => c.id === event.id) : undefined;
    const author = comment ? this.usersById.get(comment.author_id) : undefined;
    if (comment && author) void this.deliver(ticket, comment, author, 'api');
  }

  /** Delivers `comment` to every target that would fire for it; resolves with the deliveries. */
  private async deliver(ticket: FakeTicket, comment: FakeComment, author: FakeUser, channel: string): Promise<FakeWebhookDelivery[]> {
    const byApiUser = author.id === this.apiUser.id || channel === 'api';
    const targets = this.webhookTargets.filter((target) => {
      if (target.mode === 'event') return !byApiUser || this.options.deliverApiComments === true;
      // The trigger: update by staff, public comment, not via the API, ticket tagged.
      return comment.public && STAFF.has(author.role) && !byApiUser && ticket.tags.includes(target.tag ?? 'whatsapp');
    });
    const work = Promise.all(targets.map((target) => this.deliverTo(target, ticket, comment, author)));
    this.inFlightDeliveries.add(work);
    try {
      return await work;
    } finally {
      this.inFlightDeliveries.delete(work);
    }
  }

  private async deliverTo(target: FakeWebhookTarget, ticket: FakeTicket, comment: FakeComment, author: FakeUser): Promise<FakeWebhookDelivery> {
    const body = target.mode === 'event' ? JSON.stringify(this.commentAddedEvent(ticket, comment, author)) : renderTriggerBody(target.bodyTemplate ?? TRIGGER_WEBHOOK_BODY, ticket, comment, author);
    const delivery: FakeWebhookDelivery = {
      webhookId: target.id,
      url: target.url,
      mode: target.mode,
      ticketId: ticket.id,
      commentId: comment.id,
      headers: {},
      body,
      attempts: 0,
      at: this.now(),
    };
    this.webhookDeliveries.push(delivery);
    const maxAttempts = this.options.webhookMaxAttempts ?? 3;
    const invocationId = String(Date.now()) + String(Math.floor(Math.random() * 1000));
    while (delivery.attempts < maxAttempts) {
      delivery.attempts += 1;
      const timestamp = iso(this.now());
      delivery.headers = {
        'content-type': 'application/json',
        'user-agent': 'Zendesk Webhook',
        'x-zendesk-account-id': '12345',
        'x-zendesk-webhook-id': target.id,
        'x-zendesk-webhook-invocation-id': invocationId,
        'x-zendesk-webhook-signature-timestamp': timestamp,
        'x-zendesk-webhook-signature': createHmac('sha256', target.secret).update(timestamp + body).digest('base64'),
      };
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(target.url, { method: 'POST', headers: delivery.headers, body, signal: AbortSignal.timeout(10_000) });
        delivery.status = response.status;
        delivery.error = undefined;
        await response.arrayBuffer().catch(() => undefined);
        // Zendesk retries 409, 429 and 5xx; any other answer ends the invocation.
        if (response.status < 300 || (![409, 429].includes(response.status) && response.status < 500)) break;
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000;
      } catch (error) {
        delivery.error = error instanceof Error ? error.message : String(error);
      }
      if (delivery.attempts < maxAttempts) await sleep(Math.min(retryAfterMs ?? this.options.webhookRetryDelayMs ?? 100, 5_000));
    }
    return delivery;
  }

  /** `zen:event-type:ticket.comment_added`, as Zendesk's event webhooks send it (ids as strings). */
  private commentAddedEvent(ticket: FakeTicket, comment: FakeComment, author: FakeUser): Record<string, unknown> {
    return {
      account_id: 12345,
      detail: {
        actor_id: String(author.id),
        assignee_id: ticket.assignee_id === null ? null : String(ticket.assignee_id),
        brand_id: '360000000001',
        created_at: ticket.created_at,
        custom_status: null,
        description: ticket.description,
        external_id: ticket.external_id,
        form_id: '360000000002',
        group_id: ticket.group_id === null ? null : String(ticket.group_id),
        id: String(ticket.id),
        is_public: true,
        organization_id: null,
        priority: ticket.priority?.toUpperCase() ?? null,
        requester_id: String(ticket.requester_id),
        status: ticket.status.toUpperCase(),
        subject: ticket.subject,
        submitter_id: String(ticket.submitter_id),
        tags: ticket.tags,
        type: null,
        updated_at: ticket.updated_at,
        via: { channel: ticket.via.channel },
      },
      event: {
        comment: {
          author: { id: String(author.id), is_staff: STAFF.has(author.role), name: author.name },
          body: comment.body,
          id: String(comment.id),
          is_public: comment.public,
        },
      },
      id: randomUUID(),
      subject: `zen:ticket:${ticket.id}`,
      time: iso(this.now()),
      type: 'zen:event-type:ticket.comment_added',
      zendesk_event_version: '2022-11-06',
    };
  }
}

/** Starts a fake Zendesk on 127.0.0.1 (random port). Close it with `await fake.close()`. */
export async function startZendeskFake(options: ZendeskFakeOptions = {}): Promise<ZendeskFake> {
  return new ZendeskFake(options).listen();
}

// ---------------------------------------------------------------------------------------------
// Helpers

interface UserInput {
  name?: string;
  email?: string;
  phone?: string;
  external_id?: string;
  role?: FakeUserRole;
  identities?: { type: string; value: string }[];
}

function userInput(body: Record<string, unknown>): UserInput {
  const user = asRecord(body.user);
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const role = text(user.role);
  return {
    name: text(user.name),
    email: text(user.email),
    phone: text(user.phone),
    external_id: user.external_id === undefined || user.external_id === null ? undefined : String(user.external_id),
    role: role === 'agent' || role === 'admin' || role === 'end-user' ? role : undefined,
    identities: Array.isArray(user.identities)
      ? (user.identities as { type?: unknown; value?: unknown }[]).filter((i) => typeof i?.type === 'string' && typeof i?.value === 'string').map((i) => ({ type: String(i.type), value: String(i.value) }))
      : undefined,
  };
}

/**
 * Renders a trigger body template the way Zendesk does for the placeholders threadbridge uses:
 * `{{ticket.*}}`, `{{ticket.latest_comment.*}}`, `{{current_user.*}}`, and the attachments loop.
 * Values are JSON-escaped (they sit inside JSON strings); unknown placeholders render empty.
 */
export function renderTriggerBody(template: string, ticket: FakeTicket, comment: FakeComment, author: FakeUser): string {
  const esc = (value: unknown) => JSON.stringify(value === null || value === undefined ? '' : String(value)).slice(1, -1);
  const values: Record<string, unknown> = {
    'ticket.id': ticket.id,
    'ticket.external_id': ticket.external_id,
    'ticket.title': ticket.subject,
    'ticket.status': ticket.status,
    'ticket.requester.id': ticket.requester_id,
    'ticket.latest_comment.id': comment.id,
    'ticket.latest_comment.author.id': comment.author_id,
    'ticket.latest_comment.author.name': author.name,
    'ticket.latest_comment.value': comment.body,
    'ticket.latest_comment.is_public': comment.public,
    'current_user.id': author.id,
    'current_user.name': author.name,
  };
  const loop = /\{%\s*for (\w+) in ticket\.latest_comment\.attachments\s*%\}([\s\S]*?)\{%\s*endfor\s*%\}/g;
  const withLoops = template.replace(loop, (_, name: string, inner: string) =>
    comment.attachments
      .map((a, i) =>
        inner
          .replace(/\{%\s*unless forloop\.first\s*%\}([\s\S]*?)\{%\s*endunless\s*%\}/g, (__, sep: string) => (i === 0 ? '' : sep))
          .replace(new RegExp(`\\{\\{\\s*${name}\\.(url|filename)\\s*\\}\\}`, 'g'), (___, field: string) => esc(field === 'url' ? a.content_url : a.file_name)),
      )
      .join(''),
  );
  return withLoops.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, key: string) => esc(values[key]));
}

/** Tags as Zendesk stores them: lowercase, a space splitting one into two. */
function normaliseTags(tags: unknown[]): string[] {
  return [...new Set(tags.flatMap((t) => String(t).toLowerCase().split(/\s+/)).filter(Boolean))];
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Zendesk's timestamps: ISO 8601 without milliseconds. */
function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Unref'd, so a hung request never keeps the process alive after close(). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// Users search syntax

interface SearchTerm {
  key?: string;
  value: string;
}

/** `role:end-user phone:*5135557611 "Anna Nowak"` → its terms; every term must hold. */
function searchTerms(query: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  for (const m of query.matchAll(/(?:([a-z_]+):)?(?:"([^"]*)"|(\S+))/gi)) terms.push({ key: m[1]?.toLowerCase(), value: m[2] ?? m[3] ?? '' });
  return terms;
}

/**
 * Zendesk's documented phone search: the number in digits only (no '+', spaces, dashes or
 * parentheses); `phone:*<digits>`, with a leading asterisk, finds it in whatever format it was typed
 * ("+1 513.555.7611", "(513) 555-7611", "513-555-7611" for `phone:*5135557611`), i.e. the stored
 * number's digits end with them; `phone:<digits>` needs all of its digits. A value in any other form
 * finds nothing here: what Zendesk answers to it is not documented.
 */
export function phoneTermMatches(value: string, stored: string | null | undefined): boolean {
  const term = /^(\*?)(\d+)$/.exec(value);
  if (!term || !stored) return false;
  const digits = stored.replace(/\D/g, '');
  return term[1] ? digits.endsWith(term[2]) : digits === term[2];
}
