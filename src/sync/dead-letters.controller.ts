import { Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { RequirePermission } from '../admin/access.decorators';
import { PageQueryDto } from '../common/pagination';
import { DeadLetterNotFoundError, DeadLettersService } from './dead-letters.service';

class ListDeadLettersDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  connectionId?: string;
}

@ApiTags('dead letters')
@ApiBearerAuth()
@Controller('api/v1/dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  @Get()
  @RequirePermission('dead-letters:read')
  @ApiOperation({ summary: 'Work that gave up (e.g. a message a CRM refused), newest first, with the reason' })
  list(@Query() q: ListDeadLettersDto) {
    return this.deadLetters.list({ connectionId: q.connectionId }, q.limit, q.cursor);
  }

  @Post(':id/replay')
  @RequirePermission('dead-letters:manage')
  @HttpCode(202)
  @ApiOperation({ summary: 'Try a dead-lettered task again (after fixing its cause)' })
  async replay(@Param('id') id: string) {
    try {
      await this.deadLetters.replay(id);
      return { id, status: 'pending' };
    } catch (error) {
      if (error instanceof DeadLetterNotFoundError) throw new NotFoundException('no dead letter with this id');
      throw error;
    }
  }
}
