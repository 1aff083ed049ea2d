import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returnedRows } from '../database/query-result';
import { ApiKeyEntity } from './api-keys.entity';

export interface NewApiKey {
  name: string;
  role: string;
  keyHash: string;
  prefix: string;
}

/** Queries on the api_keys table. */
@Injectable()
export class ApiKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(ApiKeyEntity);
  }

  async insert(row: NewApiKey): Promise<ApiKeyEntity> {
    return this.repo.save(this.repo.create({ ...row, lastUsedAt: null, revokedAt: null }));
  }

  /** Every key, revoked ones included, newest first. */
  async list(): Promise<ApiKeyEntity[]> {
    return this.repo.find({ order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /**
   * The active key with this hash, marking it used in the same statement (so verification costs
   * one round trip). Null when no active key has this hash.
   */
  async useActiveByHash(keyHash: string): Promise<Pick<ApiKeyEntity, 'id' | 'name' | 'role'> | null> {
    const rows = returnedRows<Pick<ApiKeyEntity, 'id' | 'name' | 'role'>>(
      await this.dataSource.query(
        `UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING id, name, role`,
        [keyHash],
      ),
    );
    return rows[0] ?? null;
  }

  /** Revokes an active key; returns its hash, or null when no active key has this id. */
  async revoke(id: string): Promise<string | null> {
    const rows = returnedRows<{ keyHash: string }>(
      await this.dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING key_hash AS "keyHash"`, [id]),
    );
    return rows[0]?.keyHash ?? null;
  }
}
