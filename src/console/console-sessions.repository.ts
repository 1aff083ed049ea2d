import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface StoredSession {
  keySha256: string;
  csrfToken: string;
  expiresAt: Date;
}

/** The one owner of console_sessions. Tokens are kept as their sha256: the table holds no secret a browser could present. */
@Injectable()
export class ConsoleSessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tokenSha256: string, session: StoredSession): Promise<void> {
    await this.dataSource.query(`INSERT INTO console_sessions (token_sha256, key_sha256, csrf_token, expires_at) VALUES ($1, $2, $3, $4)`, [
      tokenSha256,
      session.keySha256,
      session.csrfToken,
      session.expiresAt,
    ]);
  }

  async find(tokenSha256: string): Promise<StoredSession | null> {
    const [row] = await this.dataSource.query(
      `SELECT key_sha256 AS "keySha256", csrf_token AS "csrfToken", expires_at AS "expiresAt" FROM console_sessions WHERE token_sha256 = $1 AND expires_at > now()`,
      [tokenSha256],
    );
    return row ?? null;
  }

  async delete(tokenSha256: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM console_sessions WHERE token_sha256 = $1`, [tokenSha256]);
  }

  /** Sessions of a key (its revocation ends them) or past their end. */
  async deleteExpired(): Promise<void> {
    await this.dataSource.query(`DELETE FROM console_sessions WHERE expires_at <= now()`);
  }
}
