/**
 * The right-of-access document (GET /api/v1/contacts/:id/export): everything threadbridge holds
 * about one customer, in one JSON document. Media files are links to GET /api/v1/media/:messageId
 * (same API key), so the document stays small.
 */
export interface ContactExport {
  format: string;
  exportedAt: Date;
  contact: {
    id: string;
    /** WhatsApp id (digits). */
    waId: string;
    /** E.164. */
    phone: string;
    profileName: string | null;
    firstSeenAt: Date;
    updatedAt: Date;
  };
  /** Oldest first; each with its messages in WhatsApp order. */
  conversations: ExportedConversation[];
  /** The consent ledger of the customer, oldest first. */
  consent: Record<string, unknown>[];
  /** Which CRM object holds which of the customer's objects (contact, tickets, messages, transcripts). */
  remoteLinks: ExportedRemoteLink[];
}

export interface ExportedConversation {
  id: string;
  businessPhoneNumberId: string;
  businessDisplayPhoneNumber: string | null;
  status: string;
  openedAt: Date;
  lastMessageAt: Date | null;
  lastInboundAt: Date | null;
  firstResponseAt: Date | null;
  resolvedAt: Date | null;
  closedAt: Date | null;
  messages: ExportedMessage[];
}

export interface ExportedMessage {
  id: string;
  wamid: string;
  direction: string;
  type: string;
  /** When WhatsApp says it was sent. */
  timestamp: Date;
  body: string | null;
  /** The type-specific object as Meta sent it (location, contacts, interactive reply…). */
  content: unknown;
  media: ExportedMedia | null;
  context: unknown;
  referral: unknown;
  errors: unknown;
  forwarded: boolean;
  status: string;
  statusAt: Date | null;
  /** Every delivery status Meta reported for it. */
  statusHistory: { status: string; occurredAt: Date; errors: unknown }[];
  errorCode: number | null;
  errorTitle: string | null;
  origin: string;
  author: string | null;
  /** When threadbridge stored it. */
  receivedAt: Date;
}

export interface ExportedMedia {
  mimeType: string | null;
  filename: string | null;
  caption: string | null;
  sizeBytes: number | null;
  sha256: string | null;
  whatsappMediaId: string | null;
  status: string;
  /** GET this (with the API key) for the file; null when it is not stored. */
  downloadUrl: string | null;
  unavailableReason?: string;
}

export interface ExportedRemoteLink {
  connectionId: string;
  connectionName: string;
  connectorId: string;
  /** What the local side is: contact, conversation or message. */
  localType: string;
  localId: string;
  /** contact, ticket, message or transcript. */
  kind: string;
  remoteId: string;
  remoteType: string;
  remoteUrl: string | null;
  linkedAt: Date;
}
