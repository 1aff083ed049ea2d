import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RegisteredTemplate, TemplateCategory } from './replies.types';

const COLUMNS = `id, name, language, category, parameters, created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Queries of the registered WhatsApp templates. */
@Injectable()
export class TemplatesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Registers a template, or replaces the category and mapping of the one with this name and language. */
  async upsert(t: { name: string; language: string; category: TemplateCategory; parameters: string[] }): Promise<{ template: RegisteredTemplate; created: boolean }> {
    const [row]: (RegisteredTemplate & { created: boolean })[] = await this.dataSource.query(
      `INSERT INTO message_templates (name, language, category, parameters) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (name, language) DO UPDATE SET category = EXCLUDED.category, parameters = EXCLUDED.parameters, updated_at = now()
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [t.name, t.language, t.category, JSON.stringify(t.parameters)],
    );
    const { created, ...template } = row;
    return { template, created };
  }

  async list(): Promise<RegisteredTemplate[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM message_templates ORDER BY name, language`);
  }

  async find(name: string, language: string): Promise<RegisteredTemplate | null> {
    const [row]: RegisteredTemplate[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM message_templates WHERE name = $1 AND language = $2`, [name, language]);
    return row ?? null;
  }
}
