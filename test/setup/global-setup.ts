import 'reflect-metadata';
import { Client } from 'pg';
import { createDataSource } from '../../src/data-source';
import { databaseUrl, PG_ADMIN_URL, REDIS_BASE_URL, templateDb } from './test-env';

/**
 * Runs once per test run: checks Postgres and Redis answer, and builds a template database with
 * every migration applied (through the real migration runner). Test files clone it.
 */
export default async function globalSetup(): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`Integration tests need Postgres at ${PG_ADMIN_URL} (.ci/run starts it): ${(error as Error).message}`);
  }
  // Jest workers are forked after this runs, so they inherit the name.
  process.env.THREADBRIDGE_TEMPLATE_DB = `tb_template_${process.pid}`;
  // Test runs side by side on one machine (two checkouts) must not share Redis databases: each
  // run starts its workers at its own offset among the 10 indexes (test/setup/test-redis.ts).
  process.env.THREADBRIDGE_REDIS_OFFSET ??= String(process.pid % 10);
  const template = templateDb();
  await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();

  const dataSource = createDataSource(databaseUrl(template), 1);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  await dataSource.destroy();

  const { default: Redis } = await import('ioredis');
  const redis = new Redis(REDIS_BASE_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Integration tests need Redis at ${REDIS_BASE_URL} (.ci/run starts it): ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}
