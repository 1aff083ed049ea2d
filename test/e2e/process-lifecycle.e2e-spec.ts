import { afterAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { MIGRATIONS } from '../../src/database/migrations';
import { databaseUrl, PG_ADMIN_URL } from '../setup/test-env';
import { startTestService, type TestService } from '../setup/test-service';

const run = promisify(execFile);
const MIGRATE = path.resolve(process.cwd(), 'dist/src/migrate.js');

/** An empty database (not the migrated template): what a first deployment starts on. */
async function emptyDatabase(created: string[]): Promise<string> {
  const name = `tb_fresh_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  created.push(name);
  return databaseUrl(name);
}

async function appliedMigrations(url: string): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const [{ count }] = (await c.query(`SELECT count(*)::int AS count FROM migrations`)).rows;
  await c.end();
  return count;
}

describe('processes starting together on a fresh database', () => {
  const databases: string[] = [];
  const services: TestService[] = [];

  afterAll(async () => {
    for (const s of services) await s.stop().catch(() => undefined);
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('ROLE=api and ROLE=worker started at the same moment both migrate-or-wait and become ready', async () => {
    const url = await emptyDatabase(databases);
    const started = await Promise.allSettled([startTestService({ DATABASE_URL: url, ROLE: 'api' }), startTestService({ DATABASE_URL: url, ROLE: 'worker' })]);
    for (const s of started) if (s.status === 'fulfilled') services.push(s.value);
    expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'started'))).toEqual(['started', 'started']);
    for (const s of services) {
      const ready = await axios.get(`${s.url}/health/ready`, { validateStatus: () => true });
      expect(ready.status).toBe(200);
    }
    await expect(appliedMigrations(url)).resolves.toBe(MIGRATIONS.length);
  });

  it('npm run migrate run twice at once applies each migration once; a third run finds nothing to do', async () => {
    const url = await emptyDatabase(databases);
    const env = { ...process.env, DATABASE_URL: url };
    const outputs = await Promise.all([run(process.execPath, [MIGRATE], { env }), run(process.execPath, [MIGRATE], { env })]);
    const said = outputs.map((o) => o.stdout.trim()).sort();
    expect(said[0]).toMatch(new RegExp(`^applied ${MIGRATIONS.length} migration`));
    expect(said[1]).toBe('the schema is up to date');
    await expect(appliedMigrations(url)).resolves.toBe(MIGRATIONS.length);
    await expect(run(process.execPath, [MIGRATE], { env })).resolves.toMatchObject({ stdout: 'the schema is up to date\n' });
  });

  it('npm run migrate without DATABASE_URL says what it needs', async () => {
    const env = { ...process.env, DATABASE_URL: '' };
    await expect(run(process.execPath, [MIGRATE], { env })).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/DATABASE_URL is not set/) });
  });
});
