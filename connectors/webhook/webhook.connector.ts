/**
 * The webhook connector's facets: every one of them is a delivery of one event (webhook.mapper.ts)
 * through WebhookClient, except contacts.ensure, which needs none.
 */
import { randomUUID } from 'node:crypto';
import { oneByOne } from '../_sdk/batch';
import type {
  AppendResult,
  ConnectorDeps,
  ConsentFacet,
  ContactsFacet,
  CrmConnector,
  ErasureFacet,
  RemoteRef,
  RepliesFacet,
  Thread,
  TicketsFacet,
  TimelineFacet,
  TranscriptsFacet,
  UnifiedMessage,
} from '../_sdk/contract';
import { WebhookClient } from './webhook.client';
import type { WebhookCredentialsDto } from './webhook.credentials';
import {
  OWN_CONTACT_TYPE,
  RECEIVER_CONTACT_TYPE,
  toConnectionTestDelivery,
  toConsentChangedDelivery,
  toContactErasedDelivery,
  toConversationClosedDelivery,
  toConversationOpenedDelivery,
  toMessageDelivery,
  toMessageStatusDelivery,
} from './webhook.mapper';
import { parseReplyWebhook, verifyReplyWebhook } from './webhook.replies';

/** Events per batch call; each is one request. */
export const WEBHOOK_MAX_BATCH = 100;
/** Deliveries in flight at once per batch (different conversations; one conversation's go in order). */
const CONCURRENCY = 4;

export class WebhookConnector implements CrmConnector {
  private readonly client: WebhookClient;

  constructor(
    private readonly credentials: WebhookCredentialsDto,
    private readonly deps: ConnectorDeps,
  ) {
    this.client = new WebhookClient(credentials, deps);
  }

  /** A connection.test event; the receiver's 2xx is the check (401/403 → a secret it does not share). */
  async verifyCredentials(): Promise<void> {
    await this.client.deliver(toConnectionTestDelivery(this.deps.clock.now(), randomUUID()));
  }

  /**
   * A receiver offers no contact search: the customer's ref is threadbridge's own contact id, or
   * the receiver's id once it answered one (the core then passes it as `known`).
   */
  readonly contacts: ContactsFacet = {
    ensure: async (requests) => requests.map(({ customer, known }) => known ?? { id: customer.contactId, type: OWN_CONTACT_TYPE }),
  };

  /**
   * message.received / message.sent, one delivery per message. A conversation's events go one
   * after another in its order (oneByOne by conversation), so they never overtake each other.
   */
  readonly timeline: TimelineFacet = {
    append: async (batches) => {
      const items = batches.flatMap(({ thread, messages }) => messages.map((message) => ({ thread, message })));
      return oneByOne(({ thread, message }: { thread: Thread; message: UnifiedMessage }) => this.appendOne(thread, message), {
        key: (item) => item.thread.conversationId,
        concurrency: CONCURRENCY,
      })(items);
    },
    // A maybe-created message is sent again with the same webhook-id, which the receiver uses to
    // drop repeats (Standard Webhooks asks receivers to): a repeat can never make a second record.
    reconcile: { maybeCreated: 'consistent_read' },
    uploadsMedia: false,
  };

  /** conversation.opened, once per conversation: its ref is the conversation id (what reply.created names). */
  readonly tickets: TicketsFacet = {
    ensure: oneByOne(
      async ({ thread, known }): Promise<RemoteRef> => {
        // `known` may be the customer's previous conversation: only this conversation's own ref means "sent".
        if (known?.id === thread.conversationId) return known;
        await this.client.deliver(toConversationOpenedDelivery(thread));
        return { id: thread.conversationId, type: 'conversation' };
      },
      { concurrency: CONCURRENCY },
    ),
  };

  /** conversation.closed with the whole transcript. */
  readonly transcripts: TranscriptsFacet = {
    attach: oneByOne(
      async (request): Promise<RemoteRef> => {
        const delivery = toConversationClosedDelivery(request);
        await this.client.deliver(delivery);
        return { id: delivery.id, type: 'event' };
      },
      { key: (request) => request.thread.conversationId, concurrency: CONCURRENCY },
    ),
  };

  /** consent.changed; one contact's changes in their order. */
  readonly consent: ConsentFacet = {
    record: async (requests) => {
      await oneByOne(async (request: (typeof requests)[number]) => this.client.deliver(toConsentChangedDelivery(request)), {
        key: (request) => request.contact.id,
        concurrency: CONCURRENCY,
      })(requests);
    },
  };

  /** contact.erased: the receiver is asked to forget the customer; its 2xx is the receipt. */
  readonly erasure: ErasureFacet = {
    erase: oneByOne(
      async (request) => {
        await this.client.deliver(toContactErasedDelivery(request, this.deps.clock.now()));
        return { outcome: 'done' as const, detail: 'the receiver acknowledged contact.erased' };
      },
      { concurrency: CONCURRENCY },
    ),
  };

  /** reply.created in; message.status out, to this connection only (the core sends it to the reply's origin). */
  readonly replies: RepliesFacet = {
    verify: (req) => verifyReplyWebhook(this.credentials.secret, req),
    parse: (req) => parseReplyWebhook(req),
    reportStatus: async (reports) => {
      await oneByOne(async (report: (typeof reports)[number]) => this.client.deliver(toMessageStatusDelivery(report)), {
        key: (report) => report.reply.remoteId,
        concurrency: CONCURRENCY,
      })(reports);
    },
  };

  private async appendOne(thread: Thread, message: UnifiedMessage): Promise<AppendResult> {
    const delivery = toMessageDelivery(thread, message);
    const answer = await this.client.deliver(delivery);
    const linked = answer.contactId !== undefined && !(thread.contact.type === RECEIVER_CONTACT_TYPE && thread.contact.id === answer.contactId);
    return {
      messageId: message.id,
      remote: { id: delivery.id, type: 'event' },
      ...(linked ? { contact: { id: answer.contactId!, type: RECEIVER_CONTACT_TYPE } } : {}),
    };
  }
}
