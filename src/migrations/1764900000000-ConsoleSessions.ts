import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions of the operator console (src/console/): a signed-in browser holds a random token in an
 * HttpOnly cookie; the row keeps its sha256, the API key's sha256 (never the key), the CSRF token
 * of its forms and when it ends. Each request re-checks the key, so revoking it signs the browser out.
 */
export class ConsoleSessions1764900000000 implements MigrationInterface {
  name = 'ConsoleSessions1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE console_sessions (
        token_sha256 text PRIMARY KEY,
        key_sha256 text NOT NULL,
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS console_sessions`);
  }
}
