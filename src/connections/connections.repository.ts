import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { returnedRows } from '../database/query-result';
import { fanOutTargets } from '../tasks/fan-out-rule';
import { setDue, type TaskRef } from '../tasks/outbox.repository';
import { type ConnectionStatus, ConnectionEntity } from './entities/connection.entity';

export interface NewConnection {
  connectorId: string;
  name: string;
  credentialsEnc: string;
  settings: Record<string, unknown>;
  enabled: boolean;
  status: ConnectionStatus;
  lastError?: string | null;
  source: 'api' | 'env';
}

export type ConnectionChanges = Partial<
  Pick<ConnectionEntity, 'name' | 'credentialsEnc' | 'settings' | 'enabled' | 'status' | 'failureCount' | 'lastError' | 'retryAfter' | 'source'>
>;

/** Queries on the connections table (and the outbox rows a connection's fix releases). */
@Injectable()
export class ConnectionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(manager: EntityManager = this.dataSource.manager) {
    return manager.getRepository(ConnectionEntity);
  }

  /** Runs `work` in one transaction. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async list(): Promise<ConnectionEntity[]> {
    return this.repo().find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async findById(id: string, manager?: EntityManager): Promise<ConnectionEntity | null> {
    return this.repo(manager).findOneBy({ id });
  }

  async findByName(name: string): Promise<ConnectionEntity | null> {
    return this.repo().findOneBy({ name });
  }

  /** The connections the fan-out rule names (tasks/fan-out-rule.ts), oldest first. */
  async findEnabled(): Promise<ConnectionEntity[]> {
    return this.repo().createQueryBuilder('c').where(fanOutTargets('c')).orderBy('c.createdAt', 'ASC').addOrderBy('c.id', 'ASC').getMany();
  }

  /** Inserts a connection; a taken name raises the unique violation (23505) to the caller. */
  async insert(row: NewConnection): Promise<ConnectionEntity> {
    const entity = this.repo().create({ ...row, lastError: row.lastError ?? null, failureCount: 0, retryAfter: null });
    return this.repo().save(entity);
  }

  /** Inserts unless the name is taken (another process declared it at the same time); null then. */
  async insertIfNameFree(row: NewConnection): Promise<ConnectionEntity | null> {
    const rows = await this.dataSource.query(
      `INSERT INTO connections (connector_id, name, credentials_enc, settings, enabled, status, last_error, source)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8) ON CONFLICT (name) DO NOTHING RETURNING id`,
      [row.connectorId, row.name, row.credentialsEnc, JSON.stringify(row.settings), row.enabled, row.status, row.lastError ?? null, row.source],
    );
    return rows[0] ? this.findById(rows[0].id) : null;
  }

  async update(id: string, changes: ConnectionChanges, manager?: EntityManager): Promise<void> {
    if (Object.keys(changes).length === 0) return;
    // TypeORM's deep-partial type does not accept a plain record for a jsonb column.
    await this.repo(manager).update({ id }, changes as Parameters<Repository<ConnectionEntity>['update']>[1]);
  }

  /** Replaces the credentials only if they are still `expected` (nobody rewrote them meanwhile). */
  async replaceCredentialsIf(id: string, expected: string, credentialsEnc: string): Promise<boolean> {
    const result = await this.dataSource.query(
      `UPDATE connections SET credentials_enc = $3, updated_at = now() WHERE id = $1 AND credentials_enc = $2 RETURNING id`,
      [id, expected, credentialsEnc],
    );
    return returnedRows(result).length > 0;
  }

  /** Every connection's id and ciphertext (for key rotation). */
  async listCredentials(): Promise<{ id: string; credentialsEnc: string }[]> {
    return this.dataSource.query(`SELECT id, credentials_enc AS "credentialsEnc" FROM connections ORDER BY created_at, id`);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.repo().delete({ id });
    return (result.affected ?? 0) > 0;
  }

  // The sync engine calls the next four on every failure and success: each writes only when the
  // row would change, so a healthy connection costs no write per job.

  async markNeedsReauth(id: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE connections SET status = 'needs_reauth', last_error = $2, updated_at = now()
       WHERE id = $1 AND (status <> 'needs_reauth' OR last_error IS DISTINCT FROM $2)`,
      [id, reason],
    );
  }

  async markDisabled(id: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE connections SET status = 'disabled', last_error = $2, updated_at = now()
       WHERE id = $1 AND (status <> 'disabled' OR last_error IS DISTINCT FROM $2)`,
      [id, reason],
    );
  }

  async setRetryAfter(id: string, until: Date | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE connections SET retry_after = $2, updated_at = now() WHERE id = $1 AND retry_after IS DISTINCT FROM $2::timestamptz`,
      [id, until],
    );
  }

  async recordFailure(id: string, message: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE connections SET failure_count = failure_count + 1, last_error = $2, updated_at = now() WHERE id = $1`,
      [id, message],
    );
  }

  /** Clears the failure count and error, and a Retry-After pause that has elapsed. */
  async recordSuccess(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE connections SET failure_count = 0, last_error = NULL,
         retry_after = CASE WHEN retry_after <= now() THEN NULL ELSE retry_after END, updated_at = now()
       WHERE id = $1 AND (failure_count <> 0 OR last_error IS NOT NULL OR retry_after <= now())`,
      [id],
    );
  }

  /**
   * Makes the connection's waiting work due now (rows parked while it needed re-authentication or
   * was disabled) and returns them, to be enqueued after the transaction commits.
   */
  async releasePendingWork(connectionId: string, manager: EntityManager = this.dataSource.manager): Promise<TaskRef[]> {
    return setDue(manager, `connection_id = $1 AND status = 'pending'`, [connectionId]);
  }
}
