import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agent replies (a CRM/helpdesk → the customer on WhatsApp) and the templates threadbridge may send.
 *  - agent_replies: one row per reply a connected system reported, unique per (connection, the
 *    vendor's id of the reply), so a webhook delivered twice is sent once; `seq` is arrival order. It keeps what routing
 *    needs until the reply is routed (the text then lives on the outbound message only), the
 *    outcome, and the outbound message it became, to report WhatsApp's statuses back.
 *  - message_templates: the approved WhatsApp templates the service may use, their category (as
 *    Meta approved it; the consent gate polices it) and how their body parameters are filled.
 *  - remote_links gets an index to find a conversation from a ticket id (agent replies name the ticket).
 */
export class Replies1764300000000 implements MigrationInterface {
  name = 'Replies1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agent_replies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial NOT NULL,
        connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        remote_id text NOT NULL,
        remote_thread_id text,
        remote_contact_id text,
        text text,
        author text NOT NULL,
        attachments jsonb NOT NULL DEFAULT '[]',
        conversation_id uuid REFERENCES conversations(id) ON DELETE CASCADE,
        message_id uuid REFERENCES messages(id) ON DELETE SET NULL,
        status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'queued', 'refused', 'failed')),
        mode text CHECK (mode IN ('text', 'template')),
        detail text,
        received_at timestamptz NOT NULL DEFAULT now(),
        routed_at timestamptz,
        UNIQUE (connection_id, remote_id)
      )`);
    await q.query(`CREATE INDEX agent_replies_message_idx ON agent_replies (message_id) WHERE message_id IS NOT NULL`);
    await q.query(`CREATE INDEX agent_replies_conversation_idx ON agent_replies (conversation_id) WHERE conversation_id IS NOT NULL`);
    // Replies of one thread still to be routed, in arrival order: they reach the customer in that order.
    await q.query(`CREATE INDEX agent_replies_unrouted_idx ON agent_replies (connection_id, remote_thread_id, seq) WHERE status = 'received'`);

    await q.query(`
      CREATE TABLE message_templates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        language text NOT NULL,
        category text NOT NULL CHECK (category IN ('marketing', 'utility', 'authentication')),
        parameters jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (name, language)
      )`);

    await q.query(`CREATE INDEX remote_links_ticket_remote_idx ON remote_links (connection_id, remote_id) WHERE entity_type = 'ticket'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS remote_links_ticket_remote_idx`);
    await q.query(`DROP TABLE IF EXISTS message_templates`);
    await q.query(`DROP TABLE IF EXISTS agent_replies`);
  }
}
