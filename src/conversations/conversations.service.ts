import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { decodeCursor, type Page, toPage } from '../common/pagination';
import { OutboxRepository } from '../tasks/outbox.repository';
import { TaskQueue } from '../tasks/task-queue';
import { ConversationsRepository } from './conversations.repository';
import { insertResponseTimeTasks } from './fan-out';
import type { ConversationEntity, ConversationStatus } from './entities/conversation.entity';
import type { MessageEntity } from './entities/message.entity';

export class ConversationNotFoundError extends Error {}

@Injectable()
export class ConversationsService {
  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly queue: TaskQueue,
  ) {}

  /**
   * Ends a conversation (an operator's call) and queues its transcript for every connection.
   * The customer's next message opens a new conversation. Closing a closed one changes nothing.
   */
  async close(id: string): Promise<ConversationEntity> {
    if (!(await this.conversations.findConversation(id))) throw new ConversationNotFoundError(id);
    await this.closeWhere({ id });
    return (await this.conversations.findConversation(id))!;
  }

  /** Closes every conversation without a message for `idleMinutes`; returns how many. */
  async closeIdle(idleMinutes: number): Promise<number> {
    return (await this.closeWhere({ idleBefore: new Date(Date.now() - idleMinutes * 60_000) })).length;
  }

  private async closeWhere(filter: { id: string } | { idleBefore: Date }): Promise<string[]> {
    const { closed, tasks } = await this.dataSource.transaction(async (manager) => {
      const closed = await this.conversations.close(manager, filter);
      const tasks = await this.outbox.insertTranscriptTasks(manager, closed);
      return { closed, tasks: [...tasks, ...(await insertResponseTimeTasks(manager, 'resolved', closed))] };
    });
    if (tasks.length) await this.queue.enqueue(tasks);
    return closed;
  }

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
