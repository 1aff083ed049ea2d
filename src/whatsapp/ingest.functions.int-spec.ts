import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../test/setup/test-database';
import { INGEST_BATCH_FUNCTION, INGEST_ONE_FUNCTION } from './ingest.functions';

/** The body of a CREATE FUNCTION statement: what Postgres keeps as the function's source (pg_proc.prosrc). */
function body(statement: string): string {
  const start = statement.indexOf('$$');
  const end = statement.lastIndexOf('$$');
  return statement.slice(start + 2, end);
}

/** The ingest functions the migrations deploy are exactly their source in ingest.functions.ts. */
describe('the deployed ingest functions', () => {
  let database: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    client = new Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it.each([
    ['tb_ingest_inbound_batch', INGEST_BATCH_FUNCTION],
    ['tb_ingest_inbound', INGEST_ONE_FUNCTION],
  ])('%s is the text of src/whatsapp/ingest.functions.ts', async (name, statement) => {
    const { rows } = await client.query<{ prosrc: string }>(`SELECT prosrc FROM pg_proc WHERE proname = $1`, [name]);
    expect(rows).toHaveLength(1);
    expect(rows[0].prosrc).toBe(body(statement));
  });
});
