/**
 * The only place that talks to `@hubspot/api-client`. Every call goes through {@link HubspotClient.call}:
 * spend the connection's request budget, run the SDK call under deps.timeoutMs, translate any
 * failure in {@link toConnectorError}. The SDK's own retries and throttling are switched off:
 * the core retries by error kind and throttles with the budget it shares across workers.
 */
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import type { Duplex } from 'node:stream';
import { Client } from '@hubspot/api-client';
import type { AttachmentDownload, ConnectorDeps, HttpPort } from '../_sdk/contract';
import { readCapped } from '../_sdk/download';
import { ConnectorError, isTransientNetworkCode, kindForHttpStatus, parseRetryAfter, redactPhoneNumbers, type ConnectorErrorKind } from '../_sdk/errors';
import { HUBSPOT_DEFAULT_BASE_URL, type HubspotCredentials } from './hubspot.credentials';
import type {
  HubspotBatchResult,
  HubspotChannelAccount,
  HubspotChannelAccountInput,
  HubspotChannelMessage,
  HubspotChannelMessageInput,
  HubspotChannelStatusUpdate,
  HubspotCreateInput,
  HubspotCustomChannel,
  HubspotCustomChannelInput,
  HubspotFile,
  HubspotObject,
  HubspotObjectType,
  HubspotPropertyDefinition,
  HubspotSearchPage,
  HubspotSearchRequest,
} from './hubspot.types';

/**
 * The custom channels API (v3). HubSpot's reference names this path for every custom channel call,
 * the registration included (`POST /conversations/v3/custom-channels?hapikey=…&appId=…`).
 */
export const CUSTOM_CHANNELS_PATH = '/conversations/v3/custom-channels';

/** Folder of the Files API where media and transcripts are uploaded. */
export const FILES_FOLDER = '/threadbridge/whatsapp';

/**
 * Spacing between two searches of one portal from this process. HubSpot allows about 5 searches
 * per second per account on top of the ten-second limit and answers more with a 429 that fails the
 * whole operation; a lookup of 100 customers takes several searches in a row. 250 ms (4/s) leaves
 * room for requests that leave on time but arrive bunched up.
 */
export const SEARCH_SPACING_MS = 250;

/** How long a signed file URL lives: enough to fetch the file at once. */
const SIGNED_URL_SECONDS = 300;
/** A file of up to 100 MB takes longer than an API call. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** HubSpot answers 429 for its per-second search limit with this message and no Retry-After. */
const SECONDLY_LIMIT_MESSAGE = /secondly limit/i;
const DAILY_LIMIT_MESSAGE = /daily limit/i;

// ---------------------------------------------------------------------------------------------
// Error translation

interface SdkHttpError {
  code: number;
  body?: { message?: string; category?: string; correlationId?: string } | string;
  headers?: Record<string, string>;
}

/** An HTTP failure of a raw `apiRequest`, in the shape the SDK's typed calls throw. */
class RawHttpError extends Error implements SdkHttpError {
  constructor(
    readonly code: number,
    readonly body: SdkHttpError['body'],
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP ${code}`);
  }
}

function isSdkHttpError(err: unknown): err is SdkHttpError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && 'headers' in err;
}

/**
 * Translates anything the SDK (or the network under it) throws into a ConnectorError.
 * - HTTP errors by status: 401/403 auth, 404 not_found, 409 conflict, 429 rate_limited (delay
 *   from Retry-After; else 1 s for the search "secondly" limit, the window length for the ten-second
 *   limit, an hour for the daily limit), 423 (record locked by a concurrent write) and 5xx transient,
 *   other 4xx invalid_request.
 * - Network failures and timeouts: transient. Anything else: permanent.
 */
export function toConnectorError(err: unknown, operation: string): ConnectorError {
  if (ConnectorError.is(err)) return err;
  if (isSdkHttpError(err)) {
    const status = err.code;
    const body = typeof err.body === 'object' && err.body !== null ? err.body : {};
    const headers = Object.fromEntries(Object.entries(err.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const vendorMessage = body.message ?? (typeof err.body === 'string' ? err.body : '');
    let kind: ConnectorErrorKind = kindForHttpStatus(status);
    if (status === 423) kind = 'transient';
    let retryAfterMs: number | undefined;
    if (status === 429) {
      retryAfterMs =
        parseRetryAfter(headers['retry-after']) ??
        (SECONDLY_LIMIT_MESSAGE.test(vendorMessage)
          ? 1_000
          : DAILY_LIMIT_MESSAGE.test(vendorMessage)
            ? 3_600_000
            : Number(headers['x-hubspot-ratelimit-interval-milliseconds']) || 10_000);
    }
    const detail = [body.category, redactPhoneNumbers(vendorMessage), body.correlationId && `correlationId ${body.correlationId}`].filter(Boolean).join(': ');
    return new ConnectorError(kind, `HubSpot ${operation} failed with HTTP ${status}${detail ? ` (${detail})` : ''}`, {
      vendorStatus: status,
      retryAfterMs,
      cause: err,
    });
  }
  const code = (err as { code?: unknown; errno?: unknown })?.code ?? (err as { errno?: unknown })?.errno;
  const name = (err as { name?: string })?.name;
  if (isTransientNetworkCode(code) || name === 'FetchError' || name === 'AbortError') {
    return new ConnectorError('transient', `HubSpot ${operation} failed: network error${typeof code === 'string' ? ` ${code}` : ''}`, { cause: err });
  }
  return new ConnectorError('permanent', `HubSpot ${operation} failed: ${redactPhoneNumbers(err instanceof Error ? err.message : String(err))}`, { cause: err });
}

// ---------------------------------------------------------------------------------------------
// Transport: sockets that give up, error bodies the SDK can read

/**
 * Destroys a socket after `idleMs` without traffic, so a request HubSpot never answers frees its
 * socket (node-fetch, under the SDK, has no timeout of its own).
 */
function idleTimeout(idleMs: number): (socket: Duplex) => Duplex {
  return (socket) => {
    (socket as unknown as { setTimeout(ms: number, cb: () => void): void }).setTimeout(idleMs, () => socket.destroy(new Error(`socket idle for ${idleMs} ms`)));
    return socket;
  };
}

/** When each portal may search next (portalKey → epoch ms), shared by the clients of a process. */
const nextSearchAt = new Map<string, number>();

/** Waits for the portal's next search slot and books it (slots are handed out in call order). */
async function searchSlot(portalKey: string): Promise<void> {
  const now = Date.now();
  if (nextSearchAt.size > 1_000) for (const [key, at] of nextSearchAt) if (at < now) nextSearchAt.delete(key);
  const at = Math.max(now, nextSearchAt.get(portalKey) ?? 0);
  nextSearchAt.set(portalKey, at + SEARCH_SPACING_MS);
  if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
}

/** The keep-alive agent for `baseUrl` from the core's network port (it caches one per protocol and timeout). */
function agentFor(http: HttpPort, baseUrl: string, idleMs: number): Agent {
  return http.agent(new URL(baseUrl).protocol, { keepAlive: true, maxSockets: 32 }, idleTimeout(idleMs), `idle-${idleMs}`);
}

interface SdkResponseContext {
  httpStatusCode: number;
  headers: Record<string, string>;
  body: { text(): Promise<string>; binary(): Promise<Buffer> };
}

interface SdkRequestContext {
  setAgent(agent: Agent): void;
}

/** Sends every request through our agent (sockets that give up; keep-alive). */
function agentMiddleware(agent: Agent) {
  return {
    pre: async (raw: unknown): Promise<unknown> => {
      (raw as SdkRequestContext).setAgent(agent);
      return raw;
    },
    post: async (ctx: unknown): Promise<unknown> => ctx,
  };
}

/**
 * The SDK parses error bodies by Content-Type and throws a plain Error, losing the HTTP status,
 * when a gateway answers HTML or an empty body (e.g. a 502 from the edge). Rewrite such bodies
 * into HubSpot's JSON error shape so every HTTP failure reaches toConnectorError with its status.
 */
const errorBodyMiddleware = {
  pre: async (ctx: unknown): Promise<unknown> => ctx,
  post: async (raw: unknown): Promise<unknown> => {
    const ctx = raw as SdkResponseContext;
    if (ctx.httpStatusCode < 400) return ctx;
    const text = await ctx.body.text();
    let jsonText = text;
    const contentType = Object.entries(ctx.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
    let parsed = false;
    if (contentType.includes('json')) {
      try {
        JSON.parse(text);
        parsed = true;
      } catch {
        parsed = false;
      }
    }
    if (!parsed) {
      jsonText = JSON.stringify({ status: 'error', message: text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200) || `HTTP ${ctx.httpStatusCode}`, category: 'NON_JSON_ERROR' });
      for (const key of Object.keys(ctx.headers)) if (key.toLowerCase() === 'content-type') delete ctx.headers[key];
      ctx.headers['content-type'] = 'application/json';
    }
    ctx.body = { text: async () => jsonText, binary: async () => Buffer.from(jsonText) };
    return ctx;
  },
};

function withTimeout<T>(promise: Promise<T>, ms: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectorError('transient', `HubSpot ${operation} timed out after ${ms} ms`)), ms);
  });
  // The SDK call cannot be cancelled; its late failure must not surface as unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------

type SdkObject = { id: string; properties: Record<string, string | null>; createdAt?: Date; updatedAt?: Date; archived?: boolean };
const toObject = (o: SdkObject): HubspotObject => ({ id: String(o.id), properties: o.properties ?? {}, createdAt: o.createdAt, updatedAt: o.updatedAt, archived: o.archived });

type SdkBatchResponse = { results: SdkObject[]; errors?: { category: string; message: string; status: string }[] };
/** A batch answer; the failed inputs' messages lose anything that looks like a phone number (they end up in logs). */
const toBatchResult = (response: SdkBatchResponse): HubspotBatchResult => ({
  results: response.results.map(toObject),
  errors: (Array.isArray(response.errors) ? response.errors : []).map((e) => ({ category: e.category, message: e.message === undefined ? undefined : redactPhoneNumbers(e.message), status: e.status })),
});

export class HubspotClient {
  private readonly sdk: Client;
  /**
   * Per-call SDK options. @hubspot/api-client 13.5 ignores the `httpAgent` and `middleware` given
   * to `new Client()` (its generated APIs apply only call-time middleware), so both go here, and
   * every call passes them as its last argument. 'append' keeps the SDK's own User-Agent header.
   */
  private readonly callOptions: never;
  readonly baseUrl: string;
  /** Identifies the portal + token without holding the token, for per-portal caches. */
  readonly portalKey: string;
  private readonly accessToken: string;

  constructor(
    credentials: HubspotCredentials,
    private readonly deps: ConnectorDeps,
  ) {
    this.baseUrl = (credentials.baseUrl ?? HUBSPOT_DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.accessToken = credentials.accessToken;
    this.portalKey = `${this.baseUrl}#${createHash('sha256').update(credentials.accessToken).digest('hex').slice(0, 16)}`;
    this.sdk = new Client({
      accessToken: credentials.accessToken,
      basePath: this.baseUrl,
      // Counts attempts, not retries: 1 = a single attempt. The core retries by error kind.
      numberOfApiCallRetries: 1,
      // The SDK throttles only when given a limiter; this one never waits (no spacing, no
      // concurrency cap), so the budget shared by all workers is the only throttle.
      limiterOptions: { minTime: 0, maxConcurrent: null, id: 'threadbridge-hubspot-passthrough' },
    });
    this.callOptions = {
      middleware: [agentMiddleware(agentFor(deps.http, this.baseUrl, deps.timeoutMs)), errorBodyMiddleware],
      middlewareMergeStrategy: 'append',
    } as never;
  }

  /** Spends the budget, then runs one SDK call under the timeout; failures become ConnectorErrors. */
  private async call<T>(operation: string, fn: (sdk: Client) => Promise<T>): Promise<T> {
    await this.deps.budget.acquire(1);
    try {
      return await withTimeout(fn(this.sdk), this.deps.timeoutMs, operation);
    } catch (err) {
      const error = toConnectorError(err, operation);
      this.deps.logger.debug('hubspot request failed', { operation, kind: error.kind, vendorStatus: error.vendorStatus });
      throw error;
    }
  }

  /** Like call(), but a 404 is an answer (undefined), not an error. */
  private async callOrNotFound<T>(operation: string, fn: (sdk: Client) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(operation, fn);
    } catch (err) {
      if (ConnectorError.is(err) && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  /** A cheap authenticated read (one contact). */
  async verify(): Promise<void> {
    await this.call('credentials check', (sdk) => sdk.crm.objects.basicApi.getPage('contacts', 1, undefined, undefined, undefined, undefined, undefined, this.callOptions));
  }

  async createObject(type: HubspotObjectType, input: HubspotCreateInput): Promise<HubspotObject> {
    return toObject(await this.call(`create ${type}`, (sdk) => sdk.crm.objects.basicApi.create(type, input as never, this.callOptions)));
  }

  async updateObject(type: HubspotObjectType, id: string, properties: Record<string, string>): Promise<HubspotObject> {
    return toObject(await this.call(`update ${type}`, (sdk) => sdk.crm.objects.basicApi.update(type, id, { properties }, undefined, this.callOptions)));
  }

  /** Batch create (≤ 100 inputs); a 207 answer lists the inputs that failed in `errors`. */
  async batchCreate(type: HubspotObjectType, inputs: HubspotCreateInput[]): Promise<HubspotBatchResult> {
    const response = await this.call(`batch create ${type}`, (sdk) => sdk.crm.objects.batchApi.create(type, { inputs: inputs as never }, this.callOptions));
    return toBatchResult(response);
  }

  /**
   * Reads up to 100 objects by id. Ids HubSpot does not hold (deleted, archived, never existed)
   * are simply absent from `results` (HubSpot answers 207 listing them in errors).
   */
  async batchRead(type: HubspotObjectType, ids: string[], properties: string[]): Promise<HubspotBatchResult> {
    const response = await this.call(`batch read ${type}`, (sdk) =>
      sdk.crm.objects.batchApi.read(type, { inputs: ids.map((id) => ({ id })), properties, propertiesWithHistory: [] }, false, this.callOptions),
    );
    return toBatchResult(response);
  }

  /**
   * Reads up to 100 objects by the values of a unique-value property (`idProperty`). Unlike a
   * search, this read is not served from HubSpot's lagging search index: an object created a
   * moment ago is found. Values HubSpot holds no object for are absent from `results`.
   */
  async batchReadByProperty(type: HubspotObjectType, idProperty: string, values: string[], properties: string[]): Promise<HubspotBatchResult> {
    const response = await this.call(`batch read ${type} by ${idProperty}`, (sdk) =>
      sdk.crm.objects.batchApi.read(type, { inputs: values.map((id) => ({ id })), idProperty, properties, propertiesWithHistory: [] }, false, this.callOptions),
    );
    return toBatchResult(response);
  }

  /** Updates up to 100 objects (unique ids); a 207 answer lists the inputs that failed in `errors`. */
  async batchUpdate(type: HubspotObjectType, inputs: { id: string; properties: Record<string, string> }[]): Promise<HubspotBatchResult> {
    const response = await this.call(`batch update ${type}`, (sdk) => sdk.crm.objects.batchApi.update(type, { inputs }, this.callOptions));
    return toBatchResult(response);
  }

  /** One page of a CRM search, spaced from the portal's previous search (see SEARCH_SPACING_MS). */
  async search(type: HubspotObjectType, request: HubspotSearchRequest): Promise<HubspotSearchPage> {
    await searchSlot(this.portalKey);
    const page = await this.call(`search ${type}`, (sdk) => sdk.crm.objects.searchApi.doSearch(type, request as never, this.callOptions));
    return { total: page.total, results: page.results.map(toObject), after: page.paging?.next?.after };
  }

  /** GET /crm/v3/owners?email=: the id of the active owner (user) with that email, if any. */
  async findOwnerByEmail(email: string): Promise<string | undefined> {
    const page = await this.call('find owner by email', (sdk) => sdk.crm.owners.ownersApi.getPage(email, undefined, 1, false, this.callOptions));
    const owner = page.results.find((o) => o.email?.toLowerCase() === email.toLowerCase());
    return owner?.id;
  }

  /** GDPR delete of a contact: true when deleted, false when HubSpot holds no such contact. */
  async gdprDeleteContact(id: string): Promise<boolean> {
    const done = await this.callOrNotFound('GDPR delete contact', async (sdk) => {
      await sdk.crm.contacts.basicApi.purge({ objectId: id }, this.callOptions);
      return true;
    });
    return done === true;
  }

  async getProperty(type: HubspotObjectType, name: string): Promise<{ name: string; hasUniqueValue?: boolean } | undefined> {
    return this.callOrNotFound(`get ${type} property`, (sdk) => sdk.crm.properties.coreApi.getByName(type, name, undefined, undefined, this.callOptions));
  }

  /** Creates a custom property; an existing one (409) is fine. */
  async createProperty(type: HubspotObjectType, definition: HubspotPropertyDefinition): Promise<void> {
    try {
      await this.call(`create ${type} property`, (sdk) => sdk.crm.properties.coreApi.create(type, definition as never, this.callOptions));
    } catch (err) {
      if (ConnectorError.is(err) && err.kind === 'conflict') return;
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Conversations custom channels

  /**
   * Registers a custom channel on the developer app. HubSpot authenticates this call with the
   * developer account's API key and the app id in the query, not with the portal's token.
   */
  async createCustomChannel(input: HubspotCustomChannelInput, app: { appId: string; developerApiKey: string }): Promise<HubspotCustomChannel> {
    return this.request<HubspotCustomChannel>('register custom channel', {
      method: 'POST',
      path: CUSTOM_CHANNELS_PATH,
      qs: { hapikey: app.developerApiKey, appId: app.appId },
      authType: 'none',
      body: input,
    });
  }

  /** Connects this portal's inbox to the channel (a channel account). */
  async createChannelAccount(channelId: string, input: HubspotChannelAccountInput): Promise<HubspotChannelAccount> {
    return this.request<HubspotChannelAccount>('connect channel account', {
      method: 'POST',
      path: `${CUSTOM_CHANNELS_PATH}/${encodeURIComponent(channelId)}/channel-accounts`,
      body: input,
    });
  }

  /** Publishes one message into the inbox (HubSpot has no batch form: one call per message). */
  async publishChannelMessage(channelId: string, input: HubspotChannelMessageInput): Promise<HubspotChannelMessage> {
    return this.request<HubspotChannelMessage>('publish channel message', {
      method: 'POST',
      path: `${CUSTOM_CHANNELS_PATH}/${encodeURIComponent(channelId)}/messages`,
      body: input,
    });
  }

  /** Sets the status an agent sees on their message (sent, failed with a reason, read). */
  async updateChannelMessageStatus(channelId: string, messageId: string, update: HubspotChannelStatusUpdate): Promise<HubspotChannelMessage> {
    return this.request<HubspotChannelMessage>('update channel message status', {
      method: 'PATCH',
      path: `${CUSTOM_CHANNELS_PATH}/${encodeURIComponent(channelId)}/messages/${encodeURIComponent(messageId)}`,
      body: update,
    });
  }

  /**
   * A call the SDK has no typed client for, through its generic `apiRequest` (which resolves with
   * the raw response whatever the status). A status ≥ 400 is thrown in the SDK's error shape, so
   * call() and toConnectorError() judge it like any other call. `apiRequest` takes no agent: a
   * request abandoned at the timeout keeps its socket until HubSpot answers or drops it.
   */
  private async request<T>(
    operation: string,
    options: { method: string; path: string; body?: unknown; qs?: Record<string, string>; authType?: 'none' },
  ): Promise<T> {
    return this.call(operation, async (sdk) => {
      const response = await sdk.apiRequest(options);
      const text = await response.text();
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        headers[key] = value;
      });
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        body = undefined;
      }
      if (response.status >= 400) {
        const errorBody =
          body && typeof body === 'object'
            ? body
            : { status: 'error', message: text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200) || `HTTP ${response.status}`, category: 'NON_JSON_ERROR' };
        throw new RawHttpError(response.status, errorBody as SdkHttpError['body'], headers);
      }
      if (body === undefined) throw new ConnectorError('transient', `HubSpot ${operation} answered ${response.status} with a body that is not JSON`, { vendorStatus: response.status });
      return body as T;
    });
  }

  /** A short-lived URL of a file of the file manager (private files are served only through one). */
  async signedFileUrl(fileId: string): Promise<{ url: string; name?: string }> {
    const signed = await this.call('get file signed URL', (sdk) => sdk.files.filesApi.getSignedUrl(fileId, undefined, SIGNED_URL_SECONDS, undefined, this.callOptions));
    return { url: signed.url, name: signed.name && signed.extension ? `${signed.name}.${signed.extension}` : signed.name || undefined };
  }

  /**
   * GETs a file. The token goes only to HubSpot's API origin (a signed or CDN URL needs none, and
   * the URL may come from a webhook body); CDN downloads do not spend the API budget. Stops reading
   * past `maxBytes` (at once when Content-Length says so) and answers too_large.
   */
  async downloadFile(url: string, maxBytes: number): Promise<AttachmentDownload> {
    const operation = 'download file';
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new ConnectorError('invalid_request', `HubSpot ${operation}: the file URL is not a URL`);
    }
    if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new ConnectorError('invalid_request', `HubSpot ${operation}: the file URL is not http(s)`);
    const api = target.origin === new URL(this.baseUrl).origin;
    if (api) await this.deps.budget.acquire(1);
    let response: Response;
    try {
      response = await this.deps.http.fetch(target, {
        headers: api ? { Authorization: `Bearer ${this.accessToken}` } : {},
        redirect: 'follow',
        signal: AbortSignal.timeout(Math.max(this.deps.timeoutMs, DOWNLOAD_TIMEOUT_MS)),
      });
    } catch (err) {
      throw new ConnectorError('transient', `HubSpot ${operation} failed: ${(err as Error)?.name === 'TimeoutError' ? 'timed out' : 'network error'}`, { cause: err });
    }
    if (!response.ok) {
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        headers[key] = value;
      });
      await response.body?.cancel().catch(() => undefined);
      throw toConnectorError(new RawHttpError(response.status, { message: `HTTP ${response.status}` }, headers), operation);
    }
    try {
      return await readCapped(response, maxBytes);
    } catch (err) {
      throw new ConnectorError('transient', `HubSpot ${operation} failed while reading the file`, { cause: err });
    }
  }

  /** Uploads a private file to the threadbridge folder of the file manager. */
  async uploadFile(bytes: Buffer, fileName: string): Promise<HubspotFile> {
    const file = await this.call('upload file', (sdk) =>
      sdk.files.filesApi.upload({ data: bytes, name: fileName }, undefined, FILES_FOLDER, fileName, undefined, JSON.stringify({ access: 'PRIVATE' }), this.callOptions),
    );
    return { id: String(file.id), url: file.url };
  }
}
