import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each claim of an outbox task gets a token of its own (`lease_token`): renewing, finishing or
 * rescheduling the task names it, so a worker whose lease ran out and was taken over cannot
 * write over the new holder. The index serves the sweeper's look for leases that ran out, which
 * now runs every few seconds.
 */
export class TaskLeaseTokens1764600000000 implements MigrationInterface {
  name = 'TaskLeaseTokens1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN lease_token uuid`);
    await q.query(`CREATE INDEX outbox_running_idx ON outbox (locked_until) WHERE status = 'running'`);
    await q.query(`CREATE INDEX sync_leases_expires_idx ON sync_leases (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS sync_leases_expires_idx`);
    await q.query(`DROP INDEX IF EXISTS outbox_running_idx`);
    await q.query(`ALTER TABLE outbox DROP COLUMN IF EXISTS lease_token`);
  }
}
