/**
 * A connector's facets called with one item at a time, for tests that follow one customer, one
 * thread or one message through a connector: `await one.ensureContact(customer)` instead of
 * `(await connector.contacts.ensure([{ customer }]))[0]`. Every call goes through the facet's batch
 * form (with a batch of one), so what a test checks is what the core gets. A facet the connector
 * lacks throws, naming it.
 */
import {
  hasFacet,
  type AppendResult,
  type AttachmentDownload,
  type ConnectionUpdate,
  type ConnectorEvent,
  type ConsentState,
  type CrmConnector,
  type Customer,
  type ErasureReceipt,
  type FacetName,
  type RawWebhook,
  type RemoteRef,
  type ReplyAttachment,
  type ReplyRef,
  type ReplyStatus,
  type Thread,
  type TicketRouting,
  type Transcript,
  type UnifiedMessage,
  type WithFacet,
} from '../contract';

export interface OneAtATime {
  verifyCredentials(): Promise<void>;
  ensureContact(customer: Customer, known?: RemoteRef): Promise<RemoteRef>;
  ensureTicket(thread: Thread, known?: RemoteRef, routing?: TicketRouting): Promise<RemoteRef>;
  applyTicketRouting(ticket: RemoteRef, routing: TicketRouting): Promise<void>;
  appendMessages(thread: Thread, messages: UnifiedMessage[]): Promise<AppendResult[]>;
  attachTranscript(thread: Thread, transcript: Transcript): Promise<RemoteRef>;
  recordConsent(contact: RemoteRef, consent: ConsentState): Promise<void>;
  eraseContact(contact: RemoteRef, customer: Customer): Promise<ErasureReceipt>;
  verifyWebhook(req: RawWebhook): boolean;
  parseWebhook(req: RawWebhook): ConnectorEvent[];
  reportReplyStatus(reply: ReplyRef, status: ReplyStatus): Promise<void>;
  downloadAttachment(attachment: ReplyAttachment, options: { maxBytes: number }): Promise<AttachmentDownload>;
  setUpReplies(callbackUrl: string): Promise<ConnectionUpdate>;
}

export function oneAtATime(connector: CrmConnector): OneAtATime {
  const facet = <K extends FacetName>(name: K): WithFacet<K>[K] => {
    if (!hasFacet(connector, name)) throw new Error(`this connector has no ${name} facet`);
    return connector[name];
  };
  const only = <T>(results: T[]): T => {
    if (results.length !== 1) throw new Error(`a batch of one answered ${results.length} results`);
    return results[0];
  };
  return {
    verifyCredentials: () => connector.verifyCredentials(),
    ensureContact: async (customer, known) => only(await connector.contacts.ensure([{ customer, known }])),
    ensureTicket: async (thread, known, routing) => only(await facet('tickets').ensure([{ thread, known, routing }])),
    applyTicketRouting: async (ticket, routing) => only(await facet('ticketRouting').apply([{ ticket, routing }])),
    appendMessages: (thread, messages) => facet('timeline').append([{ thread, messages }]),
    attachTranscript: async (thread, transcript) => only(await facet('transcripts').attach([{ thread, transcript }])),
    recordConsent: (contact, consent) => facet('consent').record([{ contact, consent }]),
    eraseContact: async (contact, customer) => only(await facet('erasure').erase([{ contact, customer }])),
    verifyWebhook: (req) => facet('replies').verify(req),
    parseWebhook: (req) => facet('replies').parse(req),
    reportReplyStatus: (reply, status) => facet('replies').reportStatus([{ reply, status }]),
    downloadAttachment: (attachment, options) => {
      const replies = facet('replies');
      if (!replies.download) throw new Error('this connector cannot download reply attachments');
      return replies.download(attachment, options);
    },
    setUpReplies: (callbackUrl) => facet('replySetup').setUp(callbackUrl),
  };
}
