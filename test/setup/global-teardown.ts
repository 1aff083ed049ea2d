import { Client } from 'pg';
import { PG_ADMIN_URL, templateDb } from './test-env';

/** Drops this run's template database. */
export default async function globalTeardown(): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${templateDb()} WITH (FORCE)`);
  await admin.end();
}
