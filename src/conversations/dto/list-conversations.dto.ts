import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import type { ConversationStatus } from '../entities/conversation.entity';

export class ListConversationsDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  contactId?: string;

  @ApiPropertyOptional({ enum: ['open', 'closed'] })
  @IsOptional() @IsIn(['open', 'closed'])
  status?: ConversationStatus;
}
