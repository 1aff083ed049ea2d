import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What Postgres cannot hold is normalised, not refused (README, "What the webhook answers"):
 * a message whose text had NUL characters or lone surrogates is stored with them replaced by
 * U+FFFD and `content_normalised` set; the delivery's original bytes are kept in the quarantine
 * table (kind 'normalised') beside what could not be understood at all (kind 'quarantined'),
 * which now keeps its bytes exactly too (`raw`), as text cannot hold every byte sequence.
 */
export class UnstorableContent1764500000000 implements MigrationInterface {
  name = 'UnstorableContent1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages ADD COLUMN content_normalised boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE quarantine ADD COLUMN kind text NOT NULL DEFAULT 'quarantined' CHECK (kind IN ('quarantined', 'normalised'))`);
    await q.query(`ALTER TABLE quarantine ADD COLUMN raw bytea`);
    await q.query(`ALTER TABLE quarantine ADD COLUMN wamids text[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE quarantine DROP COLUMN wamids`);
    await q.query(`ALTER TABLE quarantine DROP COLUMN raw`);
    await q.query(`ALTER TABLE quarantine DROP COLUMN kind`);
    await q.query(`ALTER TABLE messages DROP COLUMN content_normalised`);
  }
}
