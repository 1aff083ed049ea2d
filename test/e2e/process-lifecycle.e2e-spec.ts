import { afterAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { MIGRATIONS } from '../../src/migrations';
import { databaseUrl, PG_ADMIN_URL } from '../setup/test-env';
import { createTestDatabase } from '../setup/test-database';
import { startTestService, tempDir, type TestService } from '../setup/test-service';

const run = promisify(execFile);
const MIGRATE = path.resolve(process.cwd(), 'dist/src/migrate.js');
const MAIN = path.resolve(process.cwd(), 'dist/src/main.js');

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

/** Starts a command and resolves once its output says the service listens (or rejects when it exits). */
function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => /listening on http/.test(output) && (clearInterval(timer), resolve({ child, output: () => output })), 50);
    child.once('exit', (code) => (clearInterval(timer), reject(new Error(`exited with ${code} before listening:\n${output}`))));
  });
}

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
const childrenOf = (pid: number): number[] => {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const descendants = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...descendants(c)]);

async function gone(pids: number[], withinMs: number): Promise<number> {
  const started = Date.now();
  while (pids.some(alive)) {
    if (Date.now() - started > withinMs) throw new Error(`still running after ${withinMs} ms: ${pids.filter(alive).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

const baseEnv = (dataDir: string): NodeJS.ProcessEnv => ({
  ...process.env,
  PORT: '0',
  HOST: '127.0.0.1',
  DATA_DIR: dataDir,
  ADMIN_API_KEY: 'lifecycle-admin-key-0123456789',
  LOG_LEVEL: 'warn',
  DATABASE_URL: '',
  REDIS_URL: '',
});

describe('starting and stopping like a service', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.pid && alive(c.pid)) c.kill('SIGKILL');
  });

  it('a second process on the same embedded DATA_DIR is refused, naming the directory and the pid; a dead holder is taken over', async () => {
    const dataDir = tempDir();
    const first = await startProcess(process.execPath, [MAIN], baseEnv(dataDir));
    children.push(first.child);
    const second = spawn(process.execPath, [MAIN], { env: baseEnv(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    second.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(said).toContain(`the data directory ${dataDir} is in use by process ${first.child.pid}`);

    // The holder dies without cleaning up: its lock is stale, and the next start takes it over.
    const pglite = descendants(first.child.pid!);
    first.child.kill('SIGKILL');
    await gone([first.child.pid!, ...pglite], 10_000);
    const third = await startProcess(process.execPath, [MAIN], baseEnv(dataDir));
    children.push(third.child);
    expect(fs.readFileSync(path.join(dataDir, 'threadbridge.pid'), 'utf8').trim()).toBe(String(third.child.pid));
    third.child.kill('SIGTERM');
    await gone([third.child.pid!], 10_000);
    expect(fs.existsSync(path.join(dataDir, 'threadbridge.pid'))).toBe(false);
  });

  it('exits within 10 s of SIGTERM while Redis is unreachable, and says so once per interval rather than per retry', async () => {
    const database = await createTestDatabase();
    try {
      const env = { ...baseEnv(tempDir()), DATABASE_URL: database.url, REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'info' };
      const service = await startProcess(process.execPath, [MAIN], env);
      children.push(service.child);
      expect(service.output()).toMatch(/WARNING: Redis at REDIS_URL does not answer/);
      const url = /listening on (http:\/\/\S+)/.exec(service.output())![1];
      const ready = await axios.get(`${url}/health/ready`, { validateStatus: () => true });
      expect(ready).toMatchObject({ status: 503, data: { down: ['redis'], database: 'ok' } });
      await new Promise((r) => setTimeout(r, 3000)); // ioredis retries many times meanwhile
      expect(service.output().length).toBeLessThan(20_000);
      service.child.kill('SIGTERM');
      await expect(gone([service.child.pid!], 10_000)).resolves.toBeLessThan(10_000);
    } finally {
      await database.drop();
    }
  });

  it('SIGTERM sent to `npm start` stops the service and the embedded database: no process is left behind', async () => {
    const dataDir = tempDir();
    const npm = await startProcess('npm', ['start', '--silent'], baseEnv(dataDir));
    children.push(npm.child);
    const tree = descendants(npm.child.pid!);
    expect(tree.length).toBeGreaterThanOrEqual(2); // the service and its database server
    npm.child.kill('SIGTERM');
    await gone([npm.child.pid!, ...tree], 10_000);
  });
});
