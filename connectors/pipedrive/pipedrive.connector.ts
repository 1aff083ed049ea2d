/**
 * Pipedrive as a threadbridge connector: orchestration only. Wire calls live in
 * pipedrive.client.ts, translations in pipedrive.mapper.ts.
 *
 * Customers are persons; each burst of a conversation is one note on the person (and on the
 * conversation's lead or deal); a new conversation opens a lead (facet `tickets`, setting
 * `leads`); the transcript is a note on close; erasure deletes the person. Pipedrive writes one
 * record per call, so batches go one item at a time through oneByOne().
 */
import { oneByOne } from '../_sdk/batch';
import type {
  AppendResult,
  ConnectorDeps,
  ConsentFacet,
  ConsentRequest,
  ContactRequest,
  ContactsFacet,
  CrmConnector,
  Customer,
  ErasureFacet,
  ErasureReceipt,
  RemoteRef,
  Thread,
  ThreadMessages,
  TicketRequest,
  TicketsFacet,
  TimelineFacet,
  Transcript,
  TranscriptsFacet,
  UnifiedMessage,
} from '../_sdk/contract';
import { ConnectorError } from '../_sdk/errors';
import { phoneVariants } from '../_sdk/phone';
import { PipedriveClient, timeOf } from './pipedrive.client';
import { PIPEDRIVE_DEFAULT_BASE_URL, resolvePipedriveSettings, type PipedriveCredentials, type PipedriveSettings } from './pipedrive.credentials';
import {
  consentValue,
  findTranscriptNote,
  findUploadedFiles,
  findWrittenMessages,
  isOpen,
  joinsLead,
  pickPerson,
  planNotes,
  renderLeadTitle,
  renderNote,
  renderTranscriptNote,
  samePhone,
  toPipedrivePerson,
  uploadName,
} from './pipedrive.mapper';
import type { PipedriveDeal, PipedriveFileTarget, PipedriveId, PipedriveLead, PipedriveNote } from './pipedrive.types';

/** Most messages one timeline.append call carries across its threads (manifest.maxBatch). */
export const PIPEDRIVE_MAX_BATCH = 50;

/** The core never holds a chat back longer than this for a quiet period. */
const MAX_QUIET_MS = 30_000;

export class PipedriveConnector implements CrmConnector {
  readonly contacts: ContactsFacet = { ensure: (requests) => this.ensureContacts(requests) };
  readonly timeline: TimelineFacet;
  /** Present with setting `leads` (the sales pipeline from chats). */
  readonly tickets?: TicketsFacet;
  readonly transcripts: TranscriptsFacet = {
    attach: oneByOne(({ thread, transcript }) => this.attachTranscript(thread, transcript)),
  };
  /** Present when a consent person field is configured. */
  readonly consent?: ConsentFacet;
  readonly erasure: ErasureFacet = { erase: oneByOne(({ contact }) => this.erasePerson(contact), { key: ({ contact }) => contact.id }) };

  private readonly client: PipedriveClient;
  private readonly settings: PipedriveSettings;
  private readonly deps: ConnectorDeps;
  /** Where an operator opens a record: the company's domain, or app.pipedrive.com (which redirects there). */
  private readonly appOrigin: string;

  constructor(
    credentials: PipedriveCredentials,
    settings: Partial<PipedriveSettings> | undefined,
    deps: ConnectorDeps,
  ) {
    const resolved = resolvePipedriveSettings(settings);
    this.settings = resolved;
    this.deps = deps;
    this.client = new PipedriveClient(credentials, deps);
    this.appOrigin = this.client.origin === PIPEDRIVE_DEFAULT_BASE_URL ? 'https://app.pipedrive.com' : this.client.origin;
    this.timeline = {
      // A maybe-created note is looked for in the person's notes list (GET /v1/notes?person_id=),
      // which lists a note the moment it was added; Pipedrive's search index is never asked.
      reconcile: { maybeCreated: 'consistent_read' },
      // A burst typed within this quiet period reaches Pipedrive in one call, hence one note.
      quietPeriodMs: Math.min(resolved.noteBurstMs, MAX_QUIET_MS),
      uploadsMedia: resolved.uploadMedia,
      append: async (batches) => (await this.appendEach(batches)).flat(),
    };
    if (resolved.leads) this.tickets = { ensure: (requests) => this.ensureLeads(requests) };
    if (resolved.consentField) {
      const field = resolved.consentField;
      this.consent = { record: async (requests) => void (await this.recordEach(requests.map((r) => ({ ...r, field })))) };
    }
  }

  /** GET /v1/users/me: 401 for a token Pipedrive does not know. */
  async verifyCredentials(): Promise<void> {
    await this.client.me();
  }

  // -------------------------------------------------------------------------------------------
  // contacts

  /**
   * One person per number: requests for the same number share one lookup (two conversations of a
   * customer synced in one batch), different numbers go side by side.
   */
  private async ensureContacts(requests: ContactRequest[]): Promise<RemoteRef[]> {
    const byNumber = new Map<string, { customer: Customer; known?: RemoteRef }>();
    for (const { customer, known } of requests) {
      const entry = byNumber.get(customer.e164);
      if (!entry) byNumber.set(customer.e164, { customer, known });
      else entry.known ??= known;
    }
    const unique = [...byNumber.values()];
    const refs = await this.ensureEach(unique);
    const refOf = new Map(unique.map((u, i) => [u.customer.e164, refs[i]]));
    return requests.map((r) => refOf.get(r.customer.e164)!);
  }

  private readonly ensureEach = oneByOne(({ customer, known }: { customer: Customer; known?: RemoteRef }) => this.ensurePerson(customer, known));

  /**
   * `known` while it exists → an exact phone search for every written form of the number → the
   * newest persons (a consistent list) → create. The last look is what keeps a person whose create
   * may have happened — an answer lost to a reset connection, or a retry while Pipedrive's search
   * index has not caught up (it lags writes by seconds) — from being created twice.
   */
  private async ensurePerson(customer: Customer, known?: RemoteRef): Promise<RemoteRef> {
    const knownId = parseId(known?.id);
    if (knownId !== undefined) {
      const person = await this.client.getPerson(knownId);
      if (person) return this.personRef(person.id);
    }
    for (const term of phoneVariants(customer.e164)) {
      const hit = pickPerson(await this.client.searchPersonsByPhone(term), customer.e164);
      // The index lags deletions as it lags writes: a hit is checked (1 token) before it is used.
      if (hit && (await this.client.getPerson(hit.id))) return this.personRef(hit.id);
    }
    const recent = (await this.client.recentPersons())
      .filter((p) => !p.is_deleted && (p.phones ?? []).some((phone) => samePhone(phone.value, customer.e164)))
      .sort((a, b) => a.id - b.id)[0];
    if (recent) return this.personRef(recent.id);
    const created = await this.client.addPerson(toPipedrivePerson(customer));
    return this.personRef(created.id);
  }

  // -------------------------------------------------------------------------------------------
  // tickets: the conversation's lead

  /**
   * Threads of one person run one after the other (the second joins the lead the first opened),
   * different persons side by side.
   */
  private readonly ensureLeads = oneByOne(({ thread, known }: TicketRequest) => this.ensureLead(thread, known), { key: ({ thread }) => thread.contact.id });

  /**
   * `known` (the conversation's lead or deal, or the customer's latest) while it is open and the
   * conversation opened within leadReuseHours of its last activity; else, on the same terms, the
   * person's newest open lead — which also finds a lead an earlier attempt created but never
   * reported (a consistent list, not the search index) — or their newest open deal (a lead
   * converted while they chatted, a deal in negotiation); else a new lead.
   */
  private async ensureLead(thread: Thread, known?: RemoteRef): Promise<RemoteRef> {
    const personId = requireId(thread.contact.id, 'person');
    if (known?.type === 'deal') {
      const dealId = parseId(known.id);
      const deal = dealId === undefined ? undefined : await this.client.getDeal(dealId);
      if (deal && (await this.joins(thread, deal))) return this.dealRef(deal.id);
    } else if (known) {
      const lead = await this.client.getLead(known.id);
      if (lead && (await this.joins(thread, lead))) return this.leadRef(lead.id);
    }
    const lead = (await this.client.leadsOfPerson(personId)).find(isOpen);
    if (lead && lead.id !== known?.id && (await this.joins(thread, lead))) return this.leadRef(lead.id);
    const deal = (await this.client.openDealsOfPerson(personId))[0];
    if (deal && String(deal.id) !== known?.id && (await this.joins(thread, deal))) return this.dealRef(deal.id);
    const created = await this.client.addLead({
      title: renderLeadTitle(this.settings.leadTitleTemplate, thread, this.settings.timeZone),
      person_id: personId,
      owner_id: this.settings.leadOwnerId,
      label_ids: this.settings.leadLabelIds,
    });
    return this.leadRef(created.id);
  }

  /**
   * Whether the thread joins an open lead/deal: by its add/update time, and only when those are
   * too old, by its newest note (a note does not touch a lead's update_time), one more request.
   */
  private async joins(thread: Thread, record: PipedriveLead | PipedriveDeal): Promise<boolean> {
    if (!isOpen(record)) return false;
    const hours = this.settings.leadReuseHours;
    const stamped = Math.max(timeOf(record.add_time), timeOf(record.update_time));
    if (joinsLead(thread.openedAt, stamped, hours)) return true;
    const of = typeof record.id === 'string' ? { leadId: record.id } : { dealId: record.id };
    const [latest] = await this.client.recentNotes(of, 1);
    return latest !== undefined && joinsLead(thread.openedAt, timeOf(latest.add_time), hours);
  }

  // -------------------------------------------------------------------------------------------
  // timeline: one note per burst

  private readonly appendEach = oneByOne(({ thread, messages }: ThreadMessages) => this.appendMessages(thread, messages));

  private async appendMessages(thread: Thread, messages: UnifiedMessage[]): Promise<AppendResult[]> {
    if (messages.length === 0) return [];
    const personId = requireId(thread.contact.id, 'person');
    const written = messages.some((m) => m.maybeCreated)
      ? findWrittenMessages(await this.client.recentNotes({ personId }), messages.map((m) => m.id))
      : new Map<string, PipedriveNote>();
    const remote = new Map<string, RemoteRef>();
    for (const [messageId, note] of written) remote.set(messageId, this.noteRef(note.id));

    const pending = messages.filter((m) => !written.has(m.id));
    const uploaded = await this.uploadMedia(thread, pending);
    const context = { customerName: thread.customer.profileName?.trim() || thread.customer.e164, timeZone: this.settings.timeZone, uploaded };
    for (const burst of planNotes(pending, { burstMs: this.settings.noteBurstMs })) {
      const note = await this.client.addNote({ content: renderNote(burst, context), ...this.attachTo(thread) });
      for (const message of burst) remote.set(message.id, this.noteRef(note.id));
    }
    return messages.map((m) => ({ messageId: m.id, remote: remote.get(m.id)! }));
  }

  /**
   * With uploadMedia: each stored file goes into Pipedrive's Files, named after its message (a
   * file an earlier attempt may have uploaded is looked for in the person's files first). A file
   * the media store cannot read is linked instead of holding the conversation up.
   */
  private async uploadMedia(thread: Thread, messages: UnifiedMessage[]): Promise<Map<string, string>> {
    const withFiles = this.settings.uploadMedia ? messages.filter((m) => m.media?.storageKey) : [];
    if (withFiles.length === 0) return new Map();
    const target = this.attachTo(thread);
    const maybe = withFiles.filter((m) => m.maybeCreated).map((m) => m.id);
    const uploaded = maybe.length ? findUploadedFiles(await this.client.filesOfPerson(target.person_id), maybe) : new Map<string, string>();
    for (const message of withFiles) {
      if (uploaded.has(message.id)) continue;
      let bytes: Buffer;
      try {
        bytes = await this.deps.media.read(message.media!);
      } catch (error) {
        this.deps.logger.warn('pipedrive: stored media could not be read; the note links to it instead', { type: message.type, error: error instanceof Error ? error.name : 'unknown' });
        continue;
      }
      const file = await this.client.addFile({ bytes, name: uploadName(message), mimeType: message.media!.mimeType }, target);
      uploaded.set(message.id, file.name ?? uploadName(message));
    }
    return uploaded;
  }

  // -------------------------------------------------------------------------------------------
  // transcripts

  /** A note with the whole transcript; found again (by its marker) when a retry comes. */
  private async attachTranscript(thread: Thread, transcript: Transcript): Promise<RemoteRef> {
    const personId = requireId(thread.contact.id, 'person');
    const earlier = findTranscriptNote(await this.client.recentNotes({ personId }), transcript.conversationId);
    if (earlier) return this.noteRef(earlier.id);
    const note = await this.client.addNote({ content: renderTranscriptNote(transcript, this.settings), ...this.attachTo(thread) });
    return this.noteRef(note.id);
  }

  // -------------------------------------------------------------------------------------------
  // consent

  /** Changes of one person in the batch's order: an opt-out then an opt-in ends opted in. */
  private readonly recordEach = oneByOne(
    async ({ contact, consent, field }: ConsentRequest & { field: string }) => {
      // One field mirrors one scope: a transactional change must not overwrite marketing consent.
      if (consent.scope !== this.settings.consentScope) return;
      const value = consentValue(consent, { optedIn: this.settings.consentOptedInValue, optedOut: this.settings.consentOptedOutValue }, this.settings.timeZone);
      await this.client.updatePerson(requireId(contact.id, 'person'), { custom_fields: { [field]: value } });
    },
    { key: ({ contact }) => contact.id },
  );

  // -------------------------------------------------------------------------------------------
  // erasure

  /**
   * Deletes the person's notes (they hold the conversation), files (its media), the leads linked to
   * the person (their titles carry the name and number) and the person. Pipedrive keeps a deleted
   * person for 30 days before purging it for good; deals stay, without the person.
   */
  private async erasePerson(contact: RemoteRef): Promise<ErasureReceipt> {
    const personId = parseId(contact.id);
    if (personId === undefined) return { outcome: 'not_found', detail: 'not a Pipedrive person id' };
    if (!(await this.client.getPerson(personId))) return { outcome: 'not_found' };
    const notes = await this.deleteAll(() => this.client.recentNotes({ personId }), (note) => this.client.deleteNote(note.id));
    const files = await this.deleteAll(() => this.client.filesOfPerson(personId), (file) => this.client.deleteFile(file.id));
    const leads = await this.deleteAll(() => this.client.leadsOfPerson(personId), (lead) => this.client.deleteLead(lead.id));
    if (!(await this.client.deletePerson(personId))) return { outcome: 'not_found' };
    return { outcome: 'done', detail: `person deleted (Pipedrive purges it after 30 days) with ${notes} note(s), ${files} file(s) and ${leads} lead(s)` };
  }

  /** Deletes page after page until a page is empty, or holds only records gone already; returns how many went. */
  private async deleteAll<T>(page: () => Promise<T[]>, remove: (record: T) => Promise<boolean>): Promise<number> {
    let total = 0;
    for (;;) {
      let deleted = 0;
      for (const record of await page()) if (await remove(record)) deleted += 1;
      total += deleted;
      if (deleted === 0) return total;
    }
  }

  // -------------------------------------------------------------------------------------------

  /** A note or file belongs to the person and, when the conversation has one, its lead or deal. */
  private attachTo(thread: Thread): PipedriveFileTarget {
    const person_id = requireId(thread.contact.id, 'person');
    if (!thread.ticket) return { person_id };
    if (thread.ticket.type === 'deal') return { person_id, deal_id: requireId(thread.ticket.id, 'deal') };
    return { person_id, lead_id: thread.ticket.id };
  }

  private personRef(id: PipedriveId): RemoteRef {
    return { id: String(id), type: 'person', url: `${this.appOrigin}/person/${id}` };
  }

  private leadRef(id: string): RemoteRef {
    return { id, type: 'lead', url: `${this.appOrigin}/leads/inbox/${id}` };
  }

  private dealRef(id: PipedriveId): RemoteRef {
    return { id: String(id), type: 'deal', url: `${this.appOrigin}/deal/${id}` };
  }

  /** Several messages share one note, hence one remote id. */
  private noteRef(id: PipedriveId): RemoteRef {
    return { id: String(id), type: 'note' };
  }
}

function parseId(value: string | undefined): PipedriveId | undefined {
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

function requireId(value: string, what: string): PipedriveId {
  const id = parseId(value);
  if (id === undefined) throw new ConnectorError('invalid_request', `not a Pipedrive ${what} id`);
  return id;
}
