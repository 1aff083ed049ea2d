import { Controller, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../admin/access.decorators';
import { PageQueryDto } from '../common/pagination';
import { ConversationNotFoundError, ConversationsService } from './conversations.service';
import { ListConversationsDto } from './dto/list-conversations.dto';

@ApiTags('conversations')
@ApiBearerAuth()
@Controller('api/v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @RequirePermission('conversations:read')
  @ApiOperation({ summary: 'Conversations, newest first; filter by contact and status' })
  list(@Query() q: ListConversationsDto) {
    return this.conversations.list({ contactId: q.contactId, status: q.status }, q.limit, q.cursor);
  }

  @Post(':id/close')
  @RequirePermission('conversations:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'End a conversation now: its transcript goes to every connected CRM' })
  async close(@Param('id', new ParseUUIDPipe({ errorHttpStatusCode: 404 })) id: string) {
    try {
      return await this.conversations.close(id);
    } catch (error) {
      if (error instanceof ConversationNotFoundError) throw new NotFoundException('conversation not found');
      throw error;
    }
  }

  @Get(':id/messages')
  @RequirePermission('conversations:read')
  @ApiOperation({ summary: 'Messages of a conversation in WhatsApp order' })
  async messages(@Param('id', new ParseUUIDPipe({ errorHttpStatusCode: 404 })) id: string, @Query() q: PageQueryDto) {
    try {
      return await this.conversations.messages(id, q.limit, q.cursor);
    } catch (error) {
      if (error instanceof ConversationNotFoundError) throw new NotFoundException('conversation not found');
      throw error;
    }
  }
}
