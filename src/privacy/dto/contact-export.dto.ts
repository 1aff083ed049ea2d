import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// Classes (not interfaces) so the API docs can describe the document; the mapper builds plain objects of these shapes.

export class ExportedMedia {
  @ApiProperty({ type: String, nullable: true })
  mimeType: string | null;
  @ApiProperty({ type: String, nullable: true })
  filename: string | null;
  @ApiProperty({ type: String, nullable: true })
  caption: string | null;
  @ApiProperty({ type: 'integer', nullable: true })
  sizeBytes: number | null;
  @ApiProperty({ type: String, nullable: true })
  sha256: string | null;
  @ApiProperty({ type: String, nullable: true })
  whatsappMediaId: string | null;
  @ApiProperty({ enum: ['none', 'pending', 'stored', 'failed'] })
  status: string;
  @ApiProperty({ type: String, nullable: true, description: 'GET this (with the API key) for the file; null when it is not stored' })
  downloadUrl: string | null;
  @ApiPropertyOptional({ description: 'Why the file is not stored' })
  unavailableReason?: string;
}

export class ExportedStatus {
  @ApiProperty()
  status: string;
  @ApiProperty()
  occurredAt: Date;
  @ApiProperty({ type: 'array', items: {}, nullable: true, description: 'As Meta sent them' })
  errors: unknown;
}

export class ExportedMessage {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty()
  wamid: string;
  @ApiProperty({ enum: ['inbound', 'outbound'] })
  direction: string;
  @ApiProperty()
  type: string;
  @ApiProperty({ description: 'When WhatsApp says it was sent' })
  timestamp: Date;
  @ApiProperty({ type: String, nullable: true })
  body: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'The type-specific object as Meta sent it (location, contacts, interactive reply…)' })
  content: unknown;
  @ApiProperty({ type: () => ExportedMedia, nullable: true })
  media: ExportedMedia | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  context: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  referral: unknown;
  @ApiProperty({ type: 'array', items: {}, nullable: true })
  errors: unknown;
  @ApiProperty()
  forwarded: boolean;
  @ApiProperty()
  status: string;
  @ApiProperty({ type: Date, nullable: true })
  statusAt: Date | null;
  @ApiProperty({ type: () => [ExportedStatus], description: 'Every delivery status Meta reported for it' })
  statusHistory: { status: string; occurredAt: Date; errors: unknown }[];
  @ApiProperty({ type: 'integer', nullable: true })
  errorCode: number | null;
  @ApiProperty({ type: String, nullable: true })
  errorTitle: string | null;
  @ApiProperty()
  origin: string;
  @ApiProperty({ type: String, nullable: true })
  author: string | null;
  @ApiProperty({ description: 'When threadbridge stored it' })
  receivedAt: Date;
}

export class ExportedConversation {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty()
  businessPhoneNumberId: string;
  @ApiProperty({ type: String, nullable: true })
  businessDisplayPhoneNumber: string | null;
  @ApiProperty({ enum: ['open', 'closed'] })
  status: string;
  @ApiProperty()
  openedAt: Date;
  @ApiProperty({ type: Date, nullable: true })
  lastMessageAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  lastInboundAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  firstResponseAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  resolvedAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  closedAt: Date | null;
  @ApiProperty({ type: () => [ExportedMessage], description: 'In WhatsApp order' })
  messages: ExportedMessage[];
}

export class ExportedRemoteLink {
  @ApiProperty({ format: 'uuid' })
  connectionId: string;
  @ApiProperty()
  connectionName: string;
  @ApiProperty()
  connectorId: string;
  @ApiProperty({ description: 'What the local side is: contact, conversation or message' })
  localType: string;
  @ApiProperty()
  localId: string;
  @ApiProperty({ description: 'contact, ticket, message or transcript' })
  kind: string;
  @ApiProperty()
  remoteId: string;
  @ApiProperty()
  remoteType: string;
  @ApiProperty({ type: String, nullable: true })
  remoteUrl: string | null;
  @ApiProperty()
  linkedAt: Date;
}

export class ExportedContact {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ description: 'WhatsApp id (digits)' })
  waId: string;
  @ApiProperty({ description: 'E.164' })
  phone: string;
  @ApiProperty({ type: String, nullable: true })
  profileName: string | null;
  @ApiProperty()
  firstSeenAt: Date;
  @ApiProperty()
  updatedAt: Date;
}

/**
 * The right-of-access document (GET /api/v1/contacts/:id/export): everything threadbridge holds
 * about one customer, in one JSON document. Media files are links to GET /api/v1/media/:messageId
 * (same API key), so the document stays small.
 */
export class ContactExport {
  @ApiProperty({ example: 'threadbridge.contact-export.v1' })
  format: string;
  @ApiProperty()
  exportedAt: Date;
  @ApiProperty({ type: () => ExportedContact })
  contact: ExportedContact;
  @ApiProperty({ type: () => [ExportedConversation], description: 'Oldest first; each with its messages in WhatsApp order' })
  conversations: ExportedConversation[];
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'The consent ledger of the customer, oldest first' })
  consent: Record<string, unknown>[];
  @ApiProperty({ type: () => [ExportedRemoteLink], description: "Which CRM object holds which of the customer's objects (contact, tickets, messages, transcripts)" })
  remoteLinks: ExportedRemoteLink[];
}
