/**
 * A CRM in memory, for tests of the core that need a connector but no vendor: the medium test
 * tier (services on a real Postgres, no HTTP) registers `new FakeCrm().definition` in place of
 * connectors/index.ts's list, and asserts on what the fake holds afterwards.
 *
 *   const crm = new FakeCrm();
 *   crm.failNext('rate_limited', { retryAfterMs: 2_000 });   // the next call answers 429
 *   … run the service …
 *   expect(crm.timelineOf(contactId).map((r) => r.text)).toEqual([...]);
 *
 * It has every facet of the contract (connectors/_sdk/contract.ts) and behaves as a careful vendor
 * would: contacts found by any written form of the phone number (through a search that may lag
 * behind writes, setSearchLag), messages on the contact's timeline (a message flagged maybeCreated
 * is looked up by its id first: `reconcile: consistent_read`, like the real connectors), tickets
 * per conversation, transcripts, consent on the contact, erasure, and agent replies delivered by an
 * HMAC-signed webhook. Its API writes one record per call, so its facets are oneByOne() batches
 * (connectors/_sdk/batch.ts), as a connector for such a vendor would be. It records every vendor
 * call it got (`calls`, named as in FakeCrmMethod), spends the request budget once per call and
 * honours deps.timeoutMs. No Jest here: demos may use it too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { IsNotEmpty, IsOptional, IsString } from 'class-validator';
import { oneByOne } from '../batch';
import type {
  AgentReplyEvent,
  AppendResult,
  ConnectorDefinition,
  ConnectorDeps,
  ConnectorEvent,
  ConsentFacet,
  ConsentScope,
  ConsentState,
  ContactsFacet,
  CrmConnector,
  Customer,
  ErasureFacet,
  ErasureReceipt,
  RawWebhook,
  RemoteRef,
  RepliesFacet,
  ReplyRef,
  ReplyStatus,
  Thread,
  TicketRouting,
  TicketRoutingFacet,
  TicketsFacet,
  TimelineFacet,
  TranscriptsFacet,
  UnifiedMessage,
} from '../contract';
import { ConnectorError, type ConnectorErrorKind } from '../errors';
import { countryOf, toE164 } from '../phone';

export const FAKE_CRM_ID = 'fakecrm';
export const FAKE_CRM_TOKEN = 'fake-crm-token';
export const FAKE_CRM_WEBHOOK_SECRET = 'fake-crm-webhook-secret';
/** Header names of the fake's webhook signature: hex HMAC-SHA256 of `${timestamp}.${body}`. */
export const FAKE_CRM_SIGNATURE_HEADER = 'x-fakecrm-signature';
export const FAKE_CRM_TIMESTAMP_HEADER = 'x-fakecrm-timestamp';
/** A webhook signed longer ago than this is refused (replays). */
const WEBHOOK_TOLERANCE_MS = 5 * 60_000;

export class FakeCrmCredentials {
  @IsString()
  @IsNotEmpty()
  token!: string;

  /** Signs the agent-reply webhooks the fake sends (facet `replies`). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  webhookSecret?: string;
}

export class FakeCrmSettings {}

/** The fake vendor's API calls (one record each), as `calls` names them. */
export type FakeCrmMethod =
  | 'verifyCredentials'
  | 'ensureContact'
  | 'ensureTicket'
  | 'routeTicket'
  | 'appendMessages'
  | 'attachTranscript'
  | 'reportReplyStatus'
  | 'recordConsent'
  | 'eraseContact';

/** What the fake can be told to do to the next call. */
export type FakeCrmFault =
  | ConnectorErrorKind
  /** The write is carried out, then the answer is lost: the call throws `transient`. */
  | 'maybe_created';

export interface FakeCrmFaultOptions {
  /** For rate_limited: the vendor's Retry-After. */
  retryAfterMs?: number;
  /** Only a call of this method takes the fault (default: the next call of any method). */
  method?: FakeCrmMethod;
  /** How many calls in a row take it (default 1). */
  times?: number;
}

export interface FakeCrmCall {
  method: FakeCrmMethod;
  at: Date;
  /** The call's arguments, as the connector received them. */
  args: unknown[];
  /** 'ok', or the kind of ConnectorError the call threw (maybe_created: written, then 'transient'). */
  outcome: 'ok' | ConnectorErrorKind | 'maybe_created';
}

export interface FakeContact {
  id: string;
  /** As typed into the CRM (any format); the fake searches them normalised. */
  phone: string;
  name?: string;
  createdAt: number;
  consent: Partial<Record<ConsentScope, ConsentState>>;
}

export interface FakeTimelineRecord {
  id: string;
  contactId: string;
  ticketId?: string;
  conversationId: string;
  /** threadbridge's message id: the key a maybe-created message is looked up by. */
  messageId: string;
  direction: UnifiedMessage['direction'];
  text: string;
  timestamp: Date;
}

export interface FakeTicket {
  id: string;
  contactId: string;
  conversationId: string;
  status: 'open' | 'closed';
  group?: string;
  priority?: TicketRouting['priority'];
  assignee?: string;
  tags: string[];
  /** What the fake told agents about the ticket (a routing name it did not know at creation). */
  notes: string[];
}

export interface FakeTranscript {
  id: string;
  contactId: string;
  ticketId?: string;
  conversationId: string;
  text: string;
}

export interface FakeErasure {
  contactId: string;
  outcome: ErasureReceipt['outcome'];
  at: Date;
}

export interface FakeReplyStatus {
  reply: ReplyRef;
  status: ReplyStatus;
}

export interface FakeCrmOptions {
  /** The only token verifyCredentials accepts (default FAKE_CRM_TOKEN). */
  token?: string;
  /** Messages per appendMessages call (manifest.maxBatch, default 50). */
  maxBatch?: number;
}

interface ScriptedFault {
  fault: FakeCrmFault | 'hang';
  options: FakeCrmFaultOptions & { hangMs?: number };
  left: number;
}

/**
 * The fake vendor: what it holds, what it was asked, and the failures scripted for its next
 * calls. One instance is shared by every connector its `definition` creates (one per job), as a
 * vendor account is shared by every worker.
 */
export class FakeCrm {
  readonly calls: FakeCrmCall[] = [];
  readonly contacts = new Map<string, FakeContact>();
  readonly timeline: FakeTimelineRecord[] = [];
  readonly tickets = new Map<string, FakeTicket>();
  readonly transcripts: FakeTranscript[] = [];
  readonly erasures: FakeErasure[] = [];
  readonly replyStatuses: FakeReplyStatus[] = [];
  /** The account's groups; while empty, any group name is accepted. */
  readonly groups = new Set<string>();
  readonly definition: ConnectorDefinition<FakeCrmCredentials, FakeCrmSettings>;
  readonly token: string;

  private readonly faults: ScriptedFault[] = [];
  private searchLagMs = 0;
  private seq = 0;

  constructor(options: FakeCrmOptions = {}) {
    this.token = options.token ?? FAKE_CRM_TOKEN;
    this.definition = {
      manifest: {
        id: FAKE_CRM_ID,
        displayName: 'Fake CRM',
        docsUrl: 'https://example.com/threadbridge/fake-crm',
        defaultBudget: { requests: 1_000, perMs: 1_000 },
        maxBatch: options.maxBatch ?? 50,
      },
      credentials: FakeCrmCredentials,
      settings: FakeCrmSettings,
      create: (credentials, _settings, deps) => new FakeCrmConnector(this, credentials, deps),
      endpoints: () => [],
    };
  }

  // ---- scripting

  /**
   * The next call (of `options.method`, when given) fails with `kind`, `options.times` calls in a
   * row. 'maybe_created': the call's writes happen, then it throws transient (an answer lost to a
   * connection reset). Faults are taken in the order they were scripted.
   */
  failNext(kind: FakeCrmFault, options: FakeCrmFaultOptions = {}): void {
    this.faults.push({ fault: kind, options, left: options.times ?? 1 });
  }

  /** The next call gets no answer for `ms` (a connector gives up after deps.timeoutMs: transient). */
  hang(ms: number, options: Pick<FakeCrmFaultOptions, 'method'> = {}): void {
    this.faults.push({ fault: 'hang', options: { ...options, hangMs: ms }, left: 1 });
  }

  /** From now on the phone search sees a contact only `ms` after it was created. */
  setSearchLag(ms: number): void {
    this.searchLagMs = ms;
  }

  /** Forgets everything: held records, calls, faults and the search lag (a fresh account). */
  reset(): void {
    for (const list of [this.calls, this.timeline, this.transcripts, this.erasures, this.replyStatuses, this.faults] as unknown[][]) list.length = 0;
    this.contacts.clear();
    this.tickets.clear();
    this.groups.clear();
    this.searchLagMs = 0;
  }

  /** Drops every scripted fault that has not fired. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  // ---- seeding and reading

  /** A contact created in the CRM by a person, its phone typed as `phone`. */
  seedContact(phone: string, name?: string): FakeContact {
    const contact: FakeContact = { id: this.nextId('c'), phone, name, createdAt: 0, consent: {} };
    this.contacts.set(contact.id, contact);
    return contact;
  }

  /** The contacts whose phone reads as `e164`. */
  contactsWithPhone(e164: string): FakeContact[] {
    const country = countryOf(e164);
    return [...this.contacts.values()].filter((c) => toE164(c.phone, country) === e164);
  }

  /** The timeline of a contact, in the order the records were written. */
  timelineOf(contactId: string): FakeTimelineRecord[] {
    return this.timeline.filter((r) => r.contactId === contactId);
  }

  /** The calls of one method. */
  callsOf(method: FakeCrmMethod): FakeCrmCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /**
   * An agent's reply on a ticket, as the fake's webhook delivers it (signed with `secret`, the
   * connection's webhookSecret by default), ready for the core's webhook receiver.
   */
  agentReplyWebhook(reply: { ticketId: string; text: string; author?: string; id?: string }, options: { url?: string; secret?: string; at?: Date } = {}): RawWebhook {
    const ticket = this.tickets.get(reply.ticketId);
    const body = Buffer.from(
      JSON.stringify({
        replies: [{ id: reply.id ?? this.nextId('r'), ticketId: reply.ticketId, contactId: ticket?.contactId, text: reply.text, author: reply.author ?? 'Agent Smith' }],
      }),
    );
    const at = options.at ?? new Date();
    return {
      method: 'POST',
      url: options.url ?? 'https://threadbridge.example.com/webhooks/connections/fake',
      headers: { 'content-type': 'application/json', ...signFakeCrmWebhook(options.secret ?? FAKE_CRM_WEBHOOK_SECRET, body, at) },
      rawBody: body,
      receivedAt: new Date(),
    };
  }

  // ---- what the connectors call

  /** @internal Runs one call: records it, spends the budget, applies a scripted fault. */
  async handle<T>(method: FakeCrmMethod, args: unknown[], deps: ConnectorDeps, work: () => T): Promise<T> {
    const call: FakeCrmCall = { method, at: new Date(), args, outcome: 'ok' };
    this.calls.push(call);
    await deps.budget.acquire();
    const scripted = this.takeFault(method);
    try {
      if (scripted?.fault === 'hang') {
        const hangMs = scripted.options.hangMs ?? 0;
        await new Promise((resolve) => setTimeout(resolve, Math.min(hangMs, deps.timeoutMs)));
        if (hangMs >= deps.timeoutMs) throw new ConnectorError('transient', `fake crm: no answer within ${deps.timeoutMs} ms`);
      } else if (scripted?.fault === 'maybe_created') {
        work();
        throw new ConnectorError('transient', 'fake crm: the connection was reset after the request was sent');
      } else if (scripted) {
        throw faultError(scripted.fault, scripted.options.retryAfterMs);
      }
      return work();
    } catch (error) {
      call.outcome = scripted?.fault === 'maybe_created' ? 'maybe_created' : ConnectorError.is(error) ? error.kind : 'permanent';
      throw error;
    }
  }

  /** @internal */
  findContact(customer: Customer, known?: RemoteRef): FakeContact | undefined {
    if (known) {
      const linked = this.contacts.get(known.id);
      if (linked) return linked;
    }
    const visibleBefore = Date.now() - this.searchLagMs;
    return this.contactsWithPhone(customer.e164).find((c) => c.createdAt <= visibleBefore);
  }

  /** @internal */
  createContact(customer: Customer): FakeContact {
    const contact: FakeContact = { id: this.nextId('c'), phone: customer.e164, name: customer.profileName, createdAt: Date.now(), consent: {} };
    this.contacts.set(contact.id, contact);
    return contact;
  }

  /** @internal Removes what is recorded on a contact (its timeline, tickets and transcripts). */
  forget(contactId: string): void {
    const keep = <T extends { contactId: string }>(items: T[]) => items.splice(0, items.length, ...items.filter((i) => i.contactId !== contactId));
    keep(this.timeline);
    keep(this.transcripts);
    for (const [id, ticket] of this.tickets) if (ticket.contactId === contactId) this.tickets.delete(id);
  }

  /**
   * @internal Sets a ticket's routing as a helpdesk would: fields given are set, tags added and
   * removeTags taken off. An unknown group throws invalid_request, or (`lenient`, at creation) is
   * left out with a note on the ticket.
   */
  route(ticket: FakeTicket, routing: TicketRouting, options: { lenient?: boolean } = {}): void {
    if (routing.group !== undefined) {
      if (this.groups.size > 0 && !this.groups.has(routing.group)) {
        if (!options.lenient) throw new ConnectorError('invalid_request', `fake crm: no group named "${routing.group}"`, { vendorStatus: 422 });
        ticket.notes.push(`routing: no group named "${routing.group}"`);
      } else ticket.group = routing.group;
    }
    if (routing.priority !== undefined) ticket.priority = routing.priority;
    if (routing.assignee !== undefined) ticket.assignee = routing.assignee;
    const keep = new Set(routing.tags ?? []);
    const remove = new Set((routing.removeTags ?? []).filter((t) => !keep.has(t)));
    ticket.tags = [...new Set([...ticket.tags.filter((t) => !remove.has(t)), ...keep])];
  }

  /** @internal */
  nextId(prefix: string): string {
    this.seq += 1;
    return `${prefix}${String(this.seq).padStart(6, '0')}`;
  }

  private takeFault(method: string): ScriptedFault | undefined {
    const index = this.faults.findIndex((f) => !f.options.method || f.options.method === method);
    if (index < 0) return undefined;
    const fault = this.faults[index];
    fault.left -= 1;
    if (fault.left <= 0) this.faults.splice(index, 1);
    return fault;
  }
}

function faultError(kind: ConnectorErrorKind, retryAfterMs?: number): ConnectorError {
  const status: Partial<Record<ConnectorErrorKind, number>> = { auth: 401, rate_limited: 429, transient: 503, not_found: 404, conflict: 409, invalid_request: 400 };
  return new ConnectorError(kind, `fake crm: scripted ${kind}`, { retryAfterMs: kind === 'rate_limited' ? retryAfterMs : undefined, vendorStatus: status[kind] });
}

/** The headers the fake signs a webhook with: hex HMAC-SHA256(secret, `${ms timestamp}.${body}`). */
export function signFakeCrmWebhook(secret: string, body: Buffer, at: Date = new Date()): Record<string, string> {
  const timestamp = String(at.getTime());
  const signature = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return { [FAKE_CRM_SIGNATURE_HEADER]: signature, [FAKE_CRM_TIMESTAMP_HEADER]: timestamp };
}

function parseFakeCrmWebhook(req: RawWebhook): ConnectorEvent[] {
  let body: { replies?: { id?: unknown; ticketId?: unknown; contactId?: unknown; text?: unknown; author?: unknown }[] };
  try {
    body = JSON.parse(req.rawBody.toString('utf8'));
  } catch (error) {
    throw new ConnectorError('invalid_request', 'fake crm: the webhook body is not JSON', { cause: error });
  }
  return (body.replies ?? []).flatMap((r): AgentReplyEvent[] =>
    typeof r.id === 'string' && typeof r.text === 'string'
      ? [{ kind: 'agent_reply', remoteId: r.id, remoteThreadId: typeof r.ticketId === 'string' ? r.ticketId : undefined, remoteContactId: typeof r.contactId === 'string' ? r.contactId : undefined, text: r.text, author: typeof r.author === 'string' ? r.author : 'Agent', attachments: [] }]
      : [],
  );
}

const header = (req: RawWebhook, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** One job's connector for a FakeCrm account. */
export class FakeCrmConnector implements CrmConnector {
  readonly contacts: ContactsFacet = {
    ensure: oneByOne(({ customer, known }) =>
      this.call('ensureContact', [customer, known], () => {
        const contact = this.crm.findContact(customer, known) ?? this.crm.createContact(customer);
        return { id: contact.id, type: 'contact' };
      }),
    ),
  };

  readonly tickets: TicketsFacet = {
    ensure: oneByOne(({ thread, known, routing }) =>
      this.call('ensureTicket', [thread, known, routing], (): RemoteRef => {
        const existing = known ? this.crm.tickets.get(known.id) : undefined;
        if (existing) {
          existing.status = 'open';
          return { id: existing.id, type: 'ticket' };
        }
        this.contactOrThrow(thread.contact.id);
        const ticket: FakeTicket = { id: this.crm.nextId('t'), contactId: thread.contact.id, conversationId: thread.conversationId, status: 'open', tags: [], notes: [] };
        if (routing) this.crm.route(ticket, routing, { lenient: true });
        this.crm.tickets.set(ticket.id, ticket);
        return { id: ticket.id, type: 'ticket' };
      }),
    ),
  };

  readonly ticketRouting: TicketRoutingFacet = {
    apply: oneByOne(({ ticket, routing }) =>
      this.call('routeTicket', [ticket, routing], () => {
        const held = this.crm.tickets.get(ticket.id);
        if (!held) throw new ConnectorError('not_found', `fake crm: no ticket ${ticket.id}`, { vendorStatus: 404 });
        this.crm.route(held, routing);
      }),
      { key: ({ ticket }) => ticket.id },
    ),
  };

  readonly timeline: TimelineFacet = {
    // Records are looked up by threadbridge's message id, which the fake reads back at once.
    reconcile: { maybeCreated: 'consistent_read' },
    uploadsMedia: false,
    append: async (batches) => (await this.appendEach(batches)).flat(),
  };

  readonly transcripts: TranscriptsFacet = {
    attach: oneByOne(({ thread, transcript }) =>
      this.call('attachTranscript', [thread, transcript], (): RemoteRef => {
        this.contactOrThrow(thread.contact.id);
        const note: FakeTranscript = { id: this.crm.nextId('n'), contactId: thread.contact.id, ticketId: thread.ticket?.id, conversationId: thread.conversationId, text: transcript.text };
        this.crm.transcripts.push(note);
        return { id: note.id, type: 'note' };
      }),
    ),
  };

  readonly replies: RepliesFacet = {
    verify: (req) => this.verifyWebhook(req),
    parse: (req) => parseFakeCrmWebhook(req),
    reportStatus: async (reports) => {
      await oneByOne(({ reply, status }: { reply: ReplyRef; status: ReplyStatus }) =>
        this.call('reportReplyStatus', [reply, status], () => {
          this.crm.replyStatuses.push({ reply, status });
        }),
        { key: ({ reply }) => reply.remoteId },
      )(reports);
    },
  };

  readonly consent: ConsentFacet = {
    record: async (requests) => {
      await oneByOne(({ contact, consent }: { contact: RemoteRef; consent: ConsentState }) =>
        this.call('recordConsent', [contact, consent], () => {
          this.contactOrThrow(contact.id).consent[consent.scope] = consent;
        }),
        { key: ({ contact }) => contact.id },
      )(requests);
    },
  };

  readonly erasure: ErasureFacet = {
    erase: oneByOne(({ contact }) =>
      this.call('eraseContact', [contact], (): ErasureReceipt => {
        const held = this.crm.contacts.delete(contact.id);
        // Like a vendor's GDPR delete: the contact goes with everything recorded on it.
        this.crm.forget(contact.id);
        const outcome = held ? 'done' : 'not_found';
        this.crm.erasures.push({ contactId: contact.id, outcome, at: new Date() });
        return { outcome };
      }),
    ),
  };

  constructor(
    private readonly crm: FakeCrm,
    private readonly credentials: FakeCrmCredentials,
    private readonly deps: ConnectorDeps,
  ) {}

  verifyCredentials(): Promise<void> {
    return this.call('verifyCredentials', [], () => undefined);
  }

  private call<T>(method: FakeCrmMethod, args: unknown[], work: () => T): Promise<T> {
    return this.crm.handle(method, args, this.deps, () => {
      if (this.credentials.token !== this.crm.token) throw new ConnectorError('auth', 'fake crm: the token was refused', { vendorStatus: 401 });
      return work();
    });
  }

  /** One vendor call per thread: its messages, each looked up first when it may exist already. */
  private readonly appendEach = oneByOne(({ thread, messages }: { thread: Thread; messages: UnifiedMessage[] }) =>
    this.call('appendMessages', [thread, messages], (): AppendResult[] => {
      this.contactOrThrow(thread.contact.id);
      return messages.map((m) => {
        // consistent_read: a message that may exist already is looked up by its id first.
        const found = m.maybeCreated ? this.crm.timeline.find((r) => r.messageId === m.id && r.contactId === thread.contact.id) : undefined;
        const record = found ?? this.write(thread, m);
        return { messageId: m.id, remote: { id: record.id, type: 'communication' } };
      });
    }),
  );

  private verifyWebhook(req: RawWebhook): boolean {
    const secret = this.credentials.webhookSecret;
    const signature = header(req, FAKE_CRM_SIGNATURE_HEADER);
    const timestamp = header(req, FAKE_CRM_TIMESTAMP_HEADER);
    if (!secret || !signature || !timestamp || !/^\d+$/.test(timestamp)) return false;
    if (Math.abs(req.receivedAt.getTime() - Number(timestamp)) > WEBHOOK_TOLERANCE_MS) return false;
    const expected = Buffer.from(signFakeCrmWebhook(secret, req.rawBody, new Date(Number(timestamp)))[FAKE_CRM_SIGNATURE_HEADER], 'hex');
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private contactOrThrow(id: string): FakeContact {
    const contact = this.crm.contacts.get(id);
    if (!contact) throw new ConnectorError('not_found', `fake crm: no contact ${id}`, { vendorStatus: 404 });
    return contact;
  }

  private write(thread: Thread, m: UnifiedMessage): FakeTimelineRecord {
    const record: FakeTimelineRecord = {
      id: this.crm.nextId('m'),
      contactId: thread.contact.id,
      ticketId: thread.ticket?.id,
      conversationId: thread.conversationId,
      messageId: m.id,
      direction: m.direction,
      text: m.text,
      timestamp: m.timestamp,
    };
    this.crm.timeline.push(record);
    return record;
  }
}
