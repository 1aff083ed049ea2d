import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { QuarantineEntity } from './entities/quarantine.entity';

@Injectable()
export class QuarantineRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, source: string, reason: string, payload: string): Promise<void> {
    await manager.query(`INSERT INTO quarantine (source, reason, payload) VALUES ($1, $2, $3)`, [source, reason, payload]);
  }

  /** Newest first. */
  async list(limit: number, cursor?: { createdAt: string; id: string }): Promise<{ item: QuarantineEntity; createdAtExact: string }[]> {
    const qb = this.dataSource
      .getRepository(QuarantineEntity)
      .createQueryBuilder('q')
      .addSelect('q.created_at::text', 'exact_created_at')
      .orderBy('q.createdAt', 'DESC')
      .addOrderBy('q.id', 'DESC')
      .limit(limit);
    if (cursor) qb.where('(q.created_at, q.id) < (:createdAt::timestamptz, :id::uuid)', cursor);
    const { entities, raw } = await qb.getRawAndEntities();
    return entities.map((item, i) => ({ item, createdAtExact: raw[i].exact_created_at as string }));
  }
}
