import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** The one TypeORM DataSource definition: migrations only, never synchronize. */
export function createDataSource(url: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    // Fail fast when the database is unreachable so the webhook can answer 503 and Meta retries.
    extra: { max: poolSize, connectionTimeoutMillis: 3000, idleTimeoutMillis: 30000 },
  });
}
