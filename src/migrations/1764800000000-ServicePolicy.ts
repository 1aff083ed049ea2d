import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The customer-service policy (src/service-policy/): one policy document per business number (or
 * `default`), and per conversation what the policy did — the messages it has looked at, the
 * triage's state and path, the handoff to a human. The route a conversation took lives on the
 * conversation itself (owned by src/conversations), because the CRM drain below the policy reads
 * it: which connections receive the conversation and the ticket's group, priority, tags and
 * assignee. `route_version` counts route changes, so each change writes its own ticket updates.
 */
export class ServicePolicy1764800000000 implements MigrationInterface {
  name = 'ServicePolicy1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE service_policies (
        phone_number_id text PRIMARY KEY,
        policy jsonb NOT NULL,
        updated_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      ALTER TABLE conversations
        ADD COLUMN route text,
        ADD COLUMN route_connections uuid[],
        ADD COLUMN ticket_routing jsonb,
        ADD COLUMN route_version integer NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE TABLE conversation_service (
        conversation_id uuid PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
        last_seq bigint NOT NULL DEFAULT 0,
        triage_state text NOT NULL DEFAULT 'none',
        triage_path text[] NOT NULL DEFAULT '{}',
        menu_at timestamptz,
        messages_after_menu integer NOT NULL DEFAULT 0,
        handoff_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS conversation_service`);
    await q.query(`ALTER TABLE conversations DROP COLUMN IF EXISTS route, DROP COLUMN IF EXISTS route_connections, DROP COLUMN IF EXISTS ticket_routing, DROP COLUMN IF EXISTS route_version`);
    await q.query(`DROP TABLE IF EXISTS service_policies`);
  }
}
