import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Remote links (local entity ↔ object in a CRM, per connection) and sync leases (one drain per
 * conversation, one contact lookup per customer, at a time, across every worker).
 */
export class SyncEngine1763800000000 implements MigrationInterface {
  name = 'SyncEngine1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE remote_links (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        entity_type text NOT NULL CHECK (entity_type IN ('contact', 'ticket', 'message', 'transcript')),
        local_id uuid NOT NULL,
        remote_id text NOT NULL,
        remote_type text NOT NULL,
        remote_url text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (connection_id, entity_type, local_id)
      )`);
    // One remote contact is one local contact. (Several messages may share one remote object,
    // e.g. a helpdesk comment holding a burst of messages, and a ticket may span conversations.)
    await q.query(
      `CREATE UNIQUE INDEX remote_links_contact_remote_idx ON remote_links (connection_id, remote_id) WHERE entity_type = 'contact'`,
    );
    await q.query(`CREATE INDEX remote_links_local_idx ON remote_links (local_id)`);

    await q.query(`
      CREATE TABLE sync_leases (
        connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        scope text NOT NULL,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (connection_id, scope)
      )`);

    // Set just before a connector is asked to create the remote object: if the worker dies or the
    // call times out after that, the next attempt knows the object may exist and looks it up first.
    await q.query(`ALTER TABLE outbox ADD COLUMN dispatched_at timestamptz`);

    await q.query(`CREATE INDEX outbox_dead_idx ON outbox (updated_at DESC) WHERE status = 'dead'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS outbox_dead_idx`);
    await q.query(`ALTER TABLE outbox DROP COLUMN IF EXISTS dispatched_at`);
    await q.query(`DROP TABLE IF EXISTS sync_leases`);
    await q.query(`DROP TABLE IF EXISTS remote_links`);
  }
}
