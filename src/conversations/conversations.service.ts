import { Injectable } from '@nestjs/common';
import { decodeCursor, type Page, toPage } from '../common/pagination';
import { ConversationsRepository } from './conversations.repository';
import type { ConversationEntity, ConversationStatus } from './entities/conversation.entity';
import type { MessageEntity } from './entities/message.entity';

export class ConversationNotFoundError extends Error {}

@Injectable()
export class ConversationsService {
  constructor(private readonly conversations: ConversationsRepository) {}

  async list(filter: { contactId?: string; status?: ConversationStatus }, limit = 50, cursor?: string): Promise<Page<ConversationEntity>> {
    const after = decodeCursor<{ openedAt: string; id: string }>(cursor, ['openedAt', 'id']);
    const rows = await this.conversations.listConversations(filter, limit + 1, after);
    return toPage(rows, limit, (last) => ({ openedAt: last.openedAt.toISOString(), id: last.id }));
  }

  /** Messages in WhatsApp order. */
  async messages(conversationId: string, limit = 50, cursor?: string): Promise<Page<MessageEntity>> {
    if (!(await this.conversations.findConversation(conversationId))) throw new ConversationNotFoundError(conversationId);
    const after = decodeCursor<{ ts: string; seq: string }>(cursor, ['ts', 'seq']);
    const rows = await this.conversations.listMessages(conversationId, limit + 1, after);
    return toPage(rows, limit, (last) => ({ ts: last.waTimestamp.toISOString(), seq: String(last.seq) }));
  }
}
