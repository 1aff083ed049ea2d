import { ApiProperty } from '@nestjs/swagger';
import type { AuditEntryView } from '../audit.service';

export class AuditActorDto {
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'null for the bootstrap key (env-admin)' })
  keyId: string | null;
  @ApiProperty()
  name: string;
  @ApiProperty()
  role: string;
}

/** One call that changed something or exported data. */
export class AuditEntryDto implements AuditEntryView {
  @ApiProperty()
  id: string;
  @ApiProperty()
  at: Date;
  @ApiProperty({ type: AuditActorDto })
  actor: AuditActorDto;
  @ApiProperty({ example: 'POST' })
  method: string;
  @ApiProperty({ description: 'The route pattern', example: '/api/v1/connections/:id' })
  route: string;
  @ApiProperty({ type: String, nullable: true })
  targetId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'The route parameters' })
  params: Record<string, string>;
  @ApiProperty({ type: 'integer', description: 'The answer’s status (499: the client went away)' })
  status: number;
  @ApiProperty({ type: String, nullable: true })
  ip: string | null;
  @ApiProperty({ type: String, nullable: true })
  userAgent: string | null;
}
