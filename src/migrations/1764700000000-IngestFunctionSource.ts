import type { MigrationInterface, QueryRunner } from 'typeorm';
import { INGEST_BATCH_FUNCTION, INGEST_ONE_FUNCTION } from '../whatsapp/ingest.functions';

/**
 * From here on the ingest functions are deployed from their source, src/whatsapp/ingest.functions.ts,
 * which the module that calls them owns. The text is the one 1764400000000-IngestSetBased wrote,
 * so this changes nothing in a database that had it.
 */
export class IngestFunctionSource1764700000000 implements MigrationInterface {
  name = 'IngestFunctionSource1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(INGEST_BATCH_FUNCTION);
    await q.query(INGEST_ONE_FUNCTION);
  }

  async down(): Promise<void> {
    // The same functions as before this migration: nothing to undo.
  }
}
