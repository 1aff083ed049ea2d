import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditEntity } from './audit.entity';

export type NewAuditEntry = Omit<AuditEntity, 'id' | 'at'>;

export interface AuditFilter {
  /** Calls made with this key. */
  actorKeyId?: string;
  /** Calls made by keys without a row (the bootstrap key) under this name. */
  actorName?: string;
  since?: Date;
}

/** Queries on the audit_log table (append-only). */
@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(entry: NewAuditEntry): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO audit_log (actor_key_id, actor_name, actor_role, method, route, target_id, params, status, ip, user_agent)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)`,
      [entry.actorKeyId, entry.actorName, entry.actorRole, entry.method, entry.route, entry.targetId, JSON.stringify(entry.params), entry.status, entry.ip, entry.userAgent],
    );
  }

  /** Newest first; `beforeId` continues after the last row of the previous page. */
  async list(filter: AuditFilter, limit: number, beforeId?: string): Promise<AuditEntity[]> {
    const qb = this.dataSource.getRepository(AuditEntity).createQueryBuilder('a').orderBy('a.id', 'DESC').limit(limit);
    if (filter.actorKeyId) qb.andWhere('a.actor_key_id = :actorKeyId', { actorKeyId: filter.actorKeyId });
    if (filter.actorName) qb.andWhere('a.actor_key_id IS NULL AND a.actor_name = :actorName', { actorName: filter.actorName });
    if (filter.since) qb.andWhere('a.at >= :since', { since: filter.since });
    if (beforeId) qb.andWhere('a.id < :beforeId::bigint', { beforeId });
    return qb.getMany();
  }
}
