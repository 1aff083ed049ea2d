import 'reflect-metadata';
import { createDataSource } from './data-source';
import { runMigrationsLocked } from './database/migrations-lock';

/**
 * `npm run migrate`: applies the pending migrations to DATABASE_URL once, before a release's
 * processes roll out (they would also migrate at boot, under the same advisory lock). Embedded
 * mode needs no such step: its one process migrates when it starts.
 */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('DATABASE_URL is not set: `npm run migrate` migrates a PostgreSQL database (embedded mode migrates when it starts)');
    process.exit(2);
  }
  const dataSource = createDataSource(url, 2);
  try {
    await dataSource.initialize();
    const applied = await runMigrationsLocked(dataSource);
    console.log(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'the schema is up to date');
    await dataSource.destroy();
    process.exit(0);
  } catch (error) {
    console.error('migration failed:', error instanceof Error ? error.message : error);
    await dataSource.destroy().catch(() => undefined);
    process.exit(1);
  }
}

void main();
