import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';

export class ListAuditDto extends PageQueryDto {
  @ApiPropertyOptional({ description: "An API key id, or 'env-admin' for the bootstrap key" })
  @IsOptional() @IsString() @MaxLength(100)
  actor?: string;

  @ApiPropertyOptional({ description: 'Only calls made at or after this time (ISO 8601)', format: 'date-time' })
  @IsOptional() @Type(() => Date) @IsDate()
  since?: Date;
}
