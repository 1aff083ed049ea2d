import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ContactEntity } from './entities/contact.entity';

@Injectable()
export class ContactsRepository {
  constructor(private readonly dataSource: DataSource) {}

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

  /** Deletes the contact itself (erasure: its conversations, links and ledger are gone by then). */
  async erase(manager: EntityManager, contactId: string): Promise<void> {
    await manager.query(`DELETE FROM contacts WHERE id = $1`, [contactId]);
  }
}
