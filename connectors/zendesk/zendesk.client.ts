/**
 * The only place that talks to Zendesk. node-zendesk builds the URLs, the Basic auth header and
 * the JSON bodies; every call goes through {@link ZendeskClient.call}, which spends the
 * connection's request budget, applies the per-request timeout and judges the HTTP exchange
 * itself, because node-zendesk's own reporting is unreliable:
 * - a 429 that carries Retry-After is *returned* as a result (an Error object), not thrown;
 * - statuses outside its table (502, 504, 413…) come back as ordinary results;
 * - without `throwOriginalException` a thrown error loses its status code;
 * - `getAll()` follows pagination and drops the response, so it is never used here.
 * A custom transport (global fetch + AbortSignal.timeout) records the raw status, headers and
 * body of each request in an AsyncLocalStorage scope that the wrapper reads afterwards.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable } from 'node:stream';
import { buffer as readStream } from 'node:stream/consumers';
import { createClient, type ZendeskClient as NodeZendeskClient } from 'node-zendesk';
import type { AttachmentDownload, ConnectorDeps } from '../_sdk/contract';
import { readCapped } from '../_sdk/download';
import { ConnectorError, isTransientNetworkCode, networkErrorCode, parseRetryAfter } from '../_sdk/errors';
import type {
  ZendeskAudit,
  ZendeskComment,
  ZendeskCursorPage,
  ZendeskErrorBody,
  ZendeskGroup,
  ZendeskId,
  ZendeskIdentity,
  ZendeskIdentityType,
  ZendeskTicket,
  ZendeskTicketCreateInput,
  ZendeskTicketUpdateInput,
  ZendeskTicketWithAudit,
  ZendeskTrigger,
  ZendeskTriggerInput,
  ZendeskUpload,
  ZendeskUser,
  ZendeskUserInput,
  ZendeskWebhook,
  ZendeskWebhookInput,
} from './zendesk.types';

export interface ZendeskClientConfig {
  /** `<origin>/api/v2` */
  apiRoot: string;
  email: string;
  apiToken: string;
}

/** What the wrapper learns about one HTTP exchange. */
interface Exchange {
  status: number;
  headers: Headers;
  body: unknown;
  response: Response;
  bodyRead: boolean;
}

interface CallScope {
  exchange?: Exchange;
  /** Overrides node-zendesk's `application/binary` for uploads, so Zendesk keeps the file's type. */
  contentType?: string;
}

interface NodeZendeskRequestOptions {
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

const scopes = new AsyncLocalStorage<CallScope>();

/** node-zendesk's resource clients all inherit this generic request method. */
type RawRequest = (method: string, uri: unknown[], body?: unknown) => Promise<unknown>;

/**
 * Thin typed wrapper over node-zendesk. Every method costs exactly one request of the budget
 * and throws only ConnectorError.
 */
export class ZendeskClient {
  private readonly nz: NodeZendeskClient;

  constructor(
    private readonly config: ZendeskClientConfig,
    private readonly deps: Pick<ConnectorDeps, 'budget' | 'timeoutMs' | 'logger' | 'http'>,
  ) {
    this.nz = createClient({
      username: config.email,
      token: config.apiToken,
      // `endpointUri` (not the pre-v3 `remoteUri`, which v6 silently ignores) points at the account or a fake.
      endpointUri: config.apiRoot,
      throwOriginalException: true,
      transportConfig: {
        transportFn: (uri: string, options: NodeZendeskRequestOptions) => this.send(uri, options),
        responseAdapter: (response: Response) => adapt(response),
      },
    });
  }

  // -------------------------------------------------------------------------------------------
  // Users

  /** GET /users/me: the API token's own user (id null when the credentials were not accepted). */
  async me(): Promise<ZendeskUser> {
    const body = await this.call<{ user: ZendeskUser }>('users.me', (nz) => nz.users.me());
    return body.user;
  }

  /** GET /users/search?external_id= (exact) or ?query= (search syntax, eventually consistent). First page only. */
  async searchUsers(params: { external_id: string } | { query: string }): Promise<ZendeskUser[]> {
    const body = await this.call<{ users?: ZendeskUser[] }>('users.search', (nz) => nz.users.get(['users', 'search', { ...params }]));
    return body.users ?? [];
  }

  async showUser(id: ZendeskId): Promise<ZendeskUser> {
    const body = await this.call<{ user: ZendeskUser }>('users.show', (nz) => nz.users.show(id));
    return body.user;
  }

  /** POST /users/create_or_update: matches an existing user by external_id or email. */
  async createOrUpdateUser(user: ZendeskUserInput): Promise<{ user: ZendeskUser; created: boolean }> {
    const { body, status } = await this.callWithStatus<{ user: ZendeskUser }>('users.create_or_update', (nz) =>
      nz.users.createOrUpdate({ user }),
    );
    return { user: body.user, created: status === 201 };
  }

  async updateUser(id: ZendeskId, user: Partial<ZendeskUserInput>): Promise<ZendeskUser> {
    const body = await this.call<{ user: ZendeskUser }>('users.update', (nz) => nz.users.update(id, { user }));
    return body.user;
  }

  async listIdentities(userId: ZendeskId): Promise<ZendeskIdentity[]> {
    const body = await this.call<{ identities?: ZendeskIdentity[] }>('identities.list', (nz) =>
      nz.useridentities.get(['users', userId, 'identities']),
    );
    return body.identities ?? [];
  }

  async addIdentity(userId: ZendeskId, identity: { type: ZendeskIdentityType; value: string }): Promise<ZendeskIdentity> {
    const body = await this.call<{ identity: ZendeskIdentity }>('identities.create', (nz) => nz.useridentities.create(userId, identity));
    return body.identity;
  }

  /** DELETE /users/{id}: soft delete. Resolves false when the user was not there. */
  async deleteUser(id: ZendeskId): Promise<boolean> {
    return this.ignoreNotFound(() => this.call('users.delete', (nz) => nz.users.delete(id)));
  }

  /** DELETE /deleted_users/{id}: permanent deletion of a soft-deleted user. False when not there. */
  async deleteDeletedUser(id: ZendeskId): Promise<boolean> {
    return this.ignoreNotFound(() =>
      this.call('deleted_users.delete', (nz) => (nz.users.request as unknown as RawRequest).call(nz.users, 'DELETE', ['deleted_users', id])),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Tickets

  async createTicket(ticket: ZendeskTicketCreateInput): Promise<ZendeskTicketWithAudit> {
    // node-zendesk's typing of the ticket body is narrower than the API (no `metadata`, `via_followup_source_id`).
    return this.call<ZendeskTicketWithAudit>('tickets.create', (nz) => nz.tickets.create({ ticket } as unknown as Parameters<typeof nz.tickets.create>[0]));
  }

  async showTicket(id: ZendeskId): Promise<ZendeskTicket> {
    const body = await this.call<{ ticket: ZendeskTicket }>('tickets.show', (nz) => nz.tickets.show(id));
    return body.ticket;
  }

  /** GET /tickets?external_id=: every ticket carrying that external id (first page). */
  async findTicketsByExternalId(externalId: string): Promise<ZendeskTicket[]> {
    const body = await this.call<{ tickets?: ZendeskTicket[] }>('tickets.list_by_external_id', (nz) =>
      nz.tickets.get(['tickets', { external_id: externalId }]),
    );
    return body.tickets ?? [];
  }

  /** PUT /tickets/{id}. Each call is one "ticket update" for Zendesk's per-ticket limit. */
  async updateTicket(id: ZendeskId, ticket: ZendeskTicketUpdateInput): Promise<ZendeskTicketWithAudit> {
    return this.call<ZendeskTicketWithAudit>('tickets.update', (nz) => nz.tickets.update(id, { ticket }));
  }

  /** PUT /tickets/{id}/tags: adds tags, keeping those the ticket has (Update Ticket's `tags` would replace them). */
  async addTicketTags(id: ZendeskId, tags: string[]): Promise<string[]> {
    const body = await this.call<{ tags?: string[] }>('tickets.tags.add', (nz) => (nz.tickets.request as unknown as RawRequest).call(nz.tickets, 'PUT', ['tickets', id, 'tags'], { tags }));
    return body?.tags ?? [];
  }

  /** DELETE /tickets/{id}/tags: takes these tags off, leaving the others. */
  async removeTicketTags(id: ZendeskId, tags: string[]): Promise<void> {
    await this.call('tickets.tags.remove', (nz) => (nz.tickets.request as unknown as RawRequest).call(nz.tickets, 'DELETE', ['tickets', id, 'tags'], { tags }));
  }

  // -------------------------------------------------------------------------------------------
  // Groups

  /** GET /groups, one cursor page (node-zendesk asks for 100 a page); `after` from the previous page. */
  async listGroups(after?: string): Promise<{ groups: ZendeskGroup[]; after?: string }> {
    const body = await this.call<{ groups?: ZendeskGroup[] } & ZendeskCursorPage>('groups.list', (nz) =>
      nz.groups.get(['groups', ...(after ? [{ page: { after } }] : [])]),
    );
    return { groups: body.groups ?? [], after: body.meta?.has_more && body.meta.after_cursor ? body.meta.after_cursor : undefined };
  }

  /** The ticket's most recent audits first (first page: up to 100). */
  async listRecentAudits(ticketId: ZendeskId): Promise<ZendeskAudit[]> {
    const body = await this.call<{ audits?: ZendeskAudit[] }>('ticket_audits.list', (nz) =>
      nz.ticketaudits.get(['tickets', ticketId, 'audits', { sort_order: 'desc' }]),
    );
    return body.audits ?? [];
  }

  /** The ticket's most recent comments first (first page: up to 100). */
  async listRecentComments(ticketId: ZendeskId): Promise<ZendeskComment[]> {
    const body = await this.call<{ comments?: ZendeskComment[] }>('ticket_comments.list', (nz) =>
      nz.tickets.get(['tickets', ticketId, 'comments', { sort_order: 'desc' }]),
    );
    return body.comments ?? [];
  }

  /** POST /uploads.json?filename= with the raw bytes; the token goes into `comment.uploads`. */
  async upload(filename: string, bytes: Buffer, contentType = 'application/octet-stream'): Promise<ZendeskUpload> {
    const body = await this.call<{ upload: ZendeskUpload }>(
      'uploads.create',
      (nz) => nz.attachments.requestUpload(['uploads', { filename }], Readable.from([bytes])),
      { contentType },
    );
    if (!body?.upload?.token) throw new ConnectorError('transient', 'Zendesk uploads.create returned no token');
    return body.upload;
  }

  /**
   * GET an attachment's content_url. Accounts that require authentication for attachments answer
   * only with the token's credentials, which are sent only to the account's own origin (the URL
   * comes from a webhook body; a redirect to a file host drops them, as fetch does across origins).
   * Stops reading past `maxBytes` (or at once when Content-Length says so) and answers too_large.
   */
  async downloadAttachment(url: string, maxBytes: number): Promise<AttachmentDownload> {
    const operation = 'attachments.download';
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new ConnectorError('invalid_request', `Zendesk ${operation}: the attachment URL is not a URL`);
    }
    if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new ConnectorError('invalid_request', `Zendesk ${operation}: the attachment URL is not http(s)`);
    const ownAccount = target.origin === new URL(this.config.apiRoot).origin;
    const headers: Record<string, string> = ownAccount
      ? { Authorization: `Basic ${Buffer.from(`${this.config.email}/token:${this.config.apiToken}`).toString('base64')}` }
      : {};
    await this.deps.budget.acquire();
    let response: Response;
    try {
      response = await this.deps.http.fetch(target, { headers, redirect: 'follow', signal: AbortSignal.timeout(downloadTimeoutMs(this.deps.timeoutMs)) });
    } catch (error) {
      throw toConnectorError({ operation, cause: error, timeoutMs: downloadTimeoutMs(this.deps.timeoutMs) });
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw toConnectorError({ operation, status: response.status, headers: response.headers });
    }
    try {
      return await readCapped(response, maxBytes);
    } catch (error) {
      throw toConnectorError({ operation, cause: error, timeoutMs: downloadTimeoutMs(this.deps.timeoutMs) });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Webhooks and triggers (set-up)

  async createWebhook(webhook: ZendeskWebhookInput): Promise<ZendeskWebhook> {
    const body = await this.call<{ webhook: ZendeskWebhook }>('webhooks.create', (nz) => nz.webhooks.create({ webhook }));
    return body.webhook;
  }

  async webhookSigningSecret(webhookId: string): Promise<string> {
    const body = await this.call<{ signing_secret: { secret: string } }>('webhooks.signing_secret', (nz) =>
      nz.webhooks.getSigningSecret(webhookId),
    );
    return body.signing_secret.secret;
  }

  async createTrigger(trigger: ZendeskTriggerInput): Promise<ZendeskTrigger> {
    const body = await this.call<{ trigger: ZendeskTrigger }>('triggers.create', (nz) => nz.triggers.create({ trigger }));
    return body.trigger;
  }

  // -------------------------------------------------------------------------------------------
  // The wrapper

  private async call<T>(operation: string, fn: (nz: NodeZendeskClient) => Promise<unknown>, scope: CallScope = {}): Promise<T> {
    return (await this.callWithStatus<T>(operation, fn, scope)).body;
  }

  private async callWithStatus<T>(
    operation: string,
    fn: (nz: NodeZendeskClient) => Promise<unknown>,
    scope: CallScope = {},
  ): Promise<{ status: number; body: T }> {
    await this.deps.budget.acquire();
    const started = Date.now();
    let thrown: unknown;
    try {
      await scopes.run(scope, () => fn(this.nz));
    } catch (error) {
      thrown = error;
    }
    const exchange = scope.exchange;
    // A body node-zendesk did not read (non-JSON error pages) would hold the connection open.
    if (exchange && !exchange.bodyRead) await exchange.response.body?.cancel().catch(() => undefined);
    this.deps.logger.debug('zendesk request', {
      operation,
      status: exchange?.status,
      ms: Date.now() - started,
    });

    if (!exchange) throw toConnectorError({ operation, cause: thrown, timeoutMs: this.deps.timeoutMs });
    if (exchange.status >= 400 || thrown !== undefined) {
      throw toConnectorError({
        operation,
        status: exchange.status,
        headers: exchange.headers,
        body: exchange.body,
        cause: thrown,
        timeoutMs: this.deps.timeoutMs,
      });
    }
    return { status: exchange.status, body: exchange.body as T };
  }

  private async ignoreNotFound(run: () => Promise<unknown>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (error) {
      if (ConnectorError.is(error) && error.kind === 'not_found') return false;
      throw error;
    }
  }

  /** node-zendesk's transport hook: plain fetch with the per-request timeout. */
  private async send(uri: string, options: NodeZendeskRequestOptions): Promise<Response> {
    const scope = scopes.getStore();
    const headers = { ...options.headers };
    let body = options.body as RequestInit['body'] | Readable;
    if (body instanceof Readable) {
      body = await readStream(body);
      if (scope?.contentType) headers['Content-Type'] = scope.contentType;
    }
    return this.deps.http.fetch(uri, {
      method: options.method,
      headers,
      body: body as RequestInit['body'],
      signal: AbortSignal.timeout(this.deps.timeoutMs),
    });
  }
}

/** A file of up to 100 MB takes longer than an API call: at least two minutes, more if the timeout is longer. */
function downloadTimeoutMs(timeoutMs: number): number {
  return Math.max(timeoutMs, 120_000);
}

/** node-zendesk's response hook: records the exchange in the caller's scope. */
function adapt(response: Response) {
  const exchange: Exchange = { status: response.status, headers: response.headers, body: undefined, response, bodyRead: false };
  const scope = scopes.getStore();
  if (scope) scope.exchange = exchange;
  return {
    status: response.status,
    statusText: response.statusText,
    headers: { get: (name: string) => response.headers.get(name) },
    json: async () => {
      exchange.bodyRead = true;
      const text = await response.text();
      exchange.body = text ? (JSON.parse(text) as unknown) : {};
      return exchange.body;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Error translation

export interface ZendeskFailure {
  operation: string;
  status?: number;
  headers?: { get(name: string): string | null };
  body?: unknown;
  cause?: unknown;
  timeoutMs?: number;
  now?: number;
}

/**
 * Translates any failure of a Zendesk call into a ConnectorError. The single place that knows
 * Zendesk's statuses:
 * 401/403 → auth; 429 → rate_limited (Retry-After); 404 → not_found; 409 (concurrent update of
 * a ticket) → transient; 422 → invalid_request, or conflict when a value "has already been
 * taken"; 400/413 → invalid_request; 408/5xx/timeouts/resets/unreadable bodies → transient;
 * anything else → permanent. Messages carry the operation, status and Zendesk's error code,
 * never the request or response body.
 */
export function toConnectorError(failure: ZendeskFailure): ConnectorError {
  const { operation, status, cause } = failure;
  const body = (failure.body ?? undefined) as ZendeskErrorBody | undefined;
  const code = errorCode(body);
  const what = `Zendesk ${operation}`;

  if (status === undefined || (status < 400 && cause !== undefined)) {
    const reason = describeTransportFailure(cause, failure.timeoutMs);
    if (reason.transient) return new ConnectorError('transient', `${what} failed: ${reason.text}`, { vendorStatus: status, cause });
    return new ConnectorError('permanent', `${what} failed: ${reason.text}`, { vendorStatus: status, cause });
  }

  const options = { vendorStatus: status, cause };
  const suffix = code ? ` (${code})` : '';
  if (status === 401 || status === 403) return new ConnectorError('auth', `${what} was refused: HTTP ${status}${suffix}`, options);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(failure.headers?.get('retry-after'), failure.now);
    return new ConnectorError('rate_limited', `${what} was rate limited: HTTP 429${suffix}`, { ...options, retryAfterMs });
  }
  if (status === 404 || status === 410) return new ConnectorError('not_found', `${what}: not found${suffix}`, options);
  if (status === 409) return new ConnectorError('transient', `${what}: concurrent update${suffix}`, options);
  if (status === 422) {
    const kind = saysTaken(body) ? 'conflict' : 'invalid_request';
    return new ConnectorError(kind, `${what} was refused: HTTP 422${suffix}${fieldList(body)}`, options);
  }
  if (status === 400 || status === 413) return new ConnectorError('invalid_request', `${what} was refused: HTTP ${status}${suffix}`, options);
  if (status === 408 || status >= 500) return new ConnectorError('transient', `${what} failed: HTTP ${status}${suffix}`, options);
  return new ConnectorError('permanent', `${what} failed: HTTP ${status}${suffix}`, options);
}

function errorCode(body: ZendeskErrorBody | undefined): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  if (typeof body.error === 'string') return body.error;
  if (body.error && typeof body.error === 'object') return body.error.title;
  return undefined;
}

/** Names the invalid fields (not their values, which may be personal data). */
function fieldList(body: ZendeskErrorBody | undefined): string {
  const fields = body?.details && typeof body.details === 'object' ? Object.keys(body.details) : [];
  return fields.length ? ` [${fields.join(', ')}]` : '';
}

/** Zendesk reports uniqueness violations as 422 details like "… has already been taken". */
function saysTaken(body: ZendeskErrorBody | undefined): boolean {
  const text = JSON.stringify(body?.details ?? body?.description ?? '');
  return /already (been )?taken|DuplicateValue|already exists/i.test(text);
}

function describeTransportFailure(cause: unknown, timeoutMs?: number): { transient: boolean; text: string } {
  const error = cause as { name?: string; message?: string; code?: string; cause?: { code?: string } } | undefined;
  if (!error) return { transient: true, text: 'no response' };
  if (error.name === 'TimeoutError' || error.name === 'AbortError')
    return { transient: true, text: `no response within ${timeoutMs ?? '?'} ms` };
  const code = networkErrorCode(error);
  if (isTransientNetworkCode(code)) return { transient: true, text: `network error ${code}` };
  if (error.name === 'SyntaxError') return { transient: true, text: 'unreadable response body' };
  if (error.name === 'TypeError' && /fetch failed|terminated/i.test(error.message ?? ''))
    return { transient: true, text: `network error${code ? ` ${code}` : ''}` };
  return { transient: false, text: error.name ?? 'unexpected error' };
}
