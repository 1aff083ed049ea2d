import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returnedRows } from '../database/query-result';
import { QuarantineEntity } from './entities/quarantine.entity';

@Injectable()
export class QuarantineRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** `payload` is shown as text (NUL made U+FFFD so text can hold it); `raw` keeps the exact bytes. */
  async insert(
    manager: EntityManager,
    source: string,
    reason: string,
    payload: string,
    extra: { raw?: Buffer; kind?: 'quarantined' | 'normalised'; wamids?: string[] } = {},
  ): Promise<void> {
    await manager.query(`INSERT INTO quarantine (source, reason, payload, raw, kind, wamids) VALUES ($1, $2, $3, $4, $5, $6)`, [
      source,
      reason,
      payload.replace(/\0/g, '\uFFFD'),
      extra.raw ?? null,
      extra.kind ?? 'quarantined',
      extra.wamids ?? null,
    ]);
  }

  /** Newest first. */
  async list(limit: number, cursor?: { createdAt: string; id: string }): Promise<{ item: QuarantineEntity; createdAtExact: string; rawBase64: string | null }[]> {
    const qb = this.dataSource
      .getRepository(QuarantineEntity)
      .createQueryBuilder('q')
      .addSelect('q.created_at::text', 'exact_created_at')
      .addSelect(`encode(q.raw, 'base64')`, 'raw_base64')
      .orderBy('q.createdAt', 'DESC')
      .addOrderBy('q.id', 'DESC')
      .limit(limit);
    if (cursor) qb.where('(q.created_at, q.id) < (:createdAt::timestamptz, :id::uuid)', cursor);
    const { entities, raw } = await qb.getRawAndEntities();
    return entities.map((item, i) => ({ item, createdAtExact: raw[i].exact_created_at as string, rawBase64: (raw[i].raw_base64 as string | null) ?? null }));
  }

  /**
   * Erasure: deletes quarantined webhook content about a customer. A quarantined fragment is raw
   * JSON; one that carries their wa_id as a value ("from", "wa_id", "recipient_id") is about them.
   */
  async eraseMentionsOf(manager: EntityManager, waId: string): Promise<void> {
    await manager.query(`DELETE FROM quarantine WHERE strpos(payload, $1) > 0`, [`"${waId}"`]);
  }

  /** Retention: quarantined webhook content (raw payloads, personal data included) stored before `cutoff`. */
  async deleteBefore(cutoff: Date): Promise<number> {
    return returnedRows(await this.dataSource.query(`DELETE FROM quarantine WHERE created_at < $1 RETURNING 1`, [cutoff])).length;
  }
}
