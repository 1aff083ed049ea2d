import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys with roles (only a sha256 of each key is stored) and the audit log of the operator API.
 */
export class AccessControl1764000000000 implements MigrationInterface {
  name = 'AccessControl1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // Roles are checked by the service against the list in src/admin/permissions.ts rather than by
    // a CHECK here, so a role can be added without a migration; an unknown role grants nothing.
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        role text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);

    // Keys are revoked, never deleted, so every audit row keeps its actor.
    await q.query(`
      CREATE TABLE audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_key_id uuid REFERENCES api_keys(id),
        actor_name text NOT NULL,
        actor_role text NOT NULL,
        method text NOT NULL,
        route text NOT NULL,
        target_id text,
        params jsonb NOT NULL DEFAULT '{}'::jsonb,
        status smallint NOT NULL,
        ip text,
        user_agent text
      )`);
    await q.query(`CREATE INDEX audit_log_actor_idx ON audit_log (actor_key_id, id DESC)`);
    await q.query(`CREATE INDEX audit_log_at_idx ON audit_log (at)`);

    // The log is evidence: a row, once written, cannot be changed (deleting old rows stays
    // possible, for a retention policy).
    await q.query(`
      CREATE FUNCTION tb_audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log rows cannot be changed';
      END
      $$`);
    await q.query(`CREATE TRIGGER audit_log_immutable BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION tb_audit_log_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_log`);
    await q.query(`DROP FUNCTION IF EXISTS tb_audit_log_immutable()`);
    await q.query(`DROP TABLE IF EXISTS api_keys`);
  }
}
