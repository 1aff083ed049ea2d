import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import busboy from 'busboy';
import { nextFbtraceId, nextMediaId, nextWamid } from './meta-ids';
import { DEFAULT_META_SPEC_PATH, specValidationEnabled, validateSendMessageBody, validateUploadFields } from './meta-graph.spec-validator';

/** Documents already reported missing in this process: the notice is said once, not per fake started. */
const reportedMissing = new Set<string>();

function noticeSpecValidationOff(specPath: string): void {
  if (reportedMissing.has(specPath)) return;
  reportedMissing.add(specPath);
  // stderr rather than a logger: the fake has none, and the line must reach `npm run demo` and Jest alike.
  process.stderr.write(
    `[fake Cloud API] spec validation is off: no Meta OpenAPI document at ${specPath} (set META_OPENAPI_PATH). ` +
      'Sends are still checked by the fake’s own rules.\n',
  );
}

/**
 * A local stand-in for graph.facebook.com (WhatsApp Cloud API): message sends, mark-as-read, media
 * lookup / download / upload / delete, with the vendor's auth, error shapes and limits. See
 * ../shared/VENDOR-APIS.md §1 and §4.1. Plain `node:http` on 127.0.0.1, port 0.
 *
 * Typical use:
 * ```ts
 * const meta = await startMetaGraphFake();            // token 'test-token', no limits, window not enforced
 * // point the code under test at meta.url (it stands in for https://graph.facebook.com)
 * …
 * expect(meta.sent.map((m) => m.waId)).toEqual(['16505551234']);
 * expect(meta.specViolations).toEqual([]);
 * await meta.close();
 * ```
 */

/** Per-recipient limit: at most `count` accepted sends to one (phone number, wa_id) pair per `perMs`. */
export interface PairLimit {
  count: number;
  perMs: number;
}

/** Behaviour switches; all can be changed at runtime with `fake.configure()`. */
export interface MetaFakeBehaviour {
  /** Bearer token the fake accepts. Default 'test-token'. */
  accessToken: string;
  /** Reject non-template sends with 131047 unless the customer wrote within `windowMs`. Default false. */
  enforceWindow: boolean;
  /** Length of the customer-service window. Default 24 h. */
  windowMs: number;
  /** Per-recipient pair limit (131056). Default null (off). Meta's guidance is about 1 message / 6 s. */
  pairLimit: PairLimit | null;
  /** Accepted sends per rolling second before HTTP 429 / 130429. Default null (off); Meta's default is 80. */
  throughputPerSecond: number | null;
  /** Delay added before answering every request. Default 0. */
  latencyMs: number;
  /** Lifetime of a media download URL. Default 5 minutes, as Meta documents. */
  mediaUrlTtlMs: number;
  /** Serve every media download with one byte flipped, so its sha256 no longer matches. Default false. */
  corruptMediaDownloads: boolean;
  /**
   * How `file_size` is rendered by `GET /{media-id}`. The OpenAPI document types it as a string; live
   * responses have been seen with a number. Default 'number'. Consumers should accept both.
   */
  mediaFileSizeAs: 'number' | 'string';
}

/** Options for `startMetaGraphFake()`. */
export interface MetaFakeOptions extends Partial<MetaFakeBehaviour> {
  /** Clock in ms since the epoch, for windows, rate limits and URL expiry. Default `Date.now`. */
  clock?: () => number;
  /**
   * Meta's OpenAPI document, for request validation on top of the fake's own checks. Default
   * META_OPENAPI_PATH (see meta-openapi.ts). When the file is not there the fake still answers like
   * Meta from its own checks, records no spec violations, and says so once on stderr.
   */
  specPath?: string;
  /**
   * Where the media URLs it hands out point (Meta's are on its lookaside CDN, not the Graph host).
   * Default: this fake itself. A test points them at another server to check where the token goes.
   */
  mediaBaseUrl?: string;
}

/** Endpoint families, for targeting injected failures. */
export type MetaFakeRoute = 'messages' | 'mediaInfo' | 'mediaDownload' | 'mediaUpload' | 'mediaDelete';

/** An error to answer with instead of handling the request (see `failNext`). */
export interface InjectedFailure {
  /** HTTP status, e.g. 500, 429, 400. */
  status: number;
  /** Graph error code, e.g. 131000, 130429, 190. */
  code: number;
  /** Short title; the message becomes `(#<code>) <title>`. */
  title: string;
  /** Goes to `error.error_data.details`. Defaults to the title. */
  details?: string;
  /** `error.error_subcode`, when the scenario needs one. */
  subcode?: number;
  /** Adds a `Retry-After` header (Meta does not normally send one; useful for generic client tests). */
  retryAfterSeconds?: number;
  /** Only requests to this endpoint family consume the failure. Default 'any'. */
  route?: MetaFakeRoute | 'any';
}

/** A message the fake accepted. */
export interface SentMessage {
  phoneNumberId: string;
  version: string;
  wamid: string;
  /** `to` exactly as sent. */
  to: string;
  /** Digits of `to`, i.e. the wa_id Meta echoes back. */
  waId: string;
  /** Effective type (`text` when the body had none). */
  type: string;
  body: Record<string, unknown>;
  /** Clock time in ms. */
  receivedAt: number;
}

/** A mark-as-read (optionally with typing indicator) request the fake accepted. */
export interface ReadReceipt {
  phoneNumberId: string;
  messageId: string;
  typingIndicator: boolean;
  body: Record<string, unknown>;
  receivedAt: number;
}

/** A media object held by the fake, added with `addMedia` or uploaded. */
export interface StoredMedia {
  id: string;
  bytes: Buffer;
  mimeType: string;
  /** base64 SHA-256 of the bytes, as Meta reports it in webhooks and `GET /{media-id}`. */
  sha256Base64: string;
  phoneNumberId?: string;
  filename?: string;
  corruptDownload: boolean;
}

/** A media upload the fake accepted. */
export interface UploadedMedia {
  id: string;
  phoneNumberId: string;
  mimeType: string;
  filename?: string;
  bytes: Buffer;
  receivedAt: number;
}

/** One line of the request log. */
export interface RequestLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  /** Clock time in ms. */
  at: number;
}

/** A request that did not conform to the OpenAPI document. */
export interface SpecViolation {
  operationId: string;
  method: string;
  path: string;
  errors: string[];
  at: number;
}

/** Options for `addMedia`. */
export interface AddMediaOptions {
  /** Serve this media's downloads with one byte flipped (sha256 mismatch). */
  corruptDownload?: boolean;
  /** Owner phone number id; `?phone_number_id=` lookups for another number then fail like Meta's. */
  phoneNumberId?: string;
  filename?: string;
}

/** The running fake. Record arrays are live views: read them after the call under test. */
export interface MetaGraphFake {
  /** Base URL, e.g. http://127.0.0.1:PORT (no trailing slash, no version). */
  readonly url: string;
  readonly sent: readonly SentMessage[];
  readonly reads: readonly ReadReceipt[];
  readonly uploads: readonly UploadedMedia[];
  readonly requests: readonly RequestLogEntry[];
  readonly specViolations: readonly SpecViolation[];
  /** Changes behaviour switches for the following requests. */
  configure(patch: Partial<MetaFakeBehaviour>): void;
  /** Notes the customer's inbound message at `at` (default now); opens the 24 h window for that wa_id. */
  recordInbound(waId: string, at?: Date): void;
  /** Answers the next `n` matching requests (after authentication) with `failure` instead of handling them. */
  failNext(n: number, failure: InjectedFailure): void;
  /** Stores media so `GET /{media-id}` and the download URL serve it. */
  addMedia(bytes: Buffer, mimeType: string, options?: AddMediaOptions): { id: string; sha256Base64: string };
  /** The stored media object, or undefined when unknown or deleted. */
  getMedia(id: string): StoredMedia | undefined;
  /** Clears every record, stored media, window and failure, and restores the start options. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULTS: MetaFakeBehaviour = {
  accessToken: 'test-token',
  enforceWindow: false,
  windowMs: 24 * 60 * 60 * 1000,
  pairLimit: null,
  throughputPerSecond: null,
  latencyMs: 0,
  mediaUrlTtlMs: 5 * 60 * 1000,
  corruptMediaDownloads: false,
  mediaFileSizeAs: 'number',
};

const MAX_JSON_BODY_BYTES = 5 * 1024 * 1024;
/** Meta's largest media type (documents) is 100 MB. */
const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
const VERSION_PATTERN = /^v\d+\.\d+$/;

interface FakeResponse {
  status: number;
  body: Buffer | object;
  headers?: Record<string, string>;
}

interface RequestContext {
  req: IncomingMessage;
  method: string;
  path: string;
  query: URLSearchParams;
  now: number;
}

interface GraphErrorInput {
  code: number;
  message: string;
  details?: string;
  subcode?: number;
  type?: string;
}

/** Graph API error body (FBOAS `GraphAPIError`). */
function graphError(status: number, input: GraphErrorInput, headers?: Record<string, string>): FakeResponse {
  const error: Record<string, unknown> = {
    message: input.message,
    type: input.type ?? 'OAuthException',
    code: input.code,
  };
  if (input.subcode !== undefined) error.error_subcode = input.subcode;
  if (input.details !== undefined) error.error_data = { messaging_product: 'whatsapp', details: input.details };
  error.fbtrace_id = nextFbtraceId();
  return { status, body: { error }, headers };
}

function unknownObject(id: string, method: string): FakeResponse {
  // Meta's wording for ids that do not exist (or are no longer accessible), subcode 33.
  return graphError(400, {
    code: 100,
    subcode: 33,
    type: 'GraphMethodException',
    message:
      `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to ` +
      'missing permissions, or does not support this operation. Please read the Graph API documentation at ' +
      'https://developers.facebook.com/docs/graph-api',
  });
}

function sha256Base64(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

interface MultipartResult {
  fields: Record<string, string>;
  file?: { bytes: Buffer; filename?: string; mimeType: string };
  tooLarge: boolean;
}

function parseMultipart(req: IncomingMessage): Promise<MultipartResult> {
  return new Promise((resolve, reject) => {
    const result: MultipartResult = { fields: {}, tooLarge: false };
    const parser = busboy({ headers: req.headers, limits: { fileSize: MAX_UPLOAD_BYTES, files: 1 } });
    parser.on('field', (name, value) => {
      result.fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        result.tooLarge = true;
      });
      stream.on('end', () => {
        if (name === 'file') {
          result.file = { bytes: Buffer.concat(chunks), filename: info.filename, mimeType: info.mimeType };
        }
      });
    });
    parser.on('close', () => resolve(result));
    parser.on('error', reject);
    req.pipe(parser);
  });
}

/**
 * Starts the fake Meta Graph server on 127.0.0.1 (random port).
 *
 * A send is checked in this order: bearer token (401 / 190), injected failure, JSON, the fake’s own
 * checks and (when META_OPENAPI_PATH is there) the schema
 * (400 / 131008 or 100), throughput (429 / 130429), 24 h window (400 / 131047), pair limit
 * (400 / 131056). Only sends that pass every check are recorded in `sent` and count towards the limits.
 * @param options start options; behaviour switches can later be changed with `configure()`.
 */
export async function startMetaGraphFake(options: MetaFakeOptions = {}): Promise<MetaGraphFake> {
  const { clock = Date.now, specPath = DEFAULT_META_SPEC_PATH, ...initial } = options;
  if (!specValidationEnabled(specPath)) noticeSpecValidationOff(specPath);
  const startBehaviour: MetaFakeBehaviour = { ...DEFAULTS, ...initial };
  let behaviour: MetaFakeBehaviour = { ...startBehaviour };

  const sent: SentMessage[] = [];
  const reads: ReadReceipt[] = [];
  const uploads: UploadedMedia[] = [];
  const requests: RequestLogEntry[] = [];
  const specViolations: SpecViolation[] = [];
  const media = new Map<string, StoredMedia>();
  const downloadTokens = new Map<string, { mediaId: string; expiresAt: number }>();
  const lastInboundAt = new Map<string, number>();
  const failures: InjectedFailure[] = [];
  /** accepted-send timestamps, for the rolling-second throughput limit */
  let sendTimes: number[] = [];
  /** `${phoneNumberId}:${waId}` → accepted-send timestamps, for the pair limit */
  const pairTimes = new Map<string, number[]>();
  const shutdown = new AbortController();
  let baseUrl = '';

  const digits = (value: string): string => value.replace(/\D/g, '');

  function recordViolation(ctx: RequestContext, operationId: string, errors: string[]): void {
    if (errors.length > 0) specViolations.push({ operationId, method: ctx.method, path: ctx.path, errors, at: ctx.now });
  }

  function isAuthorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    return match !== null && match[1].trim() === behaviour.accessToken;
  }

  function takeFailure(route: MetaFakeRoute): FakeResponse | undefined {
    const index = failures.findIndex((f) => (f.route ?? 'any') === 'any' || f.route === route);
    if (index < 0) return undefined;
    const [failure] = failures.splice(index, 1);
    const headers = failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : undefined;
    return graphError(
      failure.status,
      {
        code: failure.code,
        subcode: failure.subcode,
        message: `(#${failure.code}) ${failure.title}`,
        details: failure.details ?? failure.title,
      },
      headers,
    );
  }

  /** Drops timestamps older than `windowMs` and returns how many remain. */
  function countRecent(times: number[], now: number, windowMs: number): number {
    while (times.length > 0 && times[0] <= now - windowMs) times.shift();
    return times.length;
  }

  async function handleSend(ctx: RequestContext, version: string, phoneNumberId: string): Promise<FakeResponse> {
    const raw = await readBody(ctx.req, MAX_JSON_BODY_BYTES);
    if (raw === null) return graphError(413, { code: 100, message: '(#100) Request body too large.' });
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      recordViolation(ctx, 'sendMessage', ['/ body is not valid JSON']);
      return graphError(400, { code: 100, message: '(#100) The request body is not valid JSON.' });
    }

    const validation = validateSendMessageBody(body, specPath);
    recordViolation(ctx, 'sendMessage', validation.specErrors);
    if (validation.problems.length > 0) {
      const [problem] = validation.problems;
      return graphError(400, { code: problem.code, message: problem.message, details: problem.message });
    }
    const request = body as Record<string, unknown>;

    if (validation.kind === 'read') {
      reads.push({
        phoneNumberId,
        messageId: String(request.message_id),
        typingIndicator: request.typing_indicator !== undefined,
        body: request,
        receivedAt: ctx.now,
      });
      return { status: 200, body: { success: true } };
    }

    const limit = behaviour.throughputPerSecond;
    if (limit !== null && countRecent(sendTimes, ctx.now, 1000) >= limit) {
      return graphError(429, {
        code: 130429,
        message: '(#130429) Rate limit hit',
        details: 'Message failed to send because there were too many messages sent from this phone number in a short period of time.',
      });
    }

    const to = String(request.to);
    const waId = digits(to);
    const type = validation.type as string;

    if (behaviour.enforceWindow && type !== 'template') {
      const last = lastInboundAt.get(waId);
      if (last === undefined || ctx.now - last > behaviour.windowMs) {
        return graphError(400, {
          code: 131047,
          message: '(#131047) Re-engagement message',
          details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
        });
      }
    }

    const pairKey = `${phoneNumberId}:${waId}`;
    const pair = behaviour.pairLimit;
    const pairHistory = pairTimes.get(pairKey) ?? [];
    if (pair !== null && countRecent(pairHistory, ctx.now, pair.perMs) >= pair.count) {
      return graphError(400, {
        code: 131056,
        message: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
        details:
          'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
      });
    }

    const wamid = nextWamid(waId, 'outbound');
    sendTimes.push(ctx.now);
    pairHistory.push(ctx.now);
    pairTimes.set(pairKey, pairHistory);
    sent.push({ phoneNumberId, version, wamid, to, waId, type, body: request, receivedAt: ctx.now });
    return {
      status: 200,
      body: { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: waId }], messages: [{ id: wamid }] },
    };
  }

  function ownedMedia(ctx: RequestContext, mediaId: string): StoredMedia | undefined {
    const stored = media.get(mediaId);
    const owner = ctx.query.get('phone_number_id');
    if (!stored || (owner && stored.phoneNumberId && stored.phoneNumberId !== owner)) return undefined;
    return stored;
  }

  function handleMediaInfo(ctx: RequestContext, mediaId: string): FakeResponse {
    const stored = ownedMedia(ctx, mediaId);
    if (!stored) return unknownObject(mediaId, 'GET');
    const token = randomBytes(24).toString('base64url');
    downloadTokens.set(token, { mediaId, expiresAt: ctx.now + behaviour.mediaUrlTtlMs });
    const size = stored.bytes.length;
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        url: `${options.mediaBaseUrl ?? baseUrl}/media-download/${token}`,
        mime_type: stored.mimeType,
        sha256: stored.sha256Base64,
        file_size: behaviour.mediaFileSizeAs === 'string' ? String(size) : size,
        id: stored.id,
      },
    };
  }

  function handleMediaDownload(ctx: RequestContext, token: string): FakeResponse {
    const entry = downloadTokens.get(token);
    const stored = entry ? media.get(entry.mediaId) : undefined;
    if (!entry || !stored || ctx.now >= entry.expiresAt) {
      if (entry && ctx.now >= entry.expiresAt) downloadTokens.delete(token);
      return graphError(404, { code: 100, message: 'The media URL has expired or does not exist. Retrieve a new URL.' });
    }
    let bytes = stored.bytes;
    if ((stored.corruptDownload || behaviour.corruptMediaDownloads) && bytes.length > 0) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length - 1] ^= 0xff;
    }
    return { status: 200, body: bytes, headers: { 'content-type': stored.mimeType } };
  }

  async function handleUpload(ctx: RequestContext, phoneNumberId: string): Promise<FakeResponse> {
    if (!(ctx.req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) {
      recordViolation(ctx, 'uploadImage', ['/ content-type must be multipart/form-data']);
      return graphError(400, { code: 100, message: '(#100) Media uploads must be sent as multipart/form-data.' });
    }
    let form: MultipartResult;
    try {
      form = await parseMultipart(ctx.req);
    } catch {
      return graphError(400, { code: 100, message: '(#100) The multipart body could not be parsed.' });
    }
    recordViolation(ctx, 'uploadImage', validateUploadFields({ ...form.fields, ...(form.file ? { file: '<binary>' } : {}) }, specPath));
    if (form.tooLarge) return graphError(400, { code: 131053, message: '(#131053) Media upload error', details: 'File too large.' });
    if (!form.file) return graphError(400, { code: 131008, message: '(#131008) The parameter file is required.' });
    if (form.fields.messaging_product === undefined) {
      return graphError(400, { code: 131008, message: '(#131008) The parameter messaging_product is required.' });
    }
    if (form.fields.messaging_product !== 'whatsapp') {
      return graphError(400, { code: 100, message: '(#100) Invalid parameter: messaging_product must be "whatsapp".' });
    }
    // Meta requires the MIME type as its own `type` field rather than trusting the file part's header.
    const mimeType = form.fields.type;
    if (!mimeType) return graphError(400, { code: 131008, message: '(#131008) The parameter type is required.' });
    const { id } = addMedia(form.file.bytes, mimeType, { phoneNumberId, filename: form.file.filename });
    uploads.push({ id, phoneNumberId, mimeType, filename: form.file.filename, bytes: form.file.bytes, receivedAt: ctx.now });
    return { status: 200, body: { id } };
  }

  function handleMediaDelete(ctx: RequestContext, mediaId: string): FakeResponse {
    if (!ownedMedia(ctx, mediaId)) return unknownObject(mediaId, 'DELETE');
    media.delete(mediaId);
    return { status: 200, body: { success: true } };
  }

  async function route(ctx: RequestContext): Promise<FakeResponse> {
    if (!isAuthorized(ctx.req)) {
      return graphError(
        401,
        { code: 190, message: 'Invalid OAuth access token.' },
        { 'www-authenticate': 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token."' },
      );
    }
    const segments = ctx.path.split('/').filter(Boolean).map(decodeURIComponent);

    if (segments[0] === 'media-download' && segments.length === 2 && ctx.method === 'GET') {
      return takeFailure('mediaDownload') ?? handleMediaDownload(ctx, segments[1]);
    }
    // The version prefix is optional on graph.facebook.com; unversioned calls get the app's default version.
    const version = segments.length > 0 && VERSION_PATTERN.test(segments[0]) ? (segments.shift() as string) : 'default';

    if (segments.length === 2 && segments[1] === 'messages' && ctx.method === 'POST') {
      return takeFailure('messages') ?? handleSend(ctx, version, segments[0]);
    }
    if (segments.length === 2 && segments[1] === 'media' && ctx.method === 'POST') {
      return takeFailure('mediaUpload') ?? handleUpload(ctx, segments[0]);
    }
    if (segments.length === 1 && ctx.method === 'GET') {
      return takeFailure('mediaInfo') ?? handleMediaInfo(ctx, segments[0]);
    }
    if (segments.length === 1 && ctx.method === 'DELETE') {
      return takeFailure('mediaDelete') ?? handleMediaDelete(ctx, segments[0]);
    }
    return graphError(400, { code: 2500, message: `Unknown path components: ${ctx.path}` });
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ctx: RequestContext = {
      req,
      method: req.method ?? 'GET',
      path: parsed.pathname,
      query: parsed.searchParams,
      now: clock(),
    };
    let response: FakeResponse;
    try {
      if (behaviour.latencyMs > 0) await delay(behaviour.latencyMs, undefined, { signal: shutdown.signal });
      ctx.now = clock();
      response = await route(ctx);
    } catch (error) {
      if (shutdown.signal.aborted) {
        res.destroy();
        return;
      }
      response = graphError(500, { code: 131000, message: `(#131000) Something went wrong: ${(error as Error).message}` });
    }
    // Drain whatever body the handler did not read (rejected before parsing) so keep-alive connections stay usable.
    req.resume();
    requests.push({ method: ctx.method, path: ctx.path, status: response.status, at: ctx.now });
    const isBytes = Buffer.isBuffer(response.body);
    const payload = isBytes ? (response.body as Buffer) : Buffer.from(JSON.stringify(response.body));
    res.writeHead(response.status, {
      'content-type': isBytes ? 'application/octet-stream' : 'application/json; charset=UTF-8',
      'content-length': String(payload.length),
      'x-fb-trace-id': nextFbtraceId(),
      'x-fb-request-id': nextFbtraceId(),
      'facebook-api-version': 'v23.0',
      ...response.headers,
    });
    res.end(payload);
  }

  function addMedia(bytes: Buffer, mimeType: string, opts: AddMediaOptions = {}): { id: string; sha256Base64: string } {
    const id = nextMediaId();
    const hash = sha256Base64(bytes);
    media.set(id, {
      id,
      bytes: Buffer.from(bytes),
      mimeType,
      sha256Base64: hash,
      phoneNumberId: opts.phoneNumberId,
      filename: opts.filename,
      corruptDownload: opts.corruptDownload ?? false,
    });
    return { id, sha256Base64: hash };
  }

  const server: Server = createServer((req, res) => {
    void onRequest(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    get sent() {
      return sent;
    },
    get reads() {
      return reads;
    },
    get uploads() {
      return uploads;
    },
    get requests() {
      return requests;
    },
    get specViolations() {
      return specViolations;
    },
    configure(patch) {
      behaviour = { ...behaviour, ...patch };
    },
    recordInbound(waId, at = new Date(clock())) {
      const key = digits(waId);
      lastInboundAt.set(key, Math.max(lastInboundAt.get(key) ?? -Infinity, at.getTime()));
    },
    failNext(n, failure) {
      for (let i = 0; i < n; i += 1) failures.push({ ...failure });
    },
    addMedia,
    getMedia(id) {
      return media.get(id);
    },
    reset() {
      for (const list of [sent, reads, uploads, requests, specViolations] as unknown[][]) list.length = 0;
      media.clear();
      downloadTokens.clear();
      lastInboundAt.clear();
      pairTimes.clear();
      failures.length = 0;
      sendTimes = [];
      behaviour = { ...startBehaviour };
    },
    async close() {
      shutdown.abort();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
