import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface CustomerRow {
  id: string;
  waId: string;
  e164: string;
  profileName: string | null;
  createdAt: Date;
  lastMessageAt: Date | null;
}

/** Escapes LIKE's wildcards so a search for "50%" finds "50%". */
function literal(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The customer search of the console: by phone (any digits of it) or by profile name. Reads only;
 * contacts stay src/contacts' table. When ContactsService grows a search, this belongs there.
 */
@Injectable()
export class CustomersPageRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Newest first; an empty query lists the newest customers. */
  async search(query: string, limit: number): Promise<CustomerRow[]> {
    const text = query.trim();
    const digits = text.replace(/\D/g, '');
    // A phone search is digits (with +, spaces, dashes…); anything else is a name.
    const byPhone = digits.length >= 3 && /^[\d\s+().-]+$/.test(text);
    return this.dataSource.query(
      `SELECT c.id, c.wa_id AS "waId", c.e164, c.profile_name AS "profileName", c.created_at AS "createdAt",
              (SELECT max(last_inbound_at) FROM conversations v WHERE v.contact_id = c.id) AS "lastMessageAt"
       FROM contacts c
       WHERE ($1::text IS NULL OR c.wa_id LIKE '%' || $1 || '%')
         AND ($2::text IS NULL OR c.profile_name ILIKE '%' || $2 || '%')
       ORDER BY c.created_at DESC, c.id DESC LIMIT $3`,
      [byPhone ? literal(digits) : null, !byPhone && text ? literal(text) : null, limit],
    );
  }
}
