import type { DataSource } from 'typeorm';

/**
 * Advisory-lock key of the schema migrations: any 64-bit number no other code uses, here the
 * first 8 bytes of sha256('threadbridge migrations') read as a signed integer.
 */
const MIGRATIONS_LOCK_KEY = '2050487134370769972';

/**
 * Runs the pending migrations while holding a Postgres advisory lock, so processes that start at
 * the same moment on a fresh database (ROLE=api and ROLE=worker, several replicas, `npm run
 * migrate` during a rollout) migrate once: the first takes the lock and migrates, the others wait
 * for it and then find nothing pending. Two runners at once would otherwise both create the same
 * types and tables and one fails (`duplicate key … pg_type_typname_nsp_index`).
 *
 * The lock is held on a connection of its own for the whole run; TypeORM migrates on another. In
 * embedded mode every connection shares PGlite's one session, where advisory locks are re-entrant,
 * so the same code takes the lock and migrates without waiting on itself.
 * @returns the names of the migrations this call applied.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock($1)`, [MIGRATIONS_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await lock.query(`SELECT pg_advisory_unlock($1)`, [MIGRATIONS_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await lock.release();
  }
}
