import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The foundation: contacts, conversations, messages (unique wamid), delivery statuses, connections,
 * the outbox (durable jobs; the queue only carries their ids) and the quarantine.
 */
export class InitialSchema1763700000000 implements MigrationInterface {
  name = 'InitialSchema1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE contacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        wa_id text NOT NULL UNIQUE,
        e164 text NOT NULL,
        profile_name text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX contacts_e164_idx ON contacts (e164)`);

    await q.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        phone_number_id text NOT NULL,
        display_phone_number text,
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        opened_at timestamptz NOT NULL DEFAULT now(),
        last_message_at timestamptz,
        last_inbound_at timestamptz,
        first_response_at timestamptz,
        resolved_at timestamptz,
        closed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // At most one open conversation per customer and business number; concurrent webhooks that
    // both try to open one race on this index and the loser reads the winner's row.
    await q.query(
      `CREATE UNIQUE INDEX conversations_one_open_idx ON conversations (contact_id, phone_number_id) WHERE status = 'open'`,
    );
    await q.query(`CREATE INDEX conversations_contact_idx ON conversations (contact_id, opened_at DESC)`);

    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial NOT NULL,
        wamid text NOT NULL UNIQUE,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        type text NOT NULL,
        body text,
        content jsonb,
        media jsonb,
        context jsonb,
        referral jsonb,
        errors jsonb,
        forwarded boolean NOT NULL DEFAULT false,
        wa_timestamp timestamptz NOT NULL,
        status text NOT NULL,
        status_rank smallint NOT NULL DEFAULT 0,
        status_at timestamptz,
        error_code integer,
        error_title text,
        media_status text NOT NULL DEFAULT 'none' CHECK (media_status IN ('none', 'pending', 'stored', 'failed')),
        origin text NOT NULL DEFAULT 'whatsapp',
        author text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX messages_conversation_order_idx ON messages (conversation_id, wa_timestamp, seq)`);

    // Every status Meta reported, once per (wamid, status): statuses can arrive before we stored the
    // message we sent, out of order and more than once.
    await q.query(`
      CREATE TABLE message_status_events (
        wamid text NOT NULL,
        status text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recipient_id text,
        errors jsonb,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (wamid, status)
      )`);

    await q.query(`
      CREATE TABLE connections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        connector_id text NOT NULL,
        name text NOT NULL UNIQUE,
        credentials_enc text NOT NULL,
        settings jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reauth', 'disabled')),
        enabled boolean NOT NULL DEFAULT true,
        retry_after timestamptz,
        failure_count integer NOT NULL DEFAULT 0,
        last_error text,
        source text NOT NULL DEFAULT 'api',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    // The outbox: every unit of background work is a row, written in the transaction that caused it.
    // Queues (BullMQ, or the embedded poller) carry only row ids; the row holds the truth.
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        queue text NOT NULL,
        kind text NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        connection_id uuid REFERENCES connections(id) ON DELETE CASCADE,
        conversation_id uuid REFERENCES conversations(id) ON DELETE CASCADE,
        message_id uuid REFERENCES messages(id) ON DELETE CASCADE,
        payload jsonb,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        locked_until timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        done_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE status IN ('pending', 'running')`,
    );
    await q.query(
      `CREATE INDEX outbox_conversation_idx ON outbox (connection_id, conversation_id, id) WHERE status IN ('pending', 'running')`,
    );

    await q.query(`
      CREATE TABLE quarantine (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        source text NOT NULL,
        reason text NOT NULL,
        payload text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX quarantine_created_idx ON quarantine (created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['quarantine', 'outbox', 'connections', 'message_status_events', 'messages', 'conversations', 'contacts']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
