import type { EntityManager } from 'typeorm';
import type { TaskRef } from '../tasks/outbox.repository';
import { fanOutTargets } from '../tasks/fan-out-rule';
import { QueueName } from '../tasks/queues';

/**
 * Outbox writes other modules make, inside their own transactions, for the reply flow. Plain
 * functions over the caller's EntityManager (not providers), so the modules that store messages
 * and statuses need no dependency on the replies module.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const RETURNING_TASK_REF = `RETURNING id::text AS id, queue, (EXTRACT(EPOCH FROM next_attempt_at) * 1000)::float8 AS "dueAtMs"`;

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
  return manager.query(
    `INSERT INTO outbox (queue, kind, dedupe_key, connection_id, conversation_id, message_id)
     SELECT '${QueueName.ReplyStatus}', $3, 'reply-status:' || m.id || ':' || $3, c.id, m.conversation_id, m.id
     FROM messages m JOIN connections c ON c.id = $2::uuid
     WHERE m.id = $1
     ON CONFLICT (dedupe_key) DO NOTHING
     ${RETURNING_TASK_REF}`,
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
  return manager.query(
    `INSERT INTO outbox (queue, kind, dedupe_key, connection_id, conversation_id, message_id)
     SELECT '${QueueName.CrmSync}', 'message', 'sync:' || c.id || ':' || m.id, c.id, m.conversation_id, m.id
     FROM messages m, connections c
     WHERE m.id = $1 AND m.direction = 'outbound' AND ${fanOutTargets('c')} AND c.id::text IS DISTINCT FROM m.origin
     ON CONFLICT (dedupe_key) DO NOTHING
     ${RETURNING_TASK_REF}`,
    [messageId],
  );
}
