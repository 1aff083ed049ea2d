import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';

export class CreateConnectionDto {
  @ApiProperty({ description: "The connector's id, e.g. 'hubspot' or 'zendesk'", example: 'hubspot' })
  @IsString()
  @IsNotEmpty()
  connectorId: string;

  @ApiProperty({ description: 'A unique name for this connection', minLength: 1, maxLength: 100, example: 'HubSpot (sales)' })
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @ApiProperty({
    description: "The connector's credentials (see the connector's README). Checked with the vendor, encrypted at rest, never returned.",
    type: 'object',
    additionalProperties: true,
    example: { accessToken: 'pat-na1-…' },
  })
  @IsObject()
  credentials: Record<string, unknown>;

  @ApiPropertyOptional({ description: "The connector's settings; absent keys take the connector's defaults", type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  settings?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Whether conversations are synced to it (default true)', default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
