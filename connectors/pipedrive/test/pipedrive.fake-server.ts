/**
 * An in-memory Pipedrive for tests, the demo and benchmarks: plain node:http on 127.0.0.1; the
 * real `pipedrive` SDK talks to it through the connection's `baseUrl` (= `fake.url`). It answers
 * like Pipedrive on the endpoints threadbridge uses, with Pipedrive's envelopes and error bodies
 * (`{success:false, error, error_info, data:null, additional_data:null}`):
 *
 * - Auth: the API token in `x-api-token` (or `?api_token=`); else 401 `unauthorized access`.
 * - API v2: GET /persons/search (`term`, `fields`, `exact_match`: an exact match is the whole field
 *   as typed, case-insensitive; without it the term may be any part of it; the search index sees a
 *   write only `searchLagMs` after it), GET /persons (sort_by/sort_direction/limit/cursor — the
 *   database, no lag), GET|PATCH|DELETE /persons/{id} (DELETE marks the person deleted: 404 from
 *   then on), POST /persons, GET /deals/{id}, GET /deals (person_id, status, sort).
 * - API v1: GET /users/me; POST /notes (content and a person/lead/deal required), GET /notes
 *   (person_id, lead_id, deal_id, start, limit, sort "add_time DESC"; `data: null` when empty, as
 *   v1 lists answer), DELETE /notes/{id}; POST /leads (201; title and a person required), GET
 *   /leads (person_id, archived_status, sort), GET|PATCH|DELETE /leads/{id}.
 * - Limits: every answer carries `x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset`
 *   for the two-second burst window; more requests in a window than `burstLimit` → 429 with those
 *   headers (no Retry-After). Each request spends its endpoint's tokens (API v2 half of v1) from
 *   `dailyTokens`; an empty budget → 429 until midnight UTC. `tokensSpent()` tells the total.
 * - Files (API v1): POST /files (multipart: `file` and a person/lead/deal), GET /persons/{id}/files,
 *   DELETE /files/{id}.
 * - Faults: `failNext(status, {retryAfterSec, body})`, `hang(ms)`, `setSearchLag(ms)`,
 *   `resetAfterNextCreate()` (the next POST that adds a person, note, file or lead is carried out, then
 *   its connection is reset without an answer), latency.
 * - Sales side: seedPerson(), seedLead(), archiveLead(), convertLeadToDeal(), and read-back of
 *   persons, notes, leads, deals and requests.
 */
import busboy from 'busboy';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { countryOf, toE164 } from '../../_sdk/phone';

// ---------------------------------------------------------------------------------------------
// Records

export interface FakePhone {
  value: string;
  label: string;
  primary: boolean;
}

export interface FakePerson {
  id: number;
  name: string;
  phones: FakePhone[];
  emails: { value: string; label: string; primary: boolean }[];
  owner_id: number;
  add_time: string;
  update_time: string;
  is_deleted: boolean;
  custom_fields: Record<string, unknown>;
  /** Internal: when the search index sees the person as it is now. */
  indexedAt: number;
  /** Internal: what the search index holds (the person as it was at its previous write, if lagging). */
  indexed?: { name: string; phones: string[] };
}

export interface FakeNote {
  id: number;
  content: string;
  user_id: number;
  person_id: number | null;
  lead_id: string | null;
  deal_id: number | null;
  add_time: string;
  update_time: string;
}

export interface FakeFile {
  id: number;
  name: string;
  file_name: string;
  file_type: string;
  file_size: number;
  person_id: number | null;
  lead_id: string | null;
  deal_id: number | null;
  add_time: string;
  /** Internal: the bytes. */
  bytes: Buffer;
}

export interface FakeLead {
  id: string;
  title: string;
  owner_id: number;
  creator_id: number;
  label_ids: string[];
  person_id: number | null;
  organization_id: number | null;
  source_name: string;
  is_archived: boolean;
  was_seen: boolean;
  add_time: string;
  update_time: string;
}

export interface FakeDeal {
  id: number;
  title: string;
  person_id: number | null;
  status: 'open' | 'won' | 'lost';
  is_deleted: boolean;
  source_lead_id: string | null;
  add_time: string;
  update_time: string;
}

export interface FakeRequestLog {
  method: string;
  /** Path with its API version, e.g. `/api/v2/persons/search`. */
  path: string;
  query: Record<string, string>;
  /** The answer's status; 0 when the connection was reset, -1 when nobody listened any more. */
  status: number;
  /** Tokens the request spent. */
  tokens: number;
  at: number;
  body?: unknown;
}

export interface PipedriveFakeOptions {
  apiToken?: string;
  /** Requests per two-second window (Pipedrive, API token: 20 Lite … 120 Ultimate). 0: no limit. Default 80. */
  burstLimit?: number;
  /** The account's daily token budget. Default 1,000,000. */
  dailyTokens?: number;
  /** How long a write stays invisible to (or stale in) the search index. Default 0. */
  searchLagMs?: number;
  latencyMs?: number;
  now?: () => number;
}

/** Tokens per request (Pipedrive's rate-limiting page): API v2 costs half of v1. */
const COSTS = {
  v1: { get: 2, list: 20, write: 10, delete: 6 },
  v2: { get: 1, list: 10, write: 5, delete: 3, search: 20 },
} as const;

const BURST_WINDOW_MS = 2_000;
const ERROR_INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';
const USER_ID = 11_000_001;

class Answer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Pipedrive's error envelope. */
function failure(status: number, error: string, extra: Record<string, unknown> = {}): Answer {
  return new Answer(status, { success: false, error, error_info: ERROR_INFO, data: null, additional_data: null, ...extra });
}

const ok = (data: unknown, additional: unknown = null, status = 200) => new Answer(status, { success: true, data, additional_data: additional });

interface Route {
  method: string;
  pattern: RegExp;
  api: 'v1' | 'v2';
  cost: number;
  /** POSTs that add a record: what resetAfterNextCreate() cuts off. */
  creates?: boolean;
  handle(match: RegExpExecArray, query: URLSearchParams, body: Record<string, unknown>): Answer;
  /** Takes multipart/form-data (the body's fields; `file` is {name, type, bytes}). */
  multipart?: boolean;
}

interface Fault {
  kind: 'fail' | 'hang';
  status: number;
  ms: number;
  retryAfterSec?: number;
  body?: unknown;
}

export class PipedriveFake {
  url = '';
  readonly apiToken: string;
  private readonly options: Required<Omit<PipedriveFakeOptions, 'apiToken' | 'now'>>;
  private readonly now: () => number;
  private readonly server: http.Server;
  private readonly routes: Route[];

  private readonly personsById = new Map<number, FakePerson>();
  private readonly notesById = new Map<number, FakeNote>();
  private readonly leadsById = new Map<string, FakeLead>();
  private readonly filesById = new Map<number, FakeFile>();
  private readonly dealsById = new Map<number, FakeDeal>();
  private readonly log: FakeRequestLog[] = [];
  private readonly faults: Fault[] = [];
  private burst: number[] = [];
  private readonly sleepers = new Set<() => void>();
  private spent = 0;
  private resets = 0;
  private seq = { person: 100, note: 5_000, deal: 700, file: 9_000 };

  constructor(options: PipedriveFakeOptions = {}) {
    this.apiToken = options.apiToken ?? 'pipedrive-test-token';
    this.options = {
      burstLimit: options.burstLimit ?? 80,
      dailyTokens: options.dailyTokens ?? 1_000_000,
      searchLagMs: options.searchLagMs ?? 0,
      latencyMs: options.latencyMs ?? 0,
    };
    this.now = options.now ?? (() => Date.now());
    this.routes = this.buildRoutes();
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1_000;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    // Hung requests end with the server, so no timer outlives it.
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Plain credentials JSON for a connection to this fake. */
  credentials(extra: Record<string, string> = {}): { apiToken: string; baseUrl: string } {
    return { apiToken: this.apiToken, baseUrl: this.url, ...extra };
  }

  // -------------------------------------------------------------------------------------------
  // Faults and limits

  /** The next request is answered with `status` (429s with Retry-After and x-ratelimit-reset). */
  failNext(status: number, opts: { retryAfterSec?: number; body?: unknown } = {}): void {
    this.faults.push({ kind: 'fail', status, ms: 0, ...opts });
  }

  /** The next request gets no answer for `ms`. */
  hang(ms: number): void {
    this.faults.push({ kind: 'hang', status: 0, ms });
  }

  /** From now on, the search index sees a write only `ms` after it. */
  setSearchLag(ms: number): void {
    this.options.searchLagMs = ms;
  }

  /** The next POST that adds a person, note or lead is carried out, then its connection is reset. */
  resetAfterNextCreate(times = 1): void {
    this.resets += times;
  }

  setBurstLimit(requestsPerWindow: number): void {
    this.options.burstLimit = requestsPerWindow;
    this.burst = [];
  }

  setDailyTokens(tokens: number): void {
    this.options.dailyTokens = tokens;
  }

  setLatency(ms: number): void {
    this.options.latencyMs = ms;
  }

  // -------------------------------------------------------------------------------------------
  // Read-back and seeding

  requests(): FakeRequestLog[] {
    return [...this.log];
  }

  requestCount(): number {
    return this.log.length;
  }

  requestsTo(method: string, path: string | RegExp): FakeRequestLog[] {
    return this.log.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  clearRequests(): void {
    this.log.length = 0;
  }

  /** Tokens spent by every request so far. */
  tokensSpent(): number {
    return this.spent;
  }

  /** Persons not deleted. */
  persons(): FakePerson[] {
    return [...this.personsById.values()].filter((p) => !p.is_deleted);
  }

  person(id: number | string): FakePerson | undefined {
    return this.personsById.get(Number(id));
  }

  /** Every note, oldest first. */
  notes(): FakeNote[] {
    return [...this.notesById.values()];
  }

  notesOf(personId: number | string): FakeNote[] {
    return this.notes().filter((n) => n.person_id === Number(personId));
  }

  leads(): FakeLead[] {
    return [...this.leadsById.values()];
  }

  lead(id: string): FakeLead | undefined {
    return this.leadsById.get(id);
  }

  files(): FakeFile[] {
    return [...this.filesById.values()];
  }

  deals(): FakeDeal[] {
    return [...this.dealsById.values()];
  }

  /** Persons (not deleted) holding `e164` in a phone field, in any written form. */
  contactsMatching(e164: string): number {
    return this.persons().filter((p) => p.phones.some((ph) => toE164(ph.value, countryOf(e164)) === e164)).length;
  }

  /** A person whose phone field holds `formatted` as typed (already indexed); returns its id. */
  seedContactWithPhone(formatted: string): string {
    return String(this.seedPerson({ name: 'Seeded person', phones: [formatted] }).id);
  }

  /** A person made in Pipedrive's UI: in the search index at once. */
  seedPerson(input: { name: string; phones?: string[]; addedAt?: Date }): FakePerson {
    const person = this.insertPerson({ name: input.name, phones: (input.phones ?? []).map((value, i) => ({ value, label: 'work', primary: i === 0 })) }, input.addedAt);
    person.indexedAt = 0;
    person.indexed = undefined;
    return person;
  }

  seedLead(input: { title: string; personId: number | string; addedAt?: Date }): FakeLead {
    return this.insertLead({ title: input.title, person_id: Number(input.personId) }, input.addedAt);
  }

  /** Marks the person deleted (404 from then on); the search index sees it `searchLagMs` later. */
  deletePerson(id: number | string): FakePerson | undefined {
    const person = this.livePerson(String(id));
    if (!person) return undefined;
    const before = { name: person.name, phones: person.phones.map((p) => p.value) };
    person.is_deleted = true;
    person.update_time = this.stamp().v2;
    this.reindex(person, before);
    return person;
  }

  archiveLead(id: string): void {
    const lead = this.leadsById.get(id);
    if (lead) lead.is_archived = true;
  }

  /** What Pipedrive's "Convert to deal" does: the lead is gone, an open deal takes its place. */
  convertLeadToDeal(id: string): FakeDeal {
    const lead = this.leadsById.get(id);
    if (!lead) throw new Error(`no lead ${id}`);
    this.leadsById.delete(id);
    const stamp = this.stamp();
    const deal: FakeDeal = { id: ++this.seq.deal, title: lead.title, person_id: lead.person_id, status: 'open', is_deleted: false, source_lead_id: id, add_time: stamp.v2, update_time: stamp.v2 };
    this.dealsById.set(deal.id, deal);
    for (const note of this.notesById.values()) if (note.lead_id === id) Object.assign(note, { lead_id: null, deal_id: deal.id });
    return deal;
  }

  /** How many notes hold `text` (as written, or HTML-escaped). */
  recordsContaining(text: string): number {
    const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return this.notes().filter((n) => n.content.includes(text) || n.content.includes(escaped)).length;
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const entry: FakeRequestLog = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, tokens: 0, at: this.now() };
    this.log.push(entry);
    const reply = (answer: Answer): void => {
      entry.status = answer.status;
      if (res.destroyed) {
        entry.status = -1;
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...this.rateHeaders(), ...answer.headers });
      res.end(JSON.stringify(answer.body));
    };

    if (this.options.latencyMs > 0) await this.sleep(this.options.latencyMs);
    const fault = this.faults.shift();
    if (fault?.kind === 'hang') {
      await this.sleep(fault.ms);
      if (res.destroyed) {
        entry.status = -1;
        return;
      }
    }
    if (fault?.kind === 'fail') return reply(this.injected(fault));

    const token = req.headers['x-api-token'] ?? url.searchParams.get('api_token');
    if (token !== this.apiToken) return reply(failure(401, 'unauthorized access', { errorCode: 401 }));
    const limited = this.burstLimited();
    if (limited) return reply(limited);

    const found = this.match(method, url.pathname);
    if (!found) return reply(failure(404, `Unknown method .`, { errorCode: 404 }));
    const { route, match } = found;
    if (this.spent + route.cost > this.options.dailyTokens) {
      const midnight = new Date(this.now());
      midnight.setUTCHours(24, 0, 0, 0);
      return reply(new Answer(429, { success: false, error: 'Daily token budget exceeded', error_info: ERROR_INFO, data: null, additional_data: null }, { 'x-ratelimit-reset': String(Math.ceil((midnight.getTime() - this.now()) / 1000)) }));
    }

    let body: Record<string, unknown> = {};
    if (route.multipart) {
      const form = await parseMultipart(req.headers, raw).catch(() => undefined);
      if (!form) return reply(failure(400, 'Invalid multipart body'));
      body = form;
    } else if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return reply(failure(400, 'Invalid JSON body'));
      }
    }
    entry.body = route.multipart ? { ...body, file: body.file ? '(bytes)' : undefined } : body;
    entry.tokens = route.cost;
    this.spent += route.cost;
    const answer = route.handle(match, url.searchParams, body);
    if (route.creates && answer.status < 300 && this.resets > 0) {
      // The record exists now; the client only hears its connection break.
      this.resets -= 1;
      entry.status = 0;
      req.socket.destroy();
      return;
    }
    reply(answer);
  }

  /** A pause that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private injected(fault: Fault): Answer {
    const headers: Record<string, string> = {};
    if (fault.retryAfterSec !== undefined) {
      headers['retry-after'] = String(fault.retryAfterSec);
      headers['x-ratelimit-reset'] = String(fault.retryAfterSec);
    }
    if (fault.status === 429) headers['x-ratelimit-remaining'] = '0';
    if (fault.body !== undefined) return new Answer(fault.status, fault.body, headers);
    const sentence: Record<number, string> = { 400: 'Bad request', 401: 'unauthorized access', 403: 'Forbidden', 404: 'Not found', 429: 'Request over limit', 500: 'Internal server error', 502: 'Bad gateway', 503: 'Service unavailable' };
    const answer = failure(fault.status, sentence[fault.status] ?? 'Error', { errorCode: fault.status });
    return new Answer(answer.status, answer.body, headers);
  }

  private burstLimited(): Answer | undefined {
    if (this.options.burstLimit <= 0) return undefined;
    const now = this.now();
    this.burst = this.burst.filter((t) => t > now - BURST_WINDOW_MS);
    if (this.burst.length >= this.options.burstLimit) {
      return failure(429, 'Request over limit', { errorCode: 429 });
    }
    this.burst.push(now);
    return undefined;
  }

  private rateHeaders(): Record<string, string> {
    const limit = this.options.burstLimit > 0 ? this.options.burstLimit : 1_000_000;
    const now = this.now();
    const window = this.burst.filter((t) => t > now - BURST_WINDOW_MS);
    const reset = window.length ? Math.max(1, Math.ceil((window[0] + BURST_WINDOW_MS - now) / 1000)) : 2;
    return { 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(Math.max(0, limit - window.length)), 'x-ratelimit-reset': String(reset) };
  }

  private match(method: string, path: string): { route: Route; match: RegExpExecArray } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (match) return { route, match };
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Endpoints

  private buildRoutes(): Route[] {
    const v1 = (method: string, path: string, kind: keyof typeof COSTS.v1, handle: Route['handle'], creates = false): Route => ({
      method,
      pattern: new RegExp(`^/api/v1${path}/?$`),
      api: 'v1',
      cost: COSTS.v1[kind],
      creates,
      handle,
    });
    const v2 = (method: string, path: string, kind: keyof typeof COSTS.v2, handle: Route['handle'], creates = false): Route => ({
      method,
      pattern: new RegExp(`^/api/v2${path}/?$`),
      api: 'v2',
      cost: COSTS.v2[kind],
      creates,
      handle,
    });
    return [
      v1('GET', '/users/me', 'get', () => ok({ id: USER_ID, name: 'threadbridge API', email: 'api@example.com', company_id: 77, company_domain: 'fake-company' })),

      v2('GET', '/persons/search', 'search', (_m, q) => this.searchPersons(q)),
      v2('GET', '/persons', 'list', (_m, q) => this.listPersons(q)),
      v2('POST', '/persons', 'write', (_m, _q, body) => this.addPerson(body), true),
      v2('GET', '/persons/(\\d+)', 'get', (m) => {
        const person = this.livePerson(m[1]);
        return person ? ok(toV2Person(person)) : failure(404, 'Person not found');
      }),
      v2('PATCH', '/persons/(\\d+)', 'write', (m, _q, body) => this.updatePerson(m[1], body)),
      v2('DELETE', '/persons/(\\d+)', 'delete', (m) => {
        const person = this.deletePerson(m[1]);
        return person ? ok({ id: person.id }) : failure(404, 'Person not found');
      }),

      v2('GET', '/deals/(\\d+)', 'get', (m) => {
        const deal = this.dealsById.get(Number(m[1]));
        return deal && !deal.is_deleted ? ok(deal) : failure(404, 'Deal not found');
      }),
      v2('GET', '/deals', 'list', (_m, q) => {
        let deals = this.deals().filter((d) => !d.is_deleted);
        if (q.get('person_id')) deals = deals.filter((d) => d.person_id === Number(q.get('person_id')));
        if (q.get('status')) deals = deals.filter((d) => d.status === q.get('status'));
        return this.v2Page(sortBy(deals, q.get('sort_by') ?? 'id', q.get('sort_direction') ?? 'asc'), q);
      }),

      v1('POST', '/notes', 'write', (_m, _q, body) => this.addNote(body), true),
      v1('GET', '/notes', 'list', (_m, q) => {
        let notes = this.notes();
        for (const [param, key] of [['person_id', 'person_id'], ['deal_id', 'deal_id']] as const) {
          if (q.get(param)) notes = notes.filter((n) => n[key] === Number(q.get(param)));
        }
        if (q.get('lead_id')) notes = notes.filter((n) => n.lead_id === q.get('lead_id'));
        return this.v1Page(sortV1(notes, q.get('sort') ?? 'id ASC'), q);
      }),
      v1('DELETE', '/notes/(\\d+)', 'delete', (m) => (this.notesById.delete(Number(m[1])) ? ok({ id: Number(m[1]) }) : failure(404, 'Note not found'))),

      { ...v1('POST', '/files', 'write', (_m, _q, body) => this.addFile(body), true), multipart: true },
      v1('GET', '/persons/(\\d+)/files', 'list', (m, q) => {
        if (!this.livePerson(m[1])) return failure(404, 'Person not found');
        const files = this.files().filter((f) => f.person_id === Number(m[1])).map(({ bytes: _bytes, ...file }) => file);
        return this.v1Page(sortV1(files, q.get('sort') ?? 'id ASC'), q);
      }),
      v1('DELETE', '/files/(\\d+)', 'delete', (m) => (this.filesById.delete(Number(m[1])) ? ok({ id: Number(m[1]) }) : failure(404, 'File not found'))),

      v1('POST', '/leads', 'write', (_m, _q, body) => this.addLead(body), true),
      v1('GET', '/leads', 'list', (_m, q) => {
        const archived = q.get('archived_status') ?? 'not_archived';
        let leads = this.leads().filter((l) => archived === 'all' || l.is_archived === (archived === 'archived'));
        if (q.get('person_id')) leads = leads.filter((l) => l.person_id === Number(q.get('person_id')));
        return this.v1Page(sortV1(leads, q.get('sort') ?? 'add_time ASC'), q);
      }),
      v1('GET', '/leads/([0-9a-f-]{36})', 'get', (m) => {
        const lead = this.leadsById.get(m[1]);
        return lead ? ok(lead) : failure(404, 'Lead not found');
      }),
      v1('PATCH', '/leads/([0-9a-f-]{36})', 'write', (m, _q, body) => {
        const lead = this.leadsById.get(m[1]);
        if (!lead) return failure(404, 'Lead not found');
        if (typeof body.title === 'string') lead.title = body.title;
        if (typeof body.is_archived === 'boolean') lead.is_archived = body.is_archived;
        lead.update_time = this.stamp().v2;
        return ok(lead);
      }),
      v1('DELETE', '/leads/([0-9a-f-]{36})', 'delete', (m) => (this.leadsById.delete(m[1]) ? ok({ id: m[1] }) : failure(404, 'Lead not found'))),
    ];
  }

  /** Pipedrive's search: the index as it was `searchLagMs` ago; exact = the whole field, case-insensitive. */
  private searchPersons(q: URLSearchParams): Answer {
    const term = (q.get('term') ?? '').trim().toLowerCase();
    const exact = q.get('exact_match') === 'true';
    if (term.length < (exact ? 1 : 2)) return failure(400, 'Validation failed: term: Must be at least 2 characters long (1 with exact_match)', { code: 'ERR_SCHEMA_VALIDATION_FAILED' });
    const fields = (q.get('fields') ?? 'name,phone,email,notes,custom_fields').split(',');
    const matches = (value: string) => (exact ? value.toLowerCase() === term : value.toLowerCase().includes(term));
    const now = this.now();
    // What the index holds: the person as it is once indexed (nothing once deleted), else as it was.
    const items = [...this.personsById.values()]
      .map((person) => ({ person, seen: person.indexedAt <= now ? (person.is_deleted ? undefined : { name: person.name, phones: person.phones.map((p) => p.value) }) : person.indexed }))
      .filter(({ seen }) => seen !== undefined && ((fields.includes('phone') && seen.phones.some(matches)) || (fields.includes('name') && matches(seen.name))))
      .slice(0, Math.min(Number(q.get('limit') ?? 100), 500))
      .map(({ person, seen }) => ({
        result_score: exact ? 1 : 0.5,
        item: { id: person.id, type: 'person', name: seen!.name, phones: seen!.phones, emails: [], visible_to: 3, owner: { id: person.owner_id }, organization: null, custom_fields: [], notes: [], update_time: person.update_time },
      }));
    return ok({ items }, { next_cursor: null });
  }

  private listPersons(q: URLSearchParams): Answer {
    const sortKey = q.get('sort_by') ?? 'id';
    if (!['id', 'add_time', 'update_time'].includes(sortKey)) return failure(400, `Validation failed: sort_by: Must be one of id, update_time, add_time`, { code: 'ERR_SCHEMA_VALIDATION_FAILED' });
    const persons = sortBy(this.persons(), sortKey, q.get('sort_direction') ?? 'asc');
    return this.v2Page(persons.map(toV2Person), q);
  }

  private addPerson(body: Record<string, unknown>): Answer {
    if (typeof body.name !== 'string' || body.name.trim() === '') return failure(400, 'Validation failed: name: Required', { code: 'ERR_SCHEMA_VALIDATION_FAILED' });
    const phones = this.readPhones(body.phones);
    if (phones instanceof Answer) return phones;
    const person = this.insertPerson({ name: body.name, phones });
    return ok(toV2Person(person));
  }

  private updatePerson(id: string, body: Record<string, unknown>): Answer {
    const person = this.livePerson(id);
    if (!person) return failure(404, 'Person not found');
    const before = { name: person.name, phones: person.phones.map((p) => p.value) };
    if (typeof body.name === 'string') person.name = body.name;
    if (body.phones !== undefined) {
      const phones = this.readPhones(body.phones);
      if (phones instanceof Answer) return phones;
      person.phones = phones;
    }
    if (body.custom_fields !== undefined) {
      if (typeof body.custom_fields !== 'object' || body.custom_fields === null) return failure(400, 'Validation failed: custom_fields: Must be an object', { code: 'ERR_SCHEMA_VALIDATION_FAILED' });
      Object.assign(person.custom_fields, body.custom_fields);
    }
    person.update_time = this.stamp().v2;
    this.reindex(person, before);
    return ok(toV2Person(person));
  }

  private addNote(body: Record<string, unknown>): Answer {
    if (typeof body.content !== 'string' || body.content.trim() === '') return failure(400, 'Content is required.');
    const personId = body.person_id === undefined ? null : Number(body.person_id);
    const dealId = body.deal_id === undefined ? null : Number(body.deal_id);
    const leadId = typeof body.lead_id === 'string' ? body.lead_id : null;
    if (personId === null && dealId === null && leadId === null && body.org_id === undefined) {
      return failure(400, 'Either deal_id, lead_id, person_id, org_id, project_id or task_id is required.');
    }
    if (personId !== null && !this.livePerson(String(personId))) return failure(404, 'Person not found');
    if (leadId !== null && !this.leadsById.has(leadId)) return failure(404, 'Lead not found');
    if (dealId !== null && !this.dealsById.has(dealId)) return failure(404, 'Deal not found');
    const stamp = this.stamp();
    const note: FakeNote = { id: ++this.seq.note, content: body.content, user_id: USER_ID, person_id: personId, lead_id: leadId, deal_id: dealId, add_time: stamp.v1, update_time: stamp.v1 };
    this.notesById.set(note.id, note);
    return ok(note);
  }

  private addFile(body: Record<string, unknown>): Answer {
    const file = body.file as { name: string; type: string; bytes: Buffer } | undefined;
    if (!file) return failure(400, 'No file was uploaded.');
    const personId = body.person_id === undefined ? null : Number(body.person_id);
    const leadId = typeof body.lead_id === 'string' ? body.lead_id : null;
    const dealId = body.deal_id === undefined ? null : Number(body.deal_id);
    if (personId === null && leadId === null && dealId === null && body.org_id === undefined) return failure(400, 'Item (deal, person, organization, product, activity, lead or project) must be specified.');
    if (personId !== null && !this.livePerson(String(personId))) return failure(404, 'Person not found');
    if (leadId !== null && !this.leadsById.has(leadId)) return failure(404, 'Lead not found');
    const record: FakeFile = {
      id: ++this.seq.file,
      name: file.name,
      file_name: `${this.seq.file}_${file.name}`,
      file_type: file.name.split('.').pop() ?? 'unknown',
      file_size: file.bytes.length,
      person_id: personId,
      lead_id: leadId,
      deal_id: dealId,
      add_time: this.stamp().v1,
      bytes: file.bytes,
    };
    this.filesById.set(record.id, record);
    const { bytes: _bytes, ...visible } = record;
    return ok(visible);
  }

  private addLead(body: Record<string, unknown>): Answer {
    if (typeof body.title !== 'string' || body.title.trim() === '') return failure(400, 'Title is required.');
    if (body.person_id === undefined && body.organization_id === undefined) return failure(400, 'A lead must be linked to a person or an organization.');
    if (body.person_id !== undefined && !this.livePerson(String(body.person_id))) return failure(400, 'Person does not exist or is deleted.');
    if (body.label_ids !== undefined && !(Array.isArray(body.label_ids) && body.label_ids.every((l) => typeof l === 'string'))) return failure(400, 'label_ids must be an array of uuids.');
    return ok(this.insertLead(body), null, 201);
  }

  // -------------------------------------------------------------------------------------------

  private insertPerson(input: { name: string; phones: FakePhone[] }, addedAt?: Date): FakePerson {
    const stamp = this.stamp(addedAt);
    const person: FakePerson = {
      id: ++this.seq.person,
      name: input.name,
      phones: input.phones,
      emails: [],
      owner_id: USER_ID,
      add_time: stamp.v2,
      update_time: stamp.v2,
      is_deleted: false,
      custom_fields: {},
      indexedAt: 0,
    };
    this.personsById.set(person.id, person);
    this.reindex(person, undefined);
    return person;
  }

  private insertLead(input: Record<string, unknown>, addedAt?: Date): FakeLead {
    const stamp = this.stamp(addedAt);
    const lead: FakeLead = {
      id: randomUUID(),
      title: String(input.title),
      owner_id: typeof input.owner_id === 'number' ? input.owner_id : USER_ID,
      creator_id: USER_ID,
      label_ids: Array.isArray(input.label_ids) ? (input.label_ids as string[]) : [],
      person_id: input.person_id === undefined ? null : Number(input.person_id),
      organization_id: input.organization_id === undefined ? null : Number(input.organization_id),
      source_name: 'API',
      is_archived: false,
      was_seen: false,
      add_time: stamp.v2,
      update_time: stamp.v2,
    };
    this.leadsById.set(lead.id, lead);
    return lead;
  }

  /** The search index sees the new state `searchLagMs` from now; until then, the one before. */
  private reindex(person: FakePerson, before: { name: string; phones: string[] } | undefined): void {
    if (this.options.searchLagMs <= 0) {
      person.indexedAt = 0;
      person.indexed = undefined;
      return;
    }
    person.indexed = before;
    person.indexedAt = this.now() + this.options.searchLagMs;
  }

  private readPhones(value: unknown): FakePhone[] | Answer {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return failure(400, 'Validation failed: phones: Must be an array', { code: 'ERR_SCHEMA_VALIDATION_FAILED' });
    const phones: FakePhone[] = [];
    for (const [i, p] of value.entries()) {
      const phone = p as Partial<FakePhone>;
      if (typeof phone?.value !== 'string') return failure(400, `Validation failed: phones[${i}].value: Required`, { code: 'ERR_SCHEMA_VALIDATION_FAILED' });
      phones.push({ value: phone.value, label: phone.label ?? 'work', primary: phone.primary ?? i === 0 });
    }
    return phones;
  }

  private livePerson(id: string): FakePerson | undefined {
    const person = this.personsById.get(Number(id));
    return person && !person.is_deleted ? person : undefined;
  }

  /** v2 lists: `limit` (default 100, at most 500) and an opaque cursor. */
  private v2Page(items: unknown[], q: URLSearchParams): Answer {
    const limit = Number(q.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) return failure(400, 'Validation failed: limit: Must be between 1 and 500', { code: 'ERR_SCHEMA_VALIDATION_FAILED' });
    const start = q.get('cursor') ? Number(Buffer.from(q.get('cursor')!, 'base64url').toString()) : 0;
    const page = items.slice(start, start + limit);
    const next = start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
    return ok(page, { next_cursor: next });
  }

  /** v1 lists: `start`/`limit`; an empty page is `data: null`, as Pipedrive answers. */
  private v1Page(items: unknown[], q: URLSearchParams): Answer {
    const start = Number(q.get('start') ?? 0);
    const limit = Math.min(Number(q.get('limit') ?? 100), 500);
    const page = items.slice(start, start + limit);
    const more = start + limit < items.length;
    return ok(page.length ? page : null, { pagination: { start, limit, more_items_in_collection: more, ...(more ? { next_start: start + limit } : {}) } });
  }

  /** v2 times are RFC 3339 without milliseconds; v1 times "YYYY-MM-DD HH:MM:SS" (UTC). */
  private stamp(at?: Date): { v1: string; v2: string } {
    const iso = (at ?? new Date(this.now())).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { v2: iso, v1: iso.replace('T', ' ').replace('Z', '') };
  }
}

function toV2Person(person: FakePerson) {
  const { indexedAt: _indexedAt, indexed: _indexed, ...visible } = person;
  return visible;
}

function sortBy<T extends object>(items: T[], key: string, direction: string): T[] {
  const sign = direction.toLowerCase() === 'desc' ? -1 : 1;
  const value = (item: T) => (item as Record<string, unknown>)[key] as string | number;
  return [...items].sort((a, b) => (value(a) < value(b) ? -sign : value(a) > value(b) ? sign : 0));
}

/** v1 `sort`: "field ASC|DESC" (several, comma-separated: the first decides here). */
function sortV1<T extends object>(items: T[], sort: string): T[] {
  const [field, direction = 'ASC'] = sort.split(',')[0].trim().split(/\s+/);
  const descending = direction.toUpperCase() === 'DESC';
  // `items` come in the order they were added; equal values keep it (newest first when descending),
  // as a database's tie-break on the id would.
  const ordered = descending ? [...items].reverse() : [...items];
  const sign = descending ? -1 : 1;
  const value = (item: T) => (item as Record<string, unknown>)[field] as string | number;
  return ordered.sort((a, b) => (value(a) < value(b) ? -sign : value(a) > value(b) ? sign : 0));
}

/** A multipart/form-data body: its fields, and `file` as {name, type, bytes}. */
function parseMultipart(headers: http.IncomingHttpHeaders, raw: Buffer): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, unknown> = {};
    const parser = busboy({ headers, limits: { fileSize: 50 * 1024 * 1024, files: 1 } });
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => (fields[name] = { name: info.filename, type: info.mimeType, bytes: Buffer.concat(chunks) }));
    });
    parser.on('close', () => resolve(fields));
    parser.on('error', reject);
    parser.end(raw);
  });
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startPipedriveFake(options: PipedriveFakeOptions = {}): Promise<PipedriveFake> {
  return new PipedriveFake(options).listen();
}
