import type { StoredMedia } from '../conversations/entities/message.entity';
import type { ContactExport, ExportedMedia, ExportedMessage, ExportedRemoteLink } from './dto/contact-export.dto';
import type { ContactRow, ConversationRow, LinkRow, MessageRow, StatusEventRow } from './privacy.repository';

/** Pure assembly of the right-of-access document from the customer's rows. */

export const EXPORT_FORMAT = 'threadbridge.contact-export.v1';

/** Where an operator downloads a message's media file (GET /api/v1/media/:messageId). */
export function mediaUrl(baseUrl: string | undefined, messageId: string): string {
  return `${(baseUrl ?? '').replace(/\/+$/, '')}/api/v1/media/${messageId}`;
}

/** A message's media as the export shows it: a download link when the file is stored, else why not. */
export function toExportedMedia(media: StoredMedia, mediaStatus: string, url: string): ExportedMedia {
  const stored = mediaStatus === 'stored' && Boolean(media.storageKey);
  return {
    mimeType: media.mimeType ?? null,
    filename: media.filename ?? null,
    caption: media.caption ?? null,
    sizeBytes: media.sizeBytes ?? null,
    sha256: media.sha256 ?? null,
    whatsappMediaId: media.id ?? null,
    status: mediaStatus,
    downloadUrl: stored ? url : null,
    ...(stored ? {} : { unavailableReason: media.failureReason ?? (mediaStatus === 'pending' ? 'not downloaded yet' : 'not stored') }),
  };
}

export function toExportedMessage(row: MessageRow, statuses: StatusEventRow[], baseUrl: string | undefined): ExportedMessage {
  return {
    id: row.id,
    wamid: row.wamid,
    direction: row.direction,
    type: row.type,
    timestamp: row.waTimestamp,
    body: row.body,
    content: row.content ?? null,
    media: row.media ? toExportedMedia(row.media, row.mediaStatus, mediaUrl(baseUrl, row.id)) : null,
    context: row.context ?? null,
    referral: row.referral ?? null,
    errors: row.errors ?? null,
    forwarded: row.forwarded,
    status: row.status,
    statusAt: row.statusAt,
    statusHistory: statuses.map((s) => ({ status: s.status, occurredAt: s.occurredAt, errors: s.errors ?? null })),
    errorCode: row.errorCode,
    errorTitle: row.errorTitle,
    origin: row.origin,
    author: row.author,
    receivedAt: row.createdAt,
  };
}

/** Says what each link points from, so a reader can tell which CRM holds which of the customer's objects. */
export function toExportedLink(link: LinkRow): ExportedRemoteLink {
  return {
    connectionId: link.connectionId,
    connectionName: link.connectionName,
    connectorId: link.connectorId,
    localType: link.entityType === 'ticket' || link.entityType === 'transcript' ? 'conversation' : link.entityType,
    localId: link.localId,
    kind: link.entityType,
    remoteId: link.remoteId,
    remoteType: link.remoteType,
    remoteUrl: link.remoteUrl,
    linkedAt: link.createdAt,
  };
}

export interface ExportRows {
  contact: ContactRow;
  conversations: ConversationRow[];
  /** Every message, grouped by conversation in WhatsApp order. */
  messages: MessageRow[];
  statusEvents: StatusEventRow[];
  links: LinkRow[];
  consent: Record<string, unknown>[];
}

/** The whole document: contact, conversations with their messages in order, consent, links. */
export function buildContactExport(rows: ExportRows, options: { baseUrl?: string; now: Date }): ContactExport {
  const statusesByWamid = new Map<string, StatusEventRow[]>();
  for (const s of rows.statusEvents) statusesByWamid.set(s.wamid, [...(statusesByWamid.get(s.wamid) ?? []), s]);
  const messagesByConversation = new Map<string, ExportedMessage[]>();
  for (const m of rows.messages) {
    const list = messagesByConversation.get(m.conversationId) ?? [];
    list.push(toExportedMessage(m, statusesByWamid.get(m.wamid) ?? [], options.baseUrl));
    messagesByConversation.set(m.conversationId, list);
  }
  return {
    format: EXPORT_FORMAT,
    exportedAt: options.now,
    contact: {
      id: rows.contact.id,
      waId: rows.contact.waId,
      phone: rows.contact.e164,
      profileName: rows.contact.profileName,
      firstSeenAt: rows.contact.createdAt,
      updatedAt: rows.contact.updatedAt,
    },
    conversations: rows.conversations.map((c) => ({
      id: c.id,
      businessPhoneNumberId: c.phoneNumberId,
      businessDisplayPhoneNumber: c.displayPhoneNumber,
      status: c.status,
      openedAt: c.openedAt,
      lastMessageAt: c.lastMessageAt,
      lastInboundAt: c.lastInboundAt,
      firstResponseAt: c.firstResponseAt,
      resolvedAt: c.resolvedAt,
      closedAt: c.closedAt,
      messages: messagesByConversation.get(c.id) ?? [],
    })),
    consent: rows.consent,
    remoteLinks: rows.links.map(toExportedLink),
  };
}
