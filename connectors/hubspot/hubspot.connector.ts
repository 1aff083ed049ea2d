/**
 * HubSpot as a CRM for WhatsApp conversations: contacts found by every written form of their
 * number, each message a WhatsApp communication on the timeline, tickets per conversation,
 * transcripts as notes, consent in a contact property, GDPR delete. Orchestration only: wire
 * shapes are in hubspot.mapper.ts, HTTP in hubspot.client.ts.
 */
import type {
  AppendResult,
  ConnectorDeps,
  ConsentState,
  CrmConnector,
  Customer,
  ErasureReceipt,
  MediaRef,
  RemoteRef,
  Thread,
  Transcript,
  UnifiedMessage,
} from '../_sdk/contract';
import { ConnectorError } from '../_sdk/errors';
import type { HubspotClient } from './hubspot.client';
import type { HubspotSettings } from './hubspot.credentials';
import {
  MAX_IN_VALUES,
  MESSAGE_ID_PROPERTY_DEFINITION,
  TICKET_READ_PROPERTIES,
  TRANSCRIPT_ID_PROPERTY_DEFINITION,
  consentPropertyDefinition,
  decideTicket,
  pickContact,
  toConsentValue,
  toContactSearch,
  toFileName,
  toHubspotCommunication,
  toHubspotContact,
  toHubspotTicket,
  toHubspotTranscriptNote,
  toMarkerSearch,
  transcriptKey,
} from './hubspot.mapper';
import { MESSAGE_ID_PROPERTY, TRANSCRIPT_ID_PROPERTY, type HubspotFile, type HubspotObjectType, type HubspotPropertyDefinition } from './hubspot.types';

/** HubSpot's batch endpoints take at most 100 inputs. */
export const HUBSPOT_MAX_BATCH = 100;

/**
 * Custom properties known to exist, per portal, for the life of the process: checking costs a
 * request, and threadbridge never deletes them. (If a portal admin deletes one, writes fail with
 * invalid_request until the process restarts and re-creates it.)
 */
const knownProperties = new Set<string>();

export class HubspotConnector implements CrmConnector {
  constructor(
    private readonly client: HubspotClient,
    private readonly settings: HubspotSettings,
    private readonly deps: ConnectorDeps,
  ) {}

  async verifyCredentials(): Promise<void> {
    await this.client.verify();
  }

  async ensureContact(customer: Customer, known?: RemoteRef): Promise<RemoteRef> {
    if (known) {
      // GET reads its own writes; search may not see a contact created seconds ago.
      const existing = await this.client.getObject('contacts', known.id);
      if (existing && !existing.archived) return { id: existing.id, type: 'contact' };
      this.deps.logger.info('linked hubspot contact is gone; looking the customer up again', { contactId: known.id });
    }
    const hits = await this.client.search('contacts', toContactSearch(customer.e164));
    const found = pickContact(hits.results, customer.e164);
    if (found) return { id: found.id, type: 'contact' };
    const created = await this.client.createObject('contacts', { properties: toHubspotContact(customer) });
    return { id: created.id, type: 'contact' };
  }

  async ensureTicket(thread: Thread, known?: RemoteRef): Promise<RemoteRef> {
    const tickets = this.settings.tickets;
    if (!tickets.enabled) {
      throw new ConnectorError('invalid_request', 'tickets are disabled in this HubSpot connection\'s settings');
    }
    if (known) {
      const ticket = await this.client.getObject('tickets', known.id, TICKET_READ_PROPERTIES);
      if (ticket && !ticket.archived) {
        const decision = decideTicket(ticket, tickets, this.deps.clock.now());
        if (decision === 'keep') return { id: ticket.id, type: 'ticket' };
        if (decision === 'reopen') {
          await this.client.updateObject('tickets', ticket.id, { hs_pipeline_stage: tickets.openStage });
          return { id: ticket.id, type: 'ticket' };
        }
      }
    }
    const created = await this.client.createObject('tickets', toHubspotTicket(thread, tickets));
    return { id: created.id, type: 'ticket' };
  }

  async appendMessages(thread: Thread, messages: UnifiedMessage[]): Promise<AppendResult[]> {
    if (messages.length === 0) return [];
    if (messages.length > HUBSPOT_MAX_BATCH) {
      throw new ConnectorError('invalid_request', `appendMessages takes at most ${HUBSPOT_MAX_BATCH} messages per call (got ${messages.length})`);
    }
    await this.ensureProperty('communications', MESSAGE_ID_PROPERTY_DEFINITION);

    // A message an earlier attempt may have created is looked up by its marker first.
    const existing = await this.findByMarker('communications', MESSAGE_ID_PROPERTY, messages.filter((m) => m.maybeCreated).map((m) => m.id));
    const missing = messages.filter((m) => !existing.has(m.id));

    const inputs = [];
    for (const message of missing) {
      const file = await this.uploadMedia(message.id, message.type, message.media);
      inputs.push(toHubspotCommunication(thread, message, file?.url));
    }
    const created = new Map<string, string>();
    if (inputs.length > 0) {
      const result = await this.client.batchCreate('communications', inputs);
      // HubSpot does not promise results in input order: match them by the marker.
      for (const obj of result.results) {
        const messageId = obj.properties[MESSAGE_ID_PROPERTY];
        if (messageId) created.set(messageId, obj.id);
      }
      if (result.errors.length > 0 || created.size < missing.length) {
        const first = result.errors[0];
        // Part of the batch may exist now: the core retries with maybeCreated, which finds it.
        throw new ConnectorError(
          first?.category === 'VALIDATION_ERROR' ? 'invalid_request' : 'transient',
          `HubSpot created ${created.size} of ${missing.length} communications${first ? ` (${first.category ?? 'error'}: ${first.message ?? ''})` : ''}`.slice(0, 400),
          { vendorStatus: 207 },
        );
      }
    }
    return messages.map((m) => {
      const id = existing.get(m.id) ?? created.get(m.id)!;
      return { messageId: m.id, remote: { id, type: 'communication' } };
    });
  }

  async attachTranscript(thread: Thread, transcript: Transcript): Promise<RemoteRef> {
    await this.ensureProperty('notes', TRANSCRIPT_ID_PROPERTY_DEFINITION);
    const key = transcriptKey(transcript);
    const existing = await this.findByMarker('notes', TRANSCRIPT_ID_PROPERTY, [key]);
    const already = existing.get(key);
    if (already) return { id: already, type: 'note' };

    const files: (HubspotFile | undefined)[] = [];
    for (const [i, entry] of transcript.entries.entries()) {
      files.push(await this.uploadMedia(`${transcript.conversationId}-${i}`, 'attachment', entry.media));
    }
    const note = await this.client.createObject('notes', toHubspotTranscriptNote(thread, transcript, files));
    return { id: note.id, type: 'note' };
  }

  async recordConsent(contact: RemoteRef, consent: ConsentState): Promise<void> {
    const value = toConsentValue(consent);
    // HubSpot holds marketing consent only; transactional messages need no record there.
    if (value === undefined) return;
    await this.ensureProperty('contacts', consentPropertyDefinition(this.settings.consentProperty));
    await this.client.updateObject('contacts', contact.id, { [this.settings.consentProperty]: value });
  }

  async eraseContact(contact: RemoteRef): Promise<ErasureReceipt> {
    const deleted = await this.client.gdprDeleteContact(contact.id);
    return deleted
      ? { outcome: 'done', detail: `HubSpot contact ${contact.id} permanently deleted (GDPR delete)` }
      : { outcome: 'not_found', detail: `HubSpot holds no contact ${contact.id}` };
  }

  // -------------------------------------------------------------------------------------------

  /** Creates a custom property once per portal (cached for the process). */
  private async ensureProperty(type: HubspotObjectType, definition: HubspotPropertyDefinition): Promise<void> {
    const key = `${this.client.portalKey}|${type}.${definition.name}`;
    if (knownProperties.has(key)) return;
    const found = await this.client.getProperty(type, definition.name);
    if (!found) {
      this.deps.logger.info('creating hubspot custom property', { objectType: type, property: definition.name });
      await this.client.createProperty(type, definition);
    }
    knownProperties.add(key);
  }

  /** Remote ids of objects whose marker property holds one of `markers` (marker → id). */
  private async findByMarker(type: HubspotObjectType, property: string, markers: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let i = 0; i < markers.length; i += MAX_IN_VALUES) {
      const chunk = markers.slice(i, i + MAX_IN_VALUES);
      let after: string | undefined;
      do {
        const page = await this.client.search(type, toMarkerSearch(property, chunk, after));
        for (const obj of page.results) {
          const marker = obj.properties[property];
          // Oldest wins if a duplicate slipped in (search results come in id order).
          if (marker && !found.has(marker)) found.set(marker, obj.id);
        }
        after = page.after;
      } while (after);
    }
    return found;
  }

  /**
   * Uploads a stored media file; undefined when there is none to upload (not downloaded, or the
   * store lost it), in which case the body links to threadbridge's copy or says why it is missing.
   */
  private async uploadMedia(ownerId: string, type: string, media: MediaRef | undefined): Promise<HubspotFile | undefined> {
    if (!media?.storageKey) return undefined;
    let bytes: Buffer;
    try {
      bytes = await this.deps.media.read(media);
    } catch (err) {
      this.deps.logger.warn('media file could not be read for upload; linking instead', { storageKey: media.storageKey, error: (err as Error).message });
      return undefined;
    }
    return this.client.uploadFile(bytes, toFileName(ownerId, type, media));
  }
}
