import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returnedRows } from '../database/query-result';
import { OutboxTaskEntity } from './entities/outbox-task.entity';
import { fanOutTargets } from './fan-out-rule';
import { ALL_QUEUES, QueueName } from './queues';

export interface NewTask {
  queue: QueueName;
  kind: string;
  dedupeKey: string;
  connectionId?: string | null;
  conversationId?: string | null;
  messageId?: string | null;
  payload?: Record<string, unknown> | null;
}

export interface TaskRef {
  id: string;
  queue: QueueName;
  /** When the task is due (epoch ms). With the id it names the queue job, so re-enqueues dedupe. */
  dueAtMs: number;
}

// ---------------------------------------------------------------------------------------------
// The outbox's writes other folders make, inside their own transactions (the EntityManager they
// pass; `dataSource.manager` outside one). These functions are the one place that knows the
// outbox's columns, that a dedupe key seen before inserts nothing, and what comes back to enqueue:
// a caller says which rows (a SELECT, ids, a condition), and each is still one statement.

/** What every write returns for the tasks it touched: enough to enqueue them (TaskQueue.enqueue). */
const RETURNING_TASK_REF = `RETURNING id::text AS id, queue, (EXTRACT(EPOCH FROM next_attempt_at) * 1000)::float8 AS "dueAtMs"`;

const ON_DUPLICATE_SKIP = `ON CONFLICT (dedupe_key) DO NOTHING`;

/**
 * Tasks a SELECT computes, one per row of `from` (and `where`): each field is an SQL expression
 * over those rows. A column left out takes its default (no connection, no conversation…).
 */
export interface TaskSelect {
  queue: QueueName;
  kind: string;
  dedupeKey: string;
  connectionId?: string;
  conversationId?: string;
  messageId?: string;
  /** The rows the tasks come from (a FROM clause without the keyword), and which of them. */
  from: string;
  where?: string;
}

const SELECTED_COLUMNS = { kind: 'kind', dedupeKey: 'dedupe_key', connectionId: 'connection_id', conversationId: 'conversation_id', messageId: 'message_id' } as const;

/** Inserts the tasks `select` computes, in one statement; a dedupe key seen before is skipped. */
export async function insertTasks(manager: EntityManager, select: TaskSelect, params: unknown[]): Promise<TaskRef[]> {
  const fields = (Object.keys(SELECTED_COLUMNS) as (keyof typeof SELECTED_COLUMNS)[]).filter((f) => select[f] !== undefined);
  return manager.query(
    `INSERT INTO outbox (queue, ${fields.map((f) => SELECTED_COLUMNS[f]).join(', ')})
     SELECT '${select.queue}', ${fields.map((f) => select[f]).join(', ')}
     FROM ${select.from}${select.where ? ` WHERE ${select.where}` : ''}
     ${ON_DUPLICATE_SKIP}
     ${RETURNING_TASK_REF}`,
    params,
  );
}

/**
 * When tasks a caller wakes or parks become due: `now`; `now-or-earlier` (now, unless due sooner
 * already: it keeps its place); or the time a parameter of the caller's holds (`$2`).
 */
export type DueAt = 'now' | 'now-or-earlier' | `$${number}`;

function dueTime(due: DueAt): string {
  if (due === 'now') return 'now()';
  if (due === 'now-or-earlier') return 'LEAST(next_attempt_at, now())';
  return due;
}

/**
 * The statement that moves the due time of the tasks `where` names and returns them, for a caller
 * that composes it into a statement of its own (after a WITH); setDue runs it alone.
 */
export function setDueSql(where: string, due: DueAt): string {
  return `UPDATE outbox SET next_attempt_at = ${dueTime(due)}, updated_at = now() WHERE ${where} ${RETURNING_TASK_REF}`;
}

/** Moves the due time of the tasks `where` names; returns them, to enqueue after the commit. */
export async function setDue(manager: EntityManager, where: string, params: unknown[], due: DueAt = 'now'): Promise<TaskRef[]> {
  return returnedRows<TaskRef>(await manager.query(setDueSql(where, due), params));
}

/**
 * Finishes open tasks whoever holds their claim (unlike OutboxRepository.complete): a sync drain
 * finishing every task it synced, fenced by its own lease.
 */
export async function completeOpen(manager: EntityManager, taskIds: string[]): Promise<void> {
  if (taskIds.length === 0) return;
  await manager.query(
    `UPDATE outbox SET status = 'done', done_at = now(), locked_until = NULL, last_error = NULL, updated_at = now()
     WHERE id = ANY($1::bigint[]) AND status IN ('pending', 'running')`,
    [taskIds],
  );
}

/** Dead-letters an open task with its reason, whoever holds its claim (a drain, under its lease). */
export async function killOpen(manager: EntityManager, taskId: string, reason: string): Promise<void> {
  await manager.query(`UPDATE outbox SET status = 'dead', last_error = $2, locked_until = NULL, updated_at = now() WHERE id = $1 AND status IN ('pending', 'running')`, [
    taskId,
    reason,
  ]);
}

/**
 * Marks tasks as handed to the connector (see outbox.dispatched_at). Not fenced on purpose: the
 * mark only makes the next attempt look the remote object up before creating it.
 */
export async function markDispatched(manager: EntityManager, taskIds: string[]): Promise<void> {
  if (taskIds.length) await manager.query(`UPDATE outbox SET dispatched_at = now() WHERE id = ANY($1::bigint[])`, [taskIds]);
}

/** Puts a dead task back with fresh attempts, due now; returns it to enqueue, [] when it is not dead. */
export async function replayDead(manager: EntityManager, id: string): Promise<TaskRef[]> {
  return returnedRows<TaskRef>(
    await manager.query(
      `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, updated_at = now()
       WHERE id = $1 AND status = 'dead'
       ${RETURNING_TASK_REF}`,
      [id],
    ),
  );
}

// ---------------------------------------------------------------------------------------------

const TASK_COLUMNS = `id::text AS id, queue, kind, dedupe_key AS "dedupeKey", connection_id AS "connectionId",
  conversation_id AS "conversationId", message_id AS "messageId", payload, status, attempts,
  next_attempt_at AS "nextAttemptAt", locked_until AS "lockedUntil", lease_token::text AS "leaseToken", last_error AS "lastError",
  created_at AS "createdAt", updated_at AS "updatedAt", done_at AS "doneAt", dispatched_at AS "dispatchedAt"`;

/** Queries on the outbox table. The rules for what a task means live in TaskRunner and handlers. */
@Injectable()
export class OutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts tasks inside the caller's transaction; a dedupe key seen before is skipped. */
  async insert(manager: EntityManager, tasks: NewTask[]): Promise<TaskRef[]> {
    if (tasks.length === 0) return [];
    const values: unknown[] = [];
    const rows = tasks.map((t, i) => {
      values.push(t.queue, t.kind, t.dedupeKey, t.connectionId ?? null, t.conversationId ?? null, t.messageId ?? null, t.payload ? JSON.stringify(t.payload) : null);
      const o = i * 7;
      return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}::uuid, $${o + 5}::uuid, $${o + 6}::uuid, $${o + 7}::jsonb)`;
    });
    const inserted: TaskRef[] = await manager.query(
      `INSERT INTO outbox (queue, kind, dedupe_key, connection_id, conversation_id, message_id, payload)
       VALUES ${rows.join(', ')} ${ON_DUPLICATE_SKIP}
       ${RETURNING_TASK_REF}`,
      values,
    );
    return inserted;
  }

  /** A transcript task per connection the fan-out rule names (fan-out-rule.ts), for a conversation that just closed. */
  async insertTranscriptTasks(manager: EntityManager, conversationIds: string[]): Promise<TaskRef[]> {
    if (conversationIds.length === 0) return [];
    return insertTasks(
      manager,
      {
        queue: QueueName.CrmSync,
        kind: `'transcript'`,
        dedupeKey: `'transcript:' || c.id || ':' || v`,
        connectionId: 'c.id',
        conversationId: 'v',
        from: 'connections c, unnest($1::uuid[]) AS v',
        where: fanOutTargets('c'),
      },
      [conversationIds],
    );
  }

  /**
   * Takes one task for this worker if it is due and nobody holds it; null otherwise. The claim
   * gets a fresh lease token: everything the holder writes to the row afterwards names it.
   */
  async claim(id: string, leaseMs: number): Promise<OutboxTaskEntity | null> {
    const rows = returnedRows<OutboxTaskEntity>(
      await this.dataSource.query(
        `UPDATE outbox SET status = 'running', attempts = attempts + 1, locked_until = now() + ($2 || ' milliseconds')::interval,
           lease_token = gen_random_uuid(), updated_at = now()
         WHERE id = $1 AND next_attempt_at <= now()
           AND (status = 'pending' OR (status = 'running' AND locked_until < now()))
         RETURNING ${TASK_COLUMNS}`,
        [id, String(leaseMs)],
      ),
    );
    return rows[0] ?? null;
  }

  /** Takes up to `limit` due tasks (the embedded driver's poll), each with a lease token of its own. */
  async claimDue(limit: number, leaseMs: number, queues: string[]): Promise<OutboxTaskEntity[]> {
    return returnedRows<OutboxTaskEntity>(
      await this.dataSource.query(
        `UPDATE outbox SET status = 'running', attempts = attempts + 1, locked_until = now() + ($2 || ' milliseconds')::interval,
           lease_token = gen_random_uuid(), updated_at = now()
         WHERE id IN (
           SELECT id FROM outbox
           WHERE status IN ('pending', 'running') AND next_attempt_at <= now() AND queue = ANY($3)
             AND (status = 'pending' OR locked_until < now())
           ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING ${TASK_COLUMNS}`,
        [limit, String(leaseMs), queues],
      ),
    );
  }

  /**
   * The heartbeat of a claim: extends its lease while the row is running under `token`. True also
   * when the row is already finished under that token (a drain completes the very task that
   * started it, and goes on with the rest): nobody else has it. False: the claim is gone (the
   * lease ran out and another worker took the task, or it was rescheduled).
   */
  async renew(id: string, token: string, leaseMs: number): Promise<boolean> {
    const rows: { status: string }[] = await this.dataSource.query(
      `WITH mine AS (SELECT id, status FROM outbox WHERE id = $1 AND lease_token = $2::uuid),
       renewed AS (
         UPDATE outbox o SET locked_until = now() + ($3 || ' milliseconds')::interval
         FROM mine WHERE o.id = mine.id AND mine.status = 'running' AND o.locked_until >= now()
         RETURNING o.id)
       SELECT mine.status, (SELECT count(*) FROM renewed)::int AS renewed FROM mine`,
      [id, token, String(leaseMs)],
    );
    const row = rows[0] as { status: string; renewed: number } | undefined;
    if (!row) return false;
    return row.status === 'done' || row.status === 'dead' || row.renewed === 1;
  }

  // complete/reschedule/kill touch only a row still running under the caller's claim: a sync
  // drain may have finished this task already on another worker's behalf, and a worker whose
  // lease ran out must not undo what the task's new holder did. Each says whether it applied.

  async complete(id: string, token: string): Promise<boolean> {
    return this.applied(
      `UPDATE outbox SET status = 'done', done_at = now(), locked_until = NULL, last_error = NULL, updated_at = now()
       WHERE id = $1 AND status = 'running' AND lease_token = $2::uuid RETURNING id`,
      [id, token],
    );
  }

  async reschedule(id: string, token: string, at: Date, error: string | null, refundAttempt = false): Promise<boolean> {
    return this.applied(
      // A wake-up set while the task ran (a due time still ahead, sooner than ours) is kept: whoever
      // set it knows of work that must not wait for this retry.
      `UPDATE outbox SET status = 'pending', next_attempt_at = CASE WHEN next_attempt_at > now() THEN LEAST(next_attempt_at, $3) ELSE $3 END,
         locked_until = NULL, last_error = $4,
         attempts = attempts - $5::int, updated_at = now() WHERE id = $1 AND status = 'running' AND lease_token = $2::uuid RETURNING id`,
      [id, token, at, error, refundAttempt ? 1 : 0],
    );
  }

  async kill(id: string, token: string, error: string): Promise<boolean> {
    return this.applied(
      `UPDATE outbox SET status = 'dead', locked_until = NULL, last_error = $3, updated_at = now()
       WHERE id = $1 AND status = 'running' AND lease_token = $2::uuid RETURNING id`,
      [id, token, error],
    );
  }

  private async applied(sql: string, params: unknown[]): Promise<boolean> {
    return returnedRows(await this.dataSource.query(sql, params)).length === 1;
  }

  /**
   * Due tasks that have waited longer than `staleMs`, or whose worker's lease ran out. A task
   * taken over is named by the moment its lease ran out, not its due time: the dead worker's job
   * under the old name may still look active in Redis (until BullMQ's own stall check, ~30 s),
   * and a job id seen before is not added again.
   */
  async findStale(staleMs: number, limit: number, queues: string[]): Promise<TaskRef[]> {
    return this.dataSource.query(
      `SELECT id::text AS id, queue,
              (EXTRACT(EPOCH FROM CASE WHEN status = 'running' THEN locked_until ELSE next_attempt_at END) * 1000)::float8 AS "dueAtMs"
       FROM outbox
       WHERE queue = ANY($3) AND (
         (status = 'pending' AND next_attempt_at <= now() - ($1 || ' milliseconds')::interval)
         OR (status = 'running' AND locked_until < now()))
       ORDER BY id LIMIT $2`,
      [String(staleMs), limit, queues],
    );
  }

  /** For metrics: how many tasks wait, and how old the oldest is. */
  async pendingStats(): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const [row]: { pending: string; oldest: number | null }[] = await this.dataSource.query(
      `SELECT count(*)::text AS pending, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest
       FROM outbox WHERE status IN ('pending', 'running')`,
    );
    return { pending: Number(row.pending), oldestAgeSeconds: row.oldest ?? 0 };
  }

  /** Dead-lettered tasks per queue; every queue is listed, with 0 when it has none. */
  async deadCounts(): Promise<{ queue: string; count: number }[]> {
    const rows: { queue: string; count: number }[] = await this.dataSource.query(`SELECT queue, count(*)::int AS count FROM outbox WHERE status = 'dead' GROUP BY queue`);
    const byQueue = new Map(rows.map((r) => [r.queue, r.count]));
    return ALL_QUEUES.map((queue) => ({ queue, count: byQueue.get(queue) ?? 0 }));
  }

  /** Per connection, the age of its oldest task of `queue` not yet done (connections with none are absent). */
  async oldestOpenByConnection(queue: QueueName): Promise<Map<string, number>> {
    const rows: { connection_id: string; age: number }[] = await this.dataSource.query(
      `SELECT connection_id, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age
       FROM outbox WHERE queue = $1 AND status IN ('pending', 'running') AND connection_id IS NOT NULL GROUP BY connection_id`,
      [queue],
    );
    return new Map(rows.map((r) => [r.connection_id, r.age]));
  }

  /**
   * Makes a message's open tasks of one queue due now and returns them to enqueue (e.g. its CRM
   * syncs once its media is stored: they may have been rescheduled while it downloaded).
   */
  async makeDueForMessage(messageId: string, queue: QueueName): Promise<TaskRef[]> {
    return setDue(this.dataSource.manager, `message_id = $1 AND queue = $2 AND status IN ('pending', 'running')`, [messageId, queue], 'now-or-earlier');
  }

  async findById(id: string): Promise<OutboxTaskEntity | null> {
    const rows: OutboxTaskEntity[] = await this.dataSource.query(`SELECT ${TASK_COLUMNS} FROM outbox WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /**
   * Erasure: deletes tasks that name a customer only in their payload (e.g. consent changes); tasks
   * about their messages and conversations go with those rows (foreign keys). `keepQueue`'s tasks
   * stay (the erasure's own fan-out).
   */
  async eraseTasksNaming(manager: EntityManager, contactId: string, keepQueue: QueueName): Promise<void> {
    await manager.query(`DELETE FROM outbox WHERE payload->>'contactId' = $1::text AND queue <> $2`, [contactId, keepQueue]);
  }

  /** Removes what a finished task's payload said about a customer (their details, remote ids). */
  async scrubCustomerFromPayload(taskId: string): Promise<void> {
    await this.dataSource.query(`UPDATE outbox SET payload = payload - 'customer' - 'remote' WHERE id = $1`, [taskId]);
  }

  /** Retention: a connection's finished tasks (done or dead) not touched since `cutoff`, except `keepQueue`'s. */
  async deleteFinishedBefore(manager: EntityManager, connectionId: string, cutoff: Date, keepQueue: QueueName): Promise<number> {
    return returnedRows(
      await manager.query(`DELETE FROM outbox WHERE connection_id = $1 AND status IN ('done', 'dead') AND updated_at < $2 AND queue <> $3 RETURNING 1`, [connectionId, cutoff, keepQueue]),
    ).length;
  }
}
