import type { EntityManager } from 'typeorm';
import { returnedRows } from '../database/query-result';
import { insertTasks, type TaskRef } from '../tasks/outbox.repository';
import { fanOutTargets } from '../tasks/fan-out-rule';
import { QueueName } from '../tasks/queues';

/**
 * The tasks a stored message or status fans out to, for the reply flow, written inside the
 * caller's transaction through tasks/ (which owns the outbox). Plain functions over the caller's
 * EntityManager (not providers), so the modules that store messages and statuses need no
 * dependency on the replies module.
 */

const UUID_SQL = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const UUID = new RegExp(UUID_SQL, 'i');

/**
 * The rule of what counts as a person's reply, for first-response times and the service report:
 * an outbound message written by an agent in a connected system (its origin is a connection id)
 * or through the API. Auto-replies, menus and consent confirmations answer nobody's question.
 * An SQL predicate over the `messages` row aliased `alias`.
 */
export function personsReplySql(alias: string): string {
  return `${alias}.direction = 'outbound' AND (${alias}.origin = 'api' OR ${alias}.origin ~* '${UUID_SQL}')`;
}

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
  const first = returnedRows<{ id: string }>(
    await manager.query(
      `UPDATE conversations c SET first_response_at = m.wa_timestamp, updated_at = now()
       FROM messages m WHERE m.id = $1 AND ${personsReplySql('m')} AND c.id = m.conversation_id AND c.first_response_at IS NULL
       RETURNING c.id`,
      [messageId],
    ),
  );
  const timing = first.length ? await insertResponseTimeTasks(manager, 'first-response', [first[0].id]) : [];
  const sync = await insertTasks(
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
  return [...timing, ...sync];
}

/**
 * A conversation got its first response, or closed: the service policy observes the time it
 * took (calendar and business hours, which only it knows) in its histograms. One task per
 * conversation and event.
 */
export async function insertResponseTimeTasks(manager: EntityManager, kind: 'first-response' | 'resolved', conversationIds: string[]): Promise<TaskRef[]> {
  if (conversationIds.length === 0) return [];
  return insertTasks(
    manager,
    { queue: QueueName.ServicePolicy, kind: `'${kind}'`, dedupeKey: `'${kind}:' || v`, conversationId: 'v', from: 'unnest($1::uuid[]) AS v' },
    [conversationIds],
  );
}
