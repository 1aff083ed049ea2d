import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A message to a customer that was refused before it was sent (outbound_refusals). */
export interface RefusedReply {
  id: string;
  contactId: string | null;
  category: string;
  isTemplate: boolean;
  reason: string;
  detail: string;
  origin: string;
  author: string | null;
  createdAt: Date;
}

/**
 * What the problems page reads that no module offers a list of yet: refused replies. Reads only;
 * outbound_refusals stays src/whatsapp/outbound's table (it writes and erases the rows). When
 * OutboundRepository grows a list method, this query belongs there.
 */
@Injectable()
export class ProblemsPageRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Newest first. */
  async refusedReplies(limit: number): Promise<RefusedReply[]> {
    return this.dataSource.query(
      `SELECT id, contact_id AS "contactId", category, is_template AS "isTemplate", reason, detail, origin, author, created_at AS "createdAt"
       FROM outbound_refusals ORDER BY created_at DESC, id DESC LIMIT $1`,
      [limit],
    );
  }
}
