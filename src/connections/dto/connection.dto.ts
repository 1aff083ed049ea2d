import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ConnectorCapabilities } from '../../../connectors/_sdk/contract';
import type { ConnectionView } from '../connections.service';
import type { ConnectionStatus } from '../entities/connection.entity';

export class ConnectorCapabilitiesDto implements ConnectorCapabilities {
  @ApiProperty({ type: Boolean, enum: [true], description: 'Finds or creates the customer as a contact/user (every connector)' })
  contacts: true;
  @ApiProperty({ description: "Logs each WhatsApp message on the customer's record" })
  history: boolean;
  @ApiProperty({ description: 'Opens/reuses a ticket per conversation' })
  tickets: boolean;
  @ApiProperty({ description: 'Attaches the transcript when a conversation closes' })
  transcripts: boolean;
  @ApiProperty({ description: 'Receives agent replies by webhook' })
  replies: boolean;
  @ApiProperty({ description: 'Mirrors consent changes onto the remote contact' })
  consent: boolean;
  @ApiProperty({ description: 'Erases the customer remotely' })
  erasure: boolean;
  @ApiProperty({ description: "Sets a ticket's group, priority, assignee and tags when its conversation's route changes" })
  ticketRouting: boolean;
  @ApiProperty({ description: 'Uploads media files rather than linking to them' })
  attachments: boolean;
}

export class RequestBudgetDto {
  @ApiProperty({ type: 'integer', description: 'Requests allowed per window' })
  requests: number;
  @ApiProperty({ type: 'integer', description: 'Window length in milliseconds' })
  perMs: number;
}

/** A connection as the API shows it: never a secret. */
export class ConnectionDto implements ConnectionView {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ example: 'hubspot' })
  connectorId: string;
  @ApiProperty({ type: String, nullable: true, description: "The connector's display name; null when this build no longer has the connector" })
  connectorName: string | null;
  @ApiProperty()
  name: string;
  @ApiProperty()
  enabled: boolean;
  @ApiProperty({ enum: ['active', 'needs_reauth', 'disabled'] })
  status: ConnectionStatus;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "The settings in effect (the connector's defaults filled in)" })
  settings: Record<string, unknown>;
  @ApiProperty({ type: ConnectorCapabilitiesDto, nullable: true })
  capabilities: ConnectorCapabilities | null;
  @ApiProperty({ type: RequestBudgetDto, nullable: true })
  budget: RequestBudgetDto | null;
  @ApiProperty({ type: Date, nullable: true, description: 'No call to the vendor before then (its Retry-After)' })
  retryAfter: Date | null;
  @ApiProperty({ type: 'integer' })
  failureCount: number;
  @ApiProperty({ type: String, nullable: true })
  lastError: string | null;
  @ApiProperty({ description: "'api', or 'env' for a connection declared by environment variables" })
  source: string;
  @ApiProperty()
  createdAt: Date;
  @ApiProperty()
  updatedAt: Date;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', enum: ['set'] },
    description: 'Which credential fields are set, never their values',
    example: { accessToken: 'set' },
  })
  credentials: Record<string, 'set'>;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Credential values threadbridge generated in this call (e.g. a webhook signing secret): shown this once, never again. Only in the answer to the create/update that generated them',
    example: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  })
  generatedCredentials?: Record<string, string>;
}
