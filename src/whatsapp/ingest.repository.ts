import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StoredMedia } from '../conversations/entities/message.entity';
import { insertTasks, type TaskRef } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';

export interface NewInboundMessage {
  waId: string;
  e164: string;
  profileName?: string;
  phoneNumberId: string;
  displayPhoneNumber?: string;
  wamid: string;
  type: string;
  body?: string;
  content?: unknown;
  media?: StoredMedia;
  context?: Record<string, unknown>;
  referral?: Record<string, unknown>;
  errors?: unknown[];
  forwarded: boolean;
  waTimestamp: Date;
}

/** A customer message that is exactly a consent keyword. */
export interface KeywordHit {
  wamid: string;
  intent: 'stop' | 'start';
}

type IngestResult = { messageId: string; tasks: TaskRef[] } | null;

/**
 * Stores customer messages through tb_ingest_inbound (ingest.functions.ts holds the rules it applies,
 * the fan-out to connections among them: tasks/fan-out-rule.ts).
 */
@Injectable()
export class IngestRepository {
  /**
   * Contact, conversation, message and outbox rows for one customer message, atomically, in one
   * round trip. Returns the tasks it created, or null when the wamid was stored before.
   */
  async storeInbound(manager: EntityManager, m: NewInboundMessage): Promise<TaskRef[] | null> {
    const [row]: { r: IngestResult }[] = await manager.query(`SELECT tb_ingest_inbound($1::jsonb) AS r`, [JSON.stringify(m)]);
    return row.r ? row.r.tasks : null;
  }

  /** The same for many messages in one atomic statement; one result per message, in order. */
  async storeInboundBatch(manager: EntityManager, messages: NewInboundMessage[]): Promise<(TaskRef[] | null)[]> {
    const [row]: { r: IngestResult[] }[] = await manager.query(`SELECT tb_ingest_inbound_batch($1::jsonb) AS r`, [JSON.stringify(messages)]);
    return row.r.map((r) => (r ? r.tasks : null));
  }

  /**
   * A consent-keyword task per stored message (kind = the intent), keyed on the wamid: a delivery
   * seen before writes nothing. A message that was not stored (erased) gets none.
   */
  async insertKeywordTasks(manager: EntityManager, hits: KeywordHit[]): Promise<TaskRef[]> {
    return insertTasks(
      manager,
      {
        queue: QueueName.ConsentKeyword,
        kind: 'k.intent',
        dedupeKey: `'keyword:' || m.wamid`,
        conversationId: 'm.conversation_id',
        messageId: 'm.id',
        from: `jsonb_to_recordset($1::jsonb) AS k(wamid text, intent text) JOIN messages m ON m.wamid = k.wamid AND m.direction = 'inbound'`,
      },
      [JSON.stringify(hits)],
    );
  }
}
