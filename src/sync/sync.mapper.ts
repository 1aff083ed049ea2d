import type { Customer, RemoteRef, Thread, TicketRouting, Transcript, UnifiedMessage } from '../../connectors/_sdk/contract';
import type { TicketRoutingColumn } from '../conversations/entities/conversation.entity';
import { renderMessageText } from '../whatsapp/inbound/message-text';
import type { InboundContext, MetaError } from '../whatsapp/inbound/inbound.types';
import type { SyncRow } from './sync.repository';

/** Pure mappings from stored rows to the connector contract's unified models. */

export function toCustomer(row: Pick<SyncRow, 'contactId' | 'waId' | 'e164' | 'profileName'>): Customer {
  return { contactId: row.contactId, waId: row.waId, e164: row.e164, profileName: row.profileName ?? undefined };
}

export function toThread(row: SyncRow, contact: RemoteRef, ticket?: RemoteRef): Thread {
  return {
    conversationId: row.conversationId,
    customer: toCustomer(row),
    contact,
    ticket,
    businessNumber: row.displayPhoneNumber ?? row.phoneNumberId,
    openedAt: new Date(row.openedAt),
    status: row.conversationStatus,
  };
}

const PRIORITIES: readonly string[] = ['low', 'normal', 'high', 'urgent'] satisfies TicketRouting['priority'][];

/**
 * The contract's TicketRouting from the conversation's stored route: blank names and tags left
 * out, a priority outside the four dropped. `atCreation`: a new ticket has no earlier route's tags
 * to take off, so removeTags goes. Undefined when the route asks nothing of a ticket.
 */
export function toTicketRouting(column: TicketRoutingColumn | null, options: { atCreation?: boolean } = {}): TicketRouting | undefined {
  if (!column) return undefined;
  const name = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
  const tags = (value: unknown) => {
    const list = Array.isArray(value) ? [...new Set(value.map(name).filter((t): t is string => t !== undefined))] : [];
    return list.length ? list : undefined;
  };
  const routing: TicketRouting = {
    group: name(column.group),
    priority: PRIORITIES.includes(String(column.priority)) ? (column.priority as TicketRouting['priority']) : undefined,
    tags: tags(column.tags),
    assignee: name(column.assignee),
    removeTags: options.atCreation ? undefined : tags(column.removeTags),
  };
  const present = Object.fromEntries(Object.entries(routing).filter(([, v]) => v !== undefined)) as TicketRouting;
  return Object.keys(present).length ? present : undefined;
}

/** The text a CRM shows for a stored message (body, caption, or a rendering of its content). */
export function messageText(row: Pick<SyncRow, 'type' | 'body' | 'content' | 'media' | 'context' | 'errors'>): string {
  return renderMessageText({
    type: row.type ?? 'unknown',
    body: row.body ?? undefined,
    content: row.content ?? undefined,
    media: row.media ?? undefined,
    context: (row.context as InboundContext | null) ?? undefined,
    errors: (row.errors as MetaError[] | null) ?? undefined,
  });
}

export function toUnifiedMessage(row: SyncRow, maybeCreated: boolean): UnifiedMessage {
  const media = row.media;
  return {
    id: row.messageId!,
    wamid: row.wamid!,
    direction: row.direction ?? 'inbound',
    type: row.type ?? 'unknown',
    text: messageText(row),
    timestamp: new Date(row.waTimestamp!),
    author: row.author ?? undefined,
    media: media
      ? {
          storageKey: media.storageKey,
          mimeType: media.mimeType,
          filename: media.filename,
          sizeBytes: media.sizeBytes,
          sha256: media.sha256,
          unavailableReason: media.storageKey ? undefined : (media.failureReason ?? 'the file could not be downloaded from WhatsApp'),
        }
      : undefined,
    maybeCreated,
  };
}

/** WhatsApp order: the message's own timestamp, then arrival. */
export function byWhatsAppOrder(a: SyncRow, b: SyncRow): number {
  const t = new Date(a.waTimestamp!).getTime() - new Date(b.waTimestamp!).getTime();
  return t !== 0 ? t : Number(a.seq ?? 0) - Number(b.seq ?? 0);
}

/** The whole conversation as a transcript: one entry per message, plus a plain-text rendering. */
export function buildTranscript(conversation: { conversationId: string; openedAt: Date; closedAt: Date; customerName: string }, rows: SyncRow[]): Transcript {
  const entries = rows.map((row) => {
    const message = toUnifiedMessage(row, false);
    return {
      timestamp: message.timestamp,
      direction: message.direction,
      author: message.direction === 'inbound' ? conversation.customerName : (message.author ?? 'Business'),
      text: message.text,
      media: message.media,
    };
  });
  const lines = entries.map((e) => {
    const media = e.media ? (e.media.storageKey ? ` [file: ${e.media.filename ?? e.media.mimeType ?? 'attachment'}]` : ` [file unavailable]`) : '';
    return `[${e.timestamp.toISOString().replace('T', ' ').slice(0, 19)} UTC] ${e.author}: ${e.text}${media}`;
  });
  const header = `WhatsApp conversation with ${conversation.customerName}, ${conversation.openedAt.toISOString()} – ${conversation.closedAt.toISOString()}`;
  return {
    conversationId: conversation.conversationId,
    openedAt: conversation.openedAt,
    closedAt: conversation.closedAt,
    entries,
    text: [header, '', ...lines].join('\n'),
  };
}
