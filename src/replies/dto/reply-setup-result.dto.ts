import { ApiProperty } from '@nestjs/swagger';
import { ConnectionDto } from '../../connections/dto/connection.dto';
import type { ReplySetupResult } from '../reply-setup.service';

export class StoredKeysDto {
  @ApiProperty({ type: [String], description: 'Credential keys the set-up stored (never their values)' })
  credentials: string[];
  @ApiProperty({ type: [String], description: 'Setting keys the set-up stored' })
  settings: string[];
}

/** Agent replies set up in the vendor, and what the set-up stored with the connection. */
export class ReplySetupResultDto implements ReplySetupResult {
  @ApiProperty({ description: 'Where the vendor now sends agent replies' })
  callbackUrl: string;
  @ApiProperty({ type: StoredKeysDto })
  stored: StoredKeysDto;
  @ApiProperty({ type: ConnectionDto })
  connection: ConnectionDto;
}
