import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ContactEntity } from './entities/contact.entity';

@Injectable()
export class ContactsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The contact for a wa_id, created when new. Safe under concurrent deliveries: the loser of an
   * insert race waits for the winner's commit (unique wa_id) and then reads its row.
   */
  async findOrCreate(manager: EntityManager, waId: string, e164: string, profileName?: string): Promise<string> {
    const [found]: { id: string; profile_name: string | null }[] = await manager.query(
      `SELECT id, profile_name FROM contacts WHERE wa_id = $1`,
      [waId],
    );
    if (found) {
      if (profileName && profileName !== found.profile_name) {
        await manager.query(`UPDATE contacts SET profile_name = $2, updated_at = now() WHERE id = $1`, [found.id, profileName]);
      }
      return found.id;
    }
    const [inserted]: { id: string }[] = await manager.query(
      `INSERT INTO contacts (wa_id, e164, profile_name) VALUES ($1, $2, $3) ON CONFLICT (wa_id) DO NOTHING RETURNING id`,
      [waId, e164, profileName ?? null],
    );
    if (inserted) return inserted.id;
    const [winner]: { id: string }[] = await manager.query(`SELECT id FROM contacts WHERE wa_id = $1`, [waId]);
    return winner.id;
  }

  /** Newest first. Returns each row with its exact created_at text, for the next page's cursor. */
  async list(limit: number, cursor?: { createdAt: string; id: string }): Promise<{ contact: ContactEntity; createdAtExact: string }[]> {
    const qb = this.dataSource
      .getRepository(ContactEntity)
      .createQueryBuilder('c')
      .addSelect('c.created_at::text', 'exact_created_at')
      .orderBy('c.createdAt', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(limit);
    if (cursor) qb.where('(c.created_at, c.id) < (:createdAt::timestamptz, :id::uuid)', cursor);
    const { entities, raw } = await qb.getRawAndEntities();
    return entities.map((contact, i) => ({ contact, createdAtExact: raw[i].exact_created_at as string }));
  }

  async findById(id: string): Promise<ContactEntity | null> {
    return this.dataSource.getRepository(ContactEntity).findOneBy({ id });
  }
}
