import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { decodeCursor, InvalidCursorError, type Page, toPage } from '../common/pagination';
import { replayDead } from '../tasks/outbox.repository';
import { TaskQueue } from '../tasks/task-queue';

export interface DeadLetter {
  id: string;
  queue: string;
  kind: string;
  connectionId: string | null;
  conversationId: string | null;
  messageId: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export class DeadLetterNotFoundError extends Error {}

/** Tasks that gave up (a request the vendor refused, a download that cannot succeed): list and replay. */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly queue: TaskQueue,
  ) {}

  async list(filter: { connectionId?: string }, limit = 50, cursor?: string): Promise<Page<DeadLetter>> {
    const after = decodeCursor<{ id: string }>(cursor, ['id']);
    if (after && !/^\d+$/.test(after.id)) throw new InvalidCursorError('cursor is not one this API returned');
    const rows: DeadLetter[] = await this.dataSource.query(
      `SELECT id::text AS id, queue, kind, connection_id AS "connectionId", conversation_id AS "conversationId",
              message_id AS "messageId", attempts, last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt"
       FROM outbox WHERE status = 'dead' AND ($1::uuid IS NULL OR connection_id = $1) AND ($2::bigint IS NULL OR id < $2)
       ORDER BY id DESC LIMIT $3`,
      [filter.connectionId ?? null, after?.id ?? null, limit + 1],
    );
    return toPage(rows, limit, (last) => ({ id: last.id }));
  }

  /** Puts a dead task back in the queue with fresh attempts. */
  async replay(id: string): Promise<void> {
    if (!/^\d+$/.test(id)) throw new DeadLetterNotFoundError(id);
    const refs = await replayDead(this.dataSource.manager, id);
    if (refs.length === 0) throw new DeadLetterNotFoundError(id);
    await this.queue.enqueue(refs);
  }
}
