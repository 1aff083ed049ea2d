import type { EntityManager } from 'typeorm';
import { insertTasks, type TaskRef } from '../tasks/outbox.repository';
import { fanOutTargets } from '../tasks/fan-out-rule';
import { QueueName } from '../tasks/queues';

/**
 * The tasks a stored message or status fans out to, for the reply flow, written inside the
 * caller's transaction through tasks/ (which owns the outbox). Plain functions over the caller's
 * EntityManager (not providers), so the modules that store messages and statuses need no
 * dependency on the replies module.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Only a message written in a connected system (its origin is a connection id) has someone to
 * tell: a cheap test the status path makes before any query.
 */
export function hasConnectionOrigin(origin: string | null | undefined): origin is string {
  return typeof origin === 'string' && UUID.test(origin);
}

/**
 * A reply-status task for an outbound message that just reached `status` (sent, delivered, read,
 * failed), when its origin is a connection that still exists. One per message and status.
 */
export async function insertReplyStatusTask(manager: EntityManager, message: { id: string; origin: string | null; status: string }): Promise<TaskRef[]> {
  if (!hasConnectionOrigin(message.origin)) return [];
  return insertTasks(
    manager,
    {
      queue: QueueName.ReplyStatus,
      kind: '$3',
      dedupeKey: `'reply-status:' || m.id || ':' || $3`,
      connectionId: 'c.id',
      conversationId: 'm.conversation_id',
      messageId: 'm.id',
      from: 'messages m JOIN connections c ON c.id = $2::uuid',
      where: 'm.id = $1',
    },
    [message.id, message.origin, message.status],
  );
}

/**
 * When WhatsApp accepted an outbound message: a crm-sync task for every connection the fan-out
 * rule names (tasks/fan-out-rule.ts) except the one the message was written in (it holds the reply
 * already: writing it back would show it twice, or send it again), and the conversation's first
 * response time if this is its first.
 */
export async function insertOutboundFanOut(manager: EntityManager, messageId: string): Promise<TaskRef[]> {
  await manager.query(
    `UPDATE conversations c SET first_response_at = m.wa_timestamp, updated_at = now()
     FROM messages m WHERE m.id = $1 AND m.direction = 'outbound' AND c.id = m.conversation_id AND c.first_response_at IS NULL`,
    [messageId],
  );
  return insertTasks(
    manager,
    {
      queue: QueueName.CrmSync,
      kind: `'message'`,
      dedupeKey: `'sync:' || c.id || ':' || m.id`,
      connectionId: 'c.id',
      conversationId: 'm.conversation_id',
      messageId: 'm.id',
      from: 'messages m, connections c',
      where: `m.id = $1 AND m.direction = 'outbound' AND ${fanOutTargets('c')} AND c.id::text IS DISTINCT FROM m.origin`,
    },
    [messageId],
  );
}
