import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every vendor call of the sync engine, one row per task it was for: what was called, when, how
 * long it took and how it ended ('ok' or the ConnectorError kind, with the redacted reason). The
 * console's message view shows them, so an operator without a tracing backend still sees each
 * attempt. Owned by src/sync. Rows go with their task, message, conversation or connection (foreign
 * keys, ON DELETE CASCADE), so erasure and retention remove a customer's attempts with the rest.
 */
export class SyncAttempts1765000000000 implements MigrationInterface {
  name = 'SyncAttempts1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_attempts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        task_id bigint NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
        connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        message_id uuid NULL REFERENCES messages (id) ON DELETE CASCADE,
        conversation_id uuid NULL REFERENCES conversations (id) ON DELETE CASCADE,
        operation text NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms integer NOT NULL,
        outcome text NOT NULL,
        error text NULL
      )`);
    await q.query(`CREATE INDEX sync_attempts_message_idx ON sync_attempts (message_id)`);
    // For the cascades: a task, or a conversation, deleted finds its attempts without a scan.
    await q.query(`CREATE INDEX sync_attempts_task_idx ON sync_attempts (task_id)`);
    await q.query(`CREATE INDEX sync_attempts_conversation_idx ON sync_attempts (conversation_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS sync_attempts`);
  }
}
