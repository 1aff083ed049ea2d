import { ApiProperty } from '@nestjs/swagger';
import type { QuarantineEntity } from '../entities/quarantine.entity';

/** A signed webhook (or part of one) that could not be understood, or was stored with unstorable text replaced. */
export class QuarantineItemDto implements Omit<QuarantineEntity, 'raw'> {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ example: 'whatsapp' })
  source: string;
  @ApiProperty()
  reason: string;
  @ApiProperty({ description: 'The raw text as received (the whole body, or the offending fragment as JSON)' })
  payload: string;
  @ApiProperty({ enum: ['quarantined', 'normalised'], description: 'quarantined: nothing stored; normalised: stored with unstorable characters replaced' })
  kind: 'quarantined' | 'normalised';
  @ApiProperty({ type: [String], nullable: true, description: 'The messages a normalised delivery stored' })
  wamids: string[] | null;
  @ApiProperty()
  createdAt: Date;
  @ApiProperty({ type: String, nullable: true, format: 'byte', description: "The delivery's exact bytes, when they are not the payload text itself" })
  rawBase64: string | null;
}
