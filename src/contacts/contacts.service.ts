import { Injectable } from '@nestjs/common';
import { decodeCursor, type Page, toPage } from '../common/pagination';
import { ContactsRepository } from './contacts.repository';
import type { ContactEntity } from './entities/contact.entity';

@Injectable()
export class ContactsService {
  constructor(private readonly contacts: ContactsRepository) {}

  async list(limit = 50, cursor?: string): Promise<Page<ContactEntity>> {
    const after = decodeCursor<{ createdAt: string; id: string }>(cursor, ['createdAt', 'id']);
    const rows = await this.contacts.list(limit + 1, after);
    const page = toPage(rows, limit, (last) => ({ createdAt: last.createdAtExact, id: last.contact.id }));
    return { data: page.data.map((r) => r.contact), nextCursor: page.nextCursor };
  }
}
