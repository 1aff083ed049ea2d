import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPostgres {
  url: string;
  dataPath: string;
  /** True when this start created the database (an empty DATA_DIR). */
  created: boolean;
  stop(): Promise<void>;
}

const SERVER_SCRIPT = 'embedded-postgres.server';

/**
 * V8 flags of the server process. PGlite is one large WASM module: V8 compiles it with Liftoff and
 * then recompiles hot functions with TurboFan, keeping both; Liftoff only saves ~90 MB of the
 * process's memory and measured no slower on webhook ingest (npm run bench:memory). Its own JS
 * heap is small, so a 1 MB semi-space is enough.
 */
const SERVER_NODE_FLAGS = ['--liftoff-only', '--max-semi-space-size=1'];

/**
 * The compiled server script. In the build it sits beside this file; when the test runner loads
 * this file from source (as ESM, without __dirname) the child still needs JavaScript, so it runs
 * the build that `npm run setup` makes, and refuses one older than the source.
 */
function serverScript(): string {
  if (typeof __dirname === 'string') return path.join(__dirname, `${SERVER_SCRIPT}.js`);
  const built = path.join(process.cwd(), 'dist', 'src', 'database', `${SERVER_SCRIPT}.js`);
  const source = path.join(process.cwd(), 'src', 'database', `${SERVER_SCRIPT}.ts`);
  const stamp = path.join(process.cwd(), 'dist', '.build-stamp');
  if (!fs.existsSync(built) || !fs.existsSync(stamp) || fs.statSync(stamp).mtimeMs < fs.statSync(source).mtimeMs) {
    throw new Error(`${built} is missing or older than its source: run \`npm run setup\` to build it`);
  }
  return built;
}

/**
 * A cluster initialised when the build ran (config/setup.cjs), copied into a new DATA_DIR: the
 * initialisation is PGlite's most memory-hungry step (~800 MB for a few seconds, and a WASM heap
 * never shrinks), so the server process that stays up never runs it.
 */
function templateDir(): string {
  // In the build this file is dist/src/database/; run from source (tests), the cwd is the repository.
  return typeof __dirname === 'string' ? path.resolve(__dirname, '..', '..', 'pgdata-template') : path.join(process.cwd(), 'dist', 'pgdata-template');
}

/** Fills an empty data directory: from the build's template, or by initialising it in a process that then exits. */
async function initialise(dataPath: string): Promise<void> {
  const template = templateDir();
  if (fs.existsSync(path.join(template, 'PG_VERSION'))) {
    fs.cpSync(template, dataPath, { recursive: true, filter: (source) => !['postmaster.pid', '.pglite-version'].includes(path.basename(source)) });
    return;
  }
  await initialiseCluster(dataPath, serverScript());
}

/** Runs the server script's --init-only mode: a short-lived process creates the cluster and exits. */
export function initialiseCluster(dataPath: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, `--db=${dataPath}`, '--init-only'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`embedded Postgres could not create ${dataPath} (exit ${code}):\n${stderr}`))));
  });
}

/**
 * Memory settings for one embedded, single-session database: Postgres's defaults size shared
 * memory for 100 connections and 128 MB of buffers, which PGlite allocates inside its WASM heap
 * (measured: 282 MB for the server process at rest with the defaults, 161 MB with these).
 * Written to postgresql.auto.conf (read after postgresql.conf) on every start, so a DATA_DIR
 * created by an older version gets them too.
 */
const TUNED_SETTINGS = ['shared_buffers = 16MB', 'max_connections = 10', 'wal_buffers = 1MB', 'temp_buffers = 2MB', 'maintenance_work_mem = 16MB', 'work_mem = 4MB'];
const TUNED_BEGIN = '# threadbridge: embedded memory settings (rewritten at start)';
const TUNED_END = '# threadbridge: end';

function tune(dataPath: string): void {
  const file = path.join(dataPath, 'postgresql.auto.conf');
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const begin = current.indexOf(TUNED_BEGIN);
  const end = current.indexOf(TUNED_END);
  const others = begin === -1 || end === -1 ? current : current.slice(0, begin) + current.slice(end + TUNED_END.length + 1);
  const next = `${others.replace(/\n*$/, '\n')}${TUNED_BEGIN}\n${TUNED_SETTINGS.join('\n')}\n${TUNED_END}\n`;
  if (next !== current) fs.writeFileSync(file, next);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`embedded Postgres exited with code ${child.exitCode} while starting`);
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`embedded Postgres did not accept connections within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * Serves a PGlite database from DATA_DIR/pgdata on a local port, so the ordinary `pg` driver,
 * TypeORM and the migrations run unchanged. PGlite's WASM runs in a child process
 * (embedded-postgres.server.ts) so database work never blocks the HTTP event loop.
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections: number): Promise<EmbeddedPostgres> {
  const dataPath = path.join(dataDir, 'pgdata');
  const created = !fs.existsSync(path.join(dataPath, 'PG_VERSION'));
  fs.mkdirSync(dataPath, { recursive: true });
  if (created) await initialise(dataPath);
  tune(dataPath);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, serverScript(), `--db=${dataPath}`, `--port=${port}`, '--host=127.0.0.1', `--max-connections=${maxConnections}`],
    // The IPC channel carries nothing: when this process dies it closes, and the server shuts PGlite down.
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilReady(url, child, 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    url,
    dataPath,
    created,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        // SIGTERM lets the server close PGlite cleanly so the data directory stays consistent.
        child.kill('SIGTERM');
      }),
  };
}
