/**
 * The only place that talks to Pipedrive. The official SDK (`pipedrive`) builds every request —
 * paths, query, body, the `x-api-token` header — through its functional API (`PersonsApiFp(config)
 * .searchPersons(…)` returns a request function), and that function is run on threadbridge's own
 * axios instance rather than the SDK's: the SDK's instance rejects with the response body alone,
 * dropping the status and the rate-limit headers a 429 carries, and knows nothing of the egress
 * policy or the per-request timeout. Every call goes through {@link PipedriveClient.call}, which
 * spends the endpoint's cost in Pipedrive tokens from the shared budget first and translates any
 * failure in {@link toConnectorError}.
 */
import type { Agent } from 'node:http';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { v1 as V1, v2 as V2 } from 'pipedrive';
import type { ConnectorDeps } from '../_sdk/contract';
import { ConnectorError, isTransientNetworkCode, networkErrorCode, parseRetryAfter, redactPhoneNumbers } from '../_sdk/errors';
import { pipedriveOrigin, type PipedriveCredentials } from './pipedrive.credentials';
import type {
  PipedriveDeal,
  PipedriveEnvelope,
  PipedriveErrorBody,
  PipedriveFile,
  PipedriveFileTarget,
  PipedriveId,
  PipedriveLead,
  PipedriveLeadInput,
  PipedriveNote,
  PipedriveNoteInput,
  PipedrivePerson,
  PipedrivePersonInput,
  PipedrivePersonSearchItem,
  PipedriveUser,
} from './pipedrive.types';

// ---------------------------------------------------------------------------------------------
// Token costs

export type PipedriveApiVersion = 'v1' | 'v2';
export type PipedriveCallKind = 'get' | 'list' | 'write' | 'delete' | 'search';

/**
 * What one request costs in Pipedrive's daily token budget, by API version and kind of endpoint
 * (Pipedrive's rate-limiting page: a single entity, a list, an add/update, a delete, a search).
 * API v2 endpoints cost half of their v1 equivalents, so v2 is used wherever it has the endpoint;
 * notes and leads exist only in v1.
 */
export const TOKEN_COSTS: Readonly<Record<PipedriveApiVersion, Readonly<Record<PipedriveCallKind, number>>>> = {
  v1: { get: 2, list: 20, write: 10, delete: 6, search: 40 },
  v2: { get: 1, list: 10, write: 5, delete: 3, search: 20 },
};

/** When a 429 names no wait: Pipedrive's burst window is two seconds. */
const BURST_WINDOW_MS = 2_000;

/** Most items one v2 list page / v1 list page returns at once (Pipedrive: 500 max). */
export const LIST_LIMIT = 100;

// ---------------------------------------------------------------------------------------------
// The SDK, loaded on first use: requiring it costs about half a second and 14 MB of heap, which a
// deployment without a Pipedrive connection should not pay at start.

interface Sdk {
  v1: typeof V1;
  v2: typeof V2;
}
let sdk: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  sdk ??= import('pipedrive').then((m) => {
    // Loaded as CommonJS from ESM the namespace sits under `default`.
    const mod = ((m as unknown as { default?: Sdk }).default ?? m) as Sdk;
    return { v1: mod.v1, v2: mod.v2 };
  });
  return sdk;
}

/** A request function of the SDK's functional API, run on our axios instance. */
type SdkRequest = (axios?: AxiosInstance, basePath?: string) => Promise<unknown>;

export interface PipedriveResult<T> {
  status: number;
  data: T;
  additional: PipedriveEnvelope<T>['additional_data'];
}

export class PipedriveClient {
  readonly origin: string;
  private readonly http: AxiosInstance;
  private configs?: { v1: V1.Configuration; v2: V2.Configuration };

  constructor(
    private readonly credentials: PipedriveCredentials,
    private readonly deps: Pick<ConnectorDeps, 'budget' | 'timeoutMs' | 'logger' | 'http'>,
  ) {
    this.origin = pipedriveOrigin(credentials);
    const protocol = new URL(this.origin).protocol;
    const agent: Agent = deps.http.agent(protocol, { keepAlive: true, maxSockets: 16 });
    this.http = axios.create({
      adapter: 'http',
      // Every status comes back as an answer; call() judges it.
      validateStatus: () => true,
      timeout: deps.timeoutMs,
      httpAgent: protocol === 'http:' ? agent : undefined,
      httpsAgent: protocol === 'https:' ? agent : undefined,
      // The egress policy is the network: no proxy from the environment in between.
      proxy: false,
      maxRedirects: 0,
      transitional: { clarifyTimeoutError: true },
    });
  }

  // -------------------------------------------------------------------------------------------
  // Users

  /** GET /api/v1/users/me (API v2 has no equivalent): the token's own user. */
  async me(): Promise<PipedriveUser> {
    return (await this.call<PipedriveUser>('users.me', 'v1', 'get', ({ v1, c }) => v1.UsersApiFp(c.v1).getCurrentUser())).data;
  }

  // -------------------------------------------------------------------------------------------
  // Persons (API v2)

  /** GET /api/v2/persons/search?fields=phone&exact_match=true: persons whose phone is `term` as typed. */
  async searchPersonsByPhone(term: string): Promise<PipedrivePersonSearchItem[]> {
    const { data } = await this.call<{ items?: PipedrivePersonSearchItem[] }>('persons.search', 'v2', 'search', ({ v2, c }) =>
      v2.PersonsApiFp(c.v2).searchPersons(term, 'phone', true, undefined, undefined, 10),
    );
    return data?.items ?? [];
  }

  /** GET /api/v2/persons/{id}; undefined when Pipedrive has no (undeleted) person with that id. */
  async getPerson(id: PipedriveId): Promise<PipedrivePerson | undefined> {
    const person = await this.orUndefined(this.call<PipedrivePerson>('persons.get', 'v2', 'get', ({ v2, c }) => v2.PersonsApiFp(c.v2).getPerson(id)));
    return person && !person.data.is_deleted ? person.data : undefined;
  }

  /**
   * GET /api/v2/persons sorted by add_time, newest first: a plain list of the database, which
   * sees a person the moment it was added (the search index may not yet).
   */
  async recentPersons(limit = LIST_LIMIT): Promise<PipedrivePerson[]> {
    const { data } = await this.call<PipedrivePerson[]>('persons.list_recent', 'v2', 'list', ({ v2, c }) =>
      v2.PersonsApiFp(c.v2).getPersons(undefined, undefined, undefined, undefined, undefined, undefined, undefined, 'add_time', 'desc', undefined, undefined, undefined, undefined, limit),
    );
    return data ?? [];
  }

  async addPerson(person: PipedrivePersonInput): Promise<PipedrivePerson> {
    const body = person as unknown as V2.AddPersonRequest;
    return (await this.call<PipedrivePerson>('persons.add', 'v2', 'write', ({ v2, c }) => v2.PersonsApiFp(c.v2).addPerson(body))).data;
  }

  async updatePerson(id: PipedriveId, person: PipedrivePersonInput): Promise<PipedrivePerson> {
    const body = person as unknown as V2.UpdatePersonRequest;
    return (await this.call<PipedrivePerson>('persons.update', 'v2', 'write', ({ v2, c }) => v2.PersonsApiFp(c.v2).updatePerson(id, body))).data;
  }

  /** DELETE /api/v2/persons/{id}. False when there was no such person. */
  async deletePerson(id: PipedriveId): Promise<boolean> {
    return (await this.orUndefined(this.call('persons.delete', 'v2', 'delete', ({ v2, c }) => v2.PersonsApiFp(c.v2).deletePerson(id)))) !== undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Notes (API v1 only)

  async addNote(note: PipedriveNoteInput): Promise<PipedriveNote> {
    const body = note as unknown as V1.AddNoteRequest;
    return (await this.call<PipedriveNote>('notes.add', 'v1', 'write', ({ v1, c }) => v1.NotesApiFp(c.v1).addNote(body))).data;
  }

  /** The newest notes of a person, lead or deal first: a plain list, which sees a note at once. */
  async recentNotes(of: { personId: PipedriveId } | { leadId: string } | { dealId: PipedriveId }, limit = LIST_LIMIT): Promise<PipedriveNote[]> {
    const personId = 'personId' in of ? of.personId : undefined;
    const leadId = 'leadId' in of ? of.leadId : undefined;
    const dealId = 'dealId' in of ? of.dealId : undefined;
    const { data } = await this.call<PipedriveNote[] | null>('notes.list', 'v1', 'list', ({ v1, c }) =>
      v1.NotesApiFp(c.v1).getNotes(undefined, leadId, dealId, personId, undefined, undefined, undefined, 0, limit, 'add_time DESC'),
    );
    return data ?? [];
  }

  /** DELETE /api/v1/notes/{id}. False when it was already gone. */
  async deleteNote(id: PipedriveId): Promise<boolean> {
    return (await this.orUndefined(this.call('notes.delete', 'v1', 'delete', ({ v1, c }) => v1.NotesApiFp(c.v1).deleteNote(id)))) !== undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Files (API v1 only)

  /** POST /api/v1/files (multipart): the file lands in the Files tab of the person and lead/deal. */
  async addFile(file: { bytes: Buffer; name: string; mimeType?: string }, to: PipedriveFileTarget): Promise<PipedriveFile> {
    const blob = new File([new Uint8Array(file.bytes)], file.name, { type: file.mimeType ?? 'application/octet-stream' });
    return (
      await this.call<PipedriveFile>('files.add', 'v1', 'write', ({ v1, c }) =>
        v1.FilesApiFp(c.v1).addFile(blob, to.deal_id, to.person_id, undefined, undefined, undefined, to.lead_id),
      )
    ).data;
  }

  /** GET /api/v1/persons/{id}/files, newest first: a plain list, which sees a file at once. */
  async filesOfPerson(personId: PipedriveId, limit = LIST_LIMIT): Promise<PipedriveFile[]> {
    const { data } = await this.call<PipedriveFile[] | null>('persons.files', 'v1', 'list', ({ v1, c }) =>
      v1.PersonsApiFp(c.v1).getPersonFiles(personId, 0, limit, 'add_time DESC'),
    );
    return data ?? [];
  }

  /** DELETE /api/v1/files/{id}. False when it was already gone. */
  async deleteFile(id: PipedriveId): Promise<boolean> {
    return (await this.orUndefined(this.call('files.delete', 'v1', 'delete', ({ v1, c }) => v1.FilesApiFp(c.v1).deleteFile(id)))) !== undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Leads (API v1 only) and deals (API v2)

  async addLead(lead: PipedriveLeadInput): Promise<PipedriveLead> {
    const body = lead as unknown as V1.AddLeadRequest;
    return (await this.call<PipedriveLead>('leads.add', 'v1', 'write', ({ v1, c }) => v1.LeadsApiFp(c.v1).addLead(body))).data;
  }

  /** GET /api/v1/leads/{id}; undefined when it is gone (deleted, or converted into a deal). */
  async getLead(id: string): Promise<PipedriveLead | undefined> {
    return (await this.orUndefined(this.call<PipedriveLead>('leads.get', 'v1', 'get', ({ v1, c }) => v1.LeadsApiFp(c.v1).getLead(id))))?.data;
  }

  /** The person's leads that are not archived, newest first. */
  async leadsOfPerson(personId: PipedriveId, limit = LIST_LIMIT): Promise<PipedriveLead[]> {
    const { data } = await this.call<PipedriveLead[] | null>('leads.list', 'v1', 'list', ({ v1, c }) =>
      // The SDK's type lists bare field names; the API takes "field DIRECTION" as for notes.
      v1.LeadsApiFp(c.v1).getLeads(limit, 0, undefined, personId, undefined, undefined, undefined, 'add_time DESC' as 'add_time'),
    );
    return [...(data ?? [])].sort((a, b) => timeOf(b.add_time) - timeOf(a.add_time));
  }

  /** DELETE /api/v1/leads/{id}. False when it was already gone. */
  async deleteLead(id: string): Promise<boolean> {
    return (await this.orUndefined(this.call('leads.delete', 'v1', 'delete', ({ v1, c }) => v1.LeadsApiFp(c.v1).deleteLead(id)))) !== undefined;
  }

  async getDeal(id: PipedriveId): Promise<PipedriveDeal | undefined> {
    const deal = await this.orUndefined(this.call<PipedriveDeal>('deals.get', 'v2', 'get', ({ v2, c }) => v2.DealsApiFp(c.v2).getDeal(id)));
    return deal && !deal.data.is_deleted ? deal.data : undefined;
  }

  /** The person's open deals, most recently updated first. */
  async openDealsOfPerson(personId: PipedriveId, limit = 10): Promise<PipedriveDeal[]> {
    const { data } = await this.call<PipedriveDeal[] | null>('deals.list', 'v2', 'list', ({ v2, c }) =>
      v2.DealsApiFp(c.v2).getDeals(undefined, undefined, undefined, personId, undefined, undefined, undefined, 'open', undefined, undefined, 'update_time', 'desc', undefined, undefined, undefined, undefined, limit),
    );
    return data ?? [];
  }

  // -------------------------------------------------------------------------------------------
  // The wrapper

  /**
   * Spends `kind`'s token cost, builds the request with the SDK and sends it on our axios instance.
   * Resolves with Pipedrive's `data` for 2xx answers whose body says success; throws ConnectorError
   * for anything else.
   */
  async call<T>(
    operation: string,
    api: PipedriveApiVersion,
    kind: PipedriveCallKind,
    build: (ctx: Sdk & { c: { v1: V1.Configuration; v2: V2.Configuration } }) => Promise<SdkRequest>,
  ): Promise<PipedriveResult<T>> {
    const loaded = await loadSdk();
    const configs = this.configurations(loaded);
    let request: SdkRequest;
    try {
      request = await build({ ...loaded, c: configs });
    } catch (error) {
      // The SDK checks required parameters before any request.
      throw new ConnectorError('invalid_request', `Pipedrive ${operation}: ${error instanceof Error ? error.message : 'bad parameters'}`, { cause: error });
    }
    await this.deps.budget.acquire(TOKEN_COSTS[api][kind]);
    const started = Date.now();
    let response: AxiosResponse;
    try {
      response = (await request(this.http)) as AxiosResponse;
    } catch (error) {
      this.deps.logger.debug('pipedrive request failed', { operation, ms: Date.now() - started, error: networkErrorCode(error) });
      throw toConnectorError({ operation, cause: error, timeoutMs: this.deps.timeoutMs });
    }
    this.deps.logger.debug('pipedrive request', { operation, status: response.status, ms: Date.now() - started });
    const body = response.data as PipedriveEnvelope<T> | PipedriveErrorBody | string | undefined;
    if (response.status >= 300 || typeof body !== 'object' || body === null || body.success !== true) {
      throw toConnectorError({ operation, status: response.status, headers: response.headers as Record<string, unknown>, body });
    }
    return { status: response.status, data: (body as PipedriveEnvelope<T>).data, additional: (body as PipedriveEnvelope<T>).additional_data };
  }

  private configurations(loaded: Sdk): { v1: V1.Configuration; v2: V2.Configuration } {
    // The token goes in the x-api-token header (never the query string, which ends up in logs).
    this.configs ??= {
      v1: new loaded.v1.Configuration({ apiKey: this.credentials.apiToken, basePath: `${this.origin}/api/v1` }),
      v2: new loaded.v2.Configuration({ apiKey: this.credentials.apiToken, basePath: `${this.origin}/api/v2` }),
    };
    return this.configs;
  }

  private async orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
    try {
      return await promise;
    } catch (error) {
      if (ConnectorError.is(error) && error.kind === 'not_found') return undefined;
      throw error;
    }
  }
}

/** Pipedrive's times: v2 RFC 3339, v1 "YYYY-MM-DD HH:MM:SS" in UTC. NaN-safe: 0 when unreadable. */
export function timeOf(value: string | null | undefined): number {
  if (!value) return 0;
  const text = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? 0 : ms;
}

// ---------------------------------------------------------------------------------------------
// Error translation

export interface PipedriveFailure {
  operation: string;
  status?: number;
  headers?: Record<string, unknown>;
  body?: unknown;
  cause?: unknown;
  timeoutMs?: number;
  now?: number;
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  if (Array.isArray(value)) return value.length ? String(value[0]) : undefined;
  return value === undefined || value === null ? undefined : String(value);
}

/**
 * How long a 429 asks us to wait: Retry-After when Pipedrive sends one, else `x-ratelimit-reset`
 * (seconds until the burst window resets), else the two-second burst window.
 */
export function retryAfterOf(headers: Record<string, unknown> | undefined, now = Date.now()): number {
  const retryAfter = parseRetryAfter(header(headers, 'retry-after'), now);
  if (retryAfter !== undefined) return retryAfter;
  const reset = Number(header(headers, 'x-ratelimit-reset'));
  if (header(headers, 'x-ratelimit-reset') !== undefined && Number.isFinite(reset) && reset >= 0) return Math.round(reset * 1000);
  return BURST_WINDOW_MS;
}

/**
 * Translates any failure of a Pipedrive call into a ConnectorError — the one place that knows
 * Pipedrive's statuses: 401 → auth; 429 → rate_limited (retryAfterMs from its headers); 404/410 →
 * not_found; 408, 5xx, timeouts and broken connections → transient; other 4xx → invalid_request
 * (403 included: Pipedrive answers it for plan limits such as "open deals limit reached", which
 * new credentials would not fix); a 2xx whose body is not `success: true` → transient. Messages
 * carry the operation, status and Pipedrive's error sentence with numbers redacted, never a body.
 */
export function toConnectorError(failure: PipedriveFailure): ConnectorError {
  const { operation, status, cause } = failure;
  const what = `Pipedrive ${operation}`;
  if (status === undefined) {
    const code = networkErrorCode(cause);
    const name = (cause as { name?: string } | undefined)?.name;
    if (code === 'ETIMEDOUT' || code === 'ECONNABORTED' || name === 'AbortError' || name === 'CanceledError') {
      return new ConnectorError('transient', `${what}: no response within ${failure.timeoutMs ?? '?'} ms`, { cause });
    }
    if (isTransientNetworkCode(code) || (cause as { isAxiosError?: boolean } | undefined)?.isAxiosError) {
      return new ConnectorError('transient', `${what} failed: network error${code ? ` ${code}` : ''}`, { cause });
    }
    return new ConnectorError('permanent', `${what} failed: ${name ?? 'unexpected error'}`, { cause });
  }

  const body = typeof failure.body === 'object' && failure.body !== null ? (failure.body as PipedriveErrorBody) : undefined;
  const said = [body?.code, body?.error && redactPhoneNumbers(body.error, 200)].filter(Boolean).join(': ');
  const suffix = said ? ` (${said})` : '';
  const options = { vendorStatus: status, cause };
  if (status === 401) return new ConnectorError('auth', `${what} was refused: HTTP 401${suffix}`, options);
  if (status === 429) {
    return new ConnectorError('rate_limited', `${what} was rate limited: HTTP 429${suffix}`, { ...options, retryAfterMs: retryAfterOf(failure.headers, failure.now) });
  }
  if (status === 404 || status === 410) return new ConnectorError('not_found', `${what}: not found${suffix}`, options);
  if (status === 408 || status >= 500) return new ConnectorError('transient', `${what} failed: HTTP ${status}${suffix}`, options);
  if (status >= 400) return new ConnectorError('invalid_request', `${what} was refused: HTTP ${status}${suffix}`, options);
  if (status >= 300) return new ConnectorError('permanent', `${what}: unexpected redirect HTTP ${status}`, options);
  return new ConnectorError('transient', `${what}: HTTP ${status} without success in the body${suffix}`, options);
}

