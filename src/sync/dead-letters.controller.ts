import { Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { RequirePermission } from '../admin/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { type Page, PageOf, PageQueryDto } from '../common/pagination';
import { DeadLetterNotFoundError, DeadLettersService } from './dead-letters.service';
import { DeadLetterDto, ReplayedDeadLetterDto } from './dto/dead-letter.dto';

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
  @ApiOkResponse({ type: PageOf(DeadLetterDto) })
  @ApiErrors({ 400: 'Invalid query, or a cursor this API did not return' })
  list(@Query() q: ListDeadLettersDto): Promise<Page<DeadLetterDto>> {
    return this.deadLetters.list({ connectionId: q.connectionId }, q.limit, q.cursor);
  }

  @Post(':id/replay')
  @RequirePermission('dead-letters:manage')
  @HttpCode(202)
  @ApiOperation({ summary: 'Try a dead-lettered task again (after fixing its cause)' })
  @ApiAcceptedResponse({ description: 'Queued again', type: ReplayedDeadLetterDto })
  @ApiErrors({ 404: 'No dead letter with this id' })
  async replay(@Param('id') id: string): Promise<ReplayedDeadLetterDto> {
    try {
      await this.deadLetters.replay(id);
      return { id, status: 'pending' };
    } catch (error) {
      if (error instanceof DeadLetterNotFoundError) throw new NotFoundException('no dead letter with this id');
      throw error;
    }
  }
}
