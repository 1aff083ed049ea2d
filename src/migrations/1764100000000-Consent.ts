import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Consent and outbound messages.
 *  - consent_events: the append-only consent ledger. A contact's current consent per scope is its
 *    latest event (by when it was given, then by arrival), read by query, so nothing can drift from
 *    the ledger. The application has no UPDATE or DELETE path for these rows.
 *  - messages gain what an outbound message needs: its category (marketing/utility/authentication/
 *    service) and the caller's idempotency key, unique, so a replayed request sends nothing twice.
 *    A pending outbound message holds the placeholder wamid `pending:<id>` until Meta gives one.
 *  - outbound_refusals: every send the consent gate refused, with its reason.
 */
export class Consent1764100000000 implements MigrationInterface {
  name = 'Consent1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE consent_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        action text NOT NULL CHECK (action IN ('opt_in', 'opt_out')),
        scope text NOT NULL CHECK (scope IN ('marketing', 'transactional')),
        source text NOT NULL CHECK (source IN ('keyword', 'api', 'crm', 'form')),
        evidence_message_id text,
        evidence_text text,
        actor text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        dedupe_key text UNIQUE
      )`);
    // The current state is the first row of this order per (contact, scope).
    await q.query(`CREATE INDEX consent_events_current_idx ON consent_events (contact_id, scope, occurred_at DESC, seq DESC)`);

    await q.query(`ALTER TABLE messages ADD COLUMN category text CHECK (category IN ('marketing', 'utility', 'authentication', 'service'))`);
    await q.query(`ALTER TABLE messages ADD COLUMN idempotency_key text`);
    await q.query(`CREATE UNIQUE INDEX messages_idempotency_key_idx ON messages (idempotency_key) WHERE idempotency_key IS NOT NULL`);
    // Outbound messages not yet accepted by Meta, per customer: the sender keeps them in order.
    await q.query(`CREATE INDEX messages_outbound_unsent_idx ON messages (contact_id, seq) WHERE direction = 'outbound' AND wamid LIKE 'pending:%'`);

    await q.query(`
      CREATE TABLE outbound_refusals (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        contact_id uuid REFERENCES contacts(id) ON DELETE CASCADE,
        category text NOT NULL,
        is_template boolean NOT NULL,
        reason text NOT NULL,
        detail text NOT NULL,
        origin text NOT NULL,
        author text,
        idempotency_key text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX outbound_refusals_contact_idx ON outbound_refusals (contact_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS outbound_refusals`);
    await q.query(`DROP INDEX IF EXISTS messages_outbound_unsent_idx`);
    await q.query(`DROP INDEX IF EXISTS messages_idempotency_key_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN IF EXISTS idempotency_key`);
    await q.query(`ALTER TABLE messages DROP COLUMN IF EXISTS category`);
    await q.query(`DROP TABLE IF EXISTS consent_events`);
  }
}
