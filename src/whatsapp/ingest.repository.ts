import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StoredMedia } from '../conversations/entities/message.entity';
import type { TaskRef } from '../sync/outbox.repository';

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

type IngestResult = { messageId: string; tasks: TaskRef[] } | null;

/** Stores customer messages through tb_ingest_inbound (see its migration for the rules it applies). */
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
}
