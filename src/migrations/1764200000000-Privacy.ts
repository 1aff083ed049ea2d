import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Privacy: erasure requests with one receipt per system (this database, and every connection that
 * held or may hold the customer), tombstones of erased messages, and per-day retention counts.
 * None of these tables holds personal data: they prove what was removed, not what it was.
 */
export class Privacy1764200000000 implements MigrationInterface {
  name = 'Privacy1764200000000';

  async up(q: QueryRunner): Promise<void> {
    // contact_id is the erased contact's former id (the row is gone, hence no foreign key): an
    // operator asked about a customer can show when and where that customer was erased.
    await q.query(`
      CREATE TABLE erasure_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        contact_id uuid NOT NULL,
        erased jsonb NOT NULL DEFAULT '{}',
        requested_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      )`);
    await q.query(`CREATE INDEX erasure_requests_contact_idx ON erasure_requests (contact_id)`);

    // One row per system the erasure had to reach. target_name keeps the connection's name as it
    // was, so a receipt stays readable after the connection is renamed or deleted.
    await q.query(`
      CREATE TABLE erasure_receipts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        erasure_id uuid NOT NULL REFERENCES erasure_requests(id) ON DELETE CASCADE,
        target text NOT NULL CHECK (target IN ('local', 'connection')),
        target_name text NOT NULL,
        connection_id uuid REFERENCES connections(id) ON DELETE SET NULL,
        connector_id text,
        status text NOT NULL CHECK (status IN ('pending', 'done', 'not_found', 'failed')),
        detail text,
        attempts integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      )`);
    await q.query(`CREATE INDEX erasure_receipts_erasure_idx ON erasure_receipts (erasure_id, created_at)`);

    // sha256 of each erased message's wamid: Meta may deliver an old webhook again (retries last
    // days), and tb_ingest_inbound must not bring the message back. The hash is enough to
    // recognise a wamid and says nothing about the message.
    await q.query(`
      CREATE TABLE erased_messages (
        wamid_sha256 bytea PRIMARY KEY,
        erased_at timestamptz NOT NULL DEFAULT now()
      )`);

    // Media files are stored by content hash, so two messages may share one: a file is deleted
    // only when no message refers to it any more. Only messages with a stored file are indexed.
    await q.query(`CREATE INDEX messages_storage_key_idx ON messages ((media->>'storageKey')) WHERE media->>'storageKey' IS NOT NULL`);

    // What the retention job removed, per UTC day (counts only).
    await q.query(`
      CREATE TABLE retention_stats (
        day date PRIMARY KEY,
        runs integer NOT NULL DEFAULT 0,
        messages_removed bigint NOT NULL DEFAULT 0,
        media_removed bigint NOT NULL DEFAULT 0,
        conversations_removed bigint NOT NULL DEFAULT 0,
        sync_records_removed bigint NOT NULL DEFAULT 0,
        last_run_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS messages_storage_key_idx`);
    for (const table of ['retention_stats', 'erased_messages', 'erasure_receipts', 'erasure_requests']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
