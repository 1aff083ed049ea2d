import { Injectable } from '@nestjs/common';
import type { RegisteredTemplate, TemplateCategory } from './replies.types';
import { TemplatesRepository } from './templates.repository';

/**
 * The approved WhatsApp templates threadbridge may send (reply fallbacks, API messages). A template
 * must be approved at Meta first; registering it here tells threadbridge its category (which the
 * consent gate polices) and how its body parameters are filled.
 */
@Injectable()
export class TemplatesService {
  constructor(private readonly repo: TemplatesRepository) {}

  /** Registers a template, or replaces the category and mapping of the one with this name and language. */
  register(input: { name: string; language: string; category: TemplateCategory; parameters?: string[] }): Promise<{ template: RegisteredTemplate; created: boolean }> {
    return this.repo.upsert({ ...input, parameters: input.parameters ?? [] });
  }

  /** Every registered template, by name and language. */
  list(): Promise<RegisteredTemplate[]> {
    return this.repo.list();
  }
}
