/**
 * Pure functions from threadbridge's unified models to webhook events, and the event id that
 * stays the same on every attempt. No I/O.
 */
import { createHash } from 'node:crypto';
import type { ConsentRequest, Customer, ErasureRequest, MediaRef, RemoteRef, ReplyStatusReport, Thread, TranscriptRequest, UnifiedMessage } from '../_sdk/contract';
import type { ContactData, ContactRefData, Delivery, EventType, MediaData, WebhookEvent } from './webhook.types';

/** The ref contacts.ensure answers: threadbridge's own contact id, as no receiver can be searched. */
export const OWN_CONTACT_TYPE = 'threadbridge_contact';
/** The ref of a contact the receiver named in its answer. */
export const RECEIVER_CONTACT_TYPE = 'receiver_contact';

/**
 * The webhook-id of an event: derived from what the event is about (`key`), so every attempt,
 * replay and worker sends the same id and the receiver can drop repeats. Standard Webhooks wants
 * no '.' in it (it is part of the signed content): `msg_` + 32 hex digits.
 */
export function eventId(type: EventType, key: string): string {
  return `msg_${createHash('sha256').update(`${type}\n${key}`).digest('hex').slice(0, 32)}`;
}

export function toDelivery<T extends EventType>(event: WebhookEvent<T>, key: string): Delivery {
  return { id: eventId(event.type, key), type: event.type, body: JSON.stringify(event), occurredAt: new Date(event.timestamp) };
}

export function toContactData(customer: Customer, ref?: RemoteRef): ContactData {
  return {
    id: customer.contactId,
    waId: customer.waId,
    e164: customer.e164,
    name: customer.profileName ?? null,
    ...(ref?.type === RECEIVER_CONTACT_TYPE ? { externalId: ref.id } : {}),
  };
}

function toContactRef(ref: RemoteRef): ContactRefData {
  return ref.type === RECEIVER_CONTACT_TYPE ? { externalId: ref.id } : { id: ref.id };
}

export function toMediaData(media: MediaRef | undefined): MediaData | null {
  if (!media) return null;
  // The storage key is threadbridge's own business; the receiver gets the link.
  const { url, mimeType, filename, sizeBytes, sha256, unavailableReason } = media;
  return Object.fromEntries(Object.entries({ url, mimeType, filename, sizeBytes, sha256, unavailableReason }).filter(([, v]) => v !== undefined)) as MediaData;
}

/** message.received (inbound) or message.sent (outbound); one per message. */
export function toMessageDelivery(thread: Thread, message: UnifiedMessage): Delivery {
  const type = message.direction === 'inbound' ? 'message.received' : 'message.sent';
  const event: WebhookEvent<'message.received' | 'message.sent'> = {
    type,
    timestamp: message.timestamp.toISOString(),
    data: {
      conversationId: thread.conversationId,
      businessNumber: thread.businessNumber,
      contact: toContactData(thread.customer, thread.contact),
      message: {
        id: message.id,
        wamid: message.wamid,
        direction: message.direction,
        type: message.type,
        text: message.text,
        author: message.direction === 'outbound' ? (message.author ?? null) : null,
        media: toMediaData(message.media),
        timestamp: message.timestamp.toISOString(),
      },
    },
  };
  return toDelivery(event, message.id);
}

export function toConversationOpenedDelivery(thread: Thread): Delivery {
  return toDelivery(
    {
      type: 'conversation.opened',
      timestamp: thread.openedAt.toISOString(),
      data: { conversationId: thread.conversationId, businessNumber: thread.businessNumber, openedAt: thread.openedAt.toISOString(), contact: toContactData(thread.customer, thread.contact) },
    },
    thread.conversationId,
  );
}

export function toConversationClosedDelivery({ thread, transcript }: TranscriptRequest): Delivery {
  return toDelivery(
    {
      type: 'conversation.closed',
      timestamp: transcript.closedAt.toISOString(),
      data: {
        conversationId: thread.conversationId,
        businessNumber: thread.businessNumber,
        openedAt: transcript.openedAt.toISOString(),
        closedAt: transcript.closedAt.toISOString(),
        contact: toContactData(thread.customer, thread.contact),
        transcript: {
          text: transcript.text,
          entries: transcript.entries.map((e) => ({ timestamp: e.timestamp.toISOString(), direction: e.direction, author: e.author, text: e.text, media: toMediaData(e.media) })),
        },
      },
    },
    `${thread.conversationId}\n${transcript.closedAt.toISOString()}`,
  );
}

/** contact.erased: the erasure request carries no time, so `at` is the attempt's (the webhook-id stays the same). */
export function toContactErasedDelivery({ contact, customer }: ErasureRequest, at: Date): Delivery {
  return toDelivery(
    {
      type: 'contact.erased',
      timestamp: at.toISOString(),
      data: { contact: { id: customer.contactId, ...(contact.type === RECEIVER_CONTACT_TYPE ? { externalId: contact.id } : {}), waId: customer.waId, e164: customer.e164 } },
    },
    customer.contactId,
  );
}

export function toConsentChangedDelivery({ contact, consent }: ConsentRequest): Delivery {
  const changedAt = consent.changedAt.toISOString();
  return toDelivery(
    { type: 'consent.changed', timestamp: changedAt, data: { contact: toContactRef(contact), scope: consent.scope, optedIn: consent.optedIn, changedAt, source: consent.source } },
    `${contact.id}\n${consent.scope}\n${consent.optedIn}\n${changedAt}`,
  );
}

export function toMessageStatusDelivery({ reply, status }: ReplyStatusReport): Delivery {
  return toDelivery(
    {
      type: 'message.status',
      timestamp: status.at.toISOString(),
      data: { replyId: reply.remoteId, conversationId: reply.remoteThreadId ?? null, state: status.state, detail: status.detail ?? null, at: status.at.toISOString() },
    },
    // One event per state of a reply: a repeated report of the same state is the same event.
    `${reply.remoteId}\n${status.state}`,
  );
}

/** connection.test: sent when the connection is created or its credentials change; a fresh id each time. */
export function toConnectionTestDelivery(at: Date, nonce: string): Delivery {
  return toDelivery({ type: 'connection.test', timestamp: at.toISOString(), data: { message: 'threadbridge is checking this endpoint' } }, nonce);
}
