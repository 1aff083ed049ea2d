import { Controller, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../admin/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { type Page, PageOf, PageQueryDto } from '../common/pagination';
import { ConversationNotFoundError, ConversationsService } from './conversations.service';
import { ConversationDto } from './dto/conversation.dto';
import { MessageDto } from './dto/message.dto';
import { ListConversationsDto } from './dto/list-conversations.dto';

@ApiTags('conversations')
@ApiBearerAuth()
@Controller('api/v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @RequirePermission('conversations:read')
  @ApiOperation({ summary: 'Conversations, newest first; filter by contact and status' })
  @ApiOkResponse({ type: PageOf(ConversationDto) })
  @ApiErrors({ 400: 'Invalid query, or a cursor this API did not return' })
  list(@Query() q: ListConversationsDto): Promise<Page<ConversationDto>> {
    return this.conversations.list({ contactId: q.contactId, status: q.status }, q.limit, q.cursor);
  }

  @Post(':id/close')
  @RequirePermission('conversations:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'End a conversation now: its transcript goes to every connected CRM' })
  @ApiOkResponse({ description: 'The conversation, closed (closing a closed one changes nothing)', type: ConversationDto })
  @ApiErrors({ 404: 'No conversation with this id' })
  async close(@Param('id', new ParseUUIDPipe({ errorHttpStatusCode: 404 })) id: string): Promise<ConversationDto> {
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
  @ApiOkResponse({ type: PageOf(MessageDto) })
  @ApiErrors({ 400: 'Invalid query, or a cursor this API did not return', 404: 'No conversation with this id' })
  async messages(@Param('id', new ParseUUIDPipe({ errorHttpStatusCode: 404 })) id: string, @Query() q: PageQueryDto): Promise<Page<MessageDto>> {
    try {
      return await this.conversations.messages(id, q.limit, q.cursor);
    } catch (error) {
      if (error instanceof ConversationNotFoundError) throw new NotFoundException('conversation not found');
      throw error;
    }
  }
}
