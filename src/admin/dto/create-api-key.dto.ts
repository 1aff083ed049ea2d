import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength, MinLength } from 'class-validator';
import { type Role, ROLES } from '../permissions';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'Who or what uses the key (shown in the audit log)', maxLength: 100, example: 'support team' })
  @IsString() @MinLength(1) @MaxLength(100)
  name: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}
