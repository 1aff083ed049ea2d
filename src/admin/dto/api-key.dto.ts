import { ApiProperty } from '@nestjs/swagger';
import type { ApiKeyView, CreatedApiKey } from '../api-keys.service';
import { type Role, ROLES } from '../permissions';

/** What the API shows of a key: never the key or its hash. */
export class ApiKeyDto implements ApiKeyView {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty()
  name: string;
  @ApiProperty({ enum: ROLES, description: 'A key stored with a role this build no longer has keeps its name' })
  role: Role | string;
  @ApiProperty({ description: 'The start of the key, to tell keys apart', example: 'tb_Xq3v9a' })
  prefix: string;
  @ApiProperty()
  createdAt: Date;
  @ApiProperty({ type: Date, nullable: true })
  lastUsedAt: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  revokedAt: Date | null;
}

/** A key just created: the only answer that holds the key itself. */
export class CreatedApiKeyDto extends ApiKeyDto implements CreatedApiKey {
  @ApiProperty({ description: 'The key: shown this once, stored only as its hash' })
  key: string;
}
