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
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [serverScript(), `--db=${dataPath}`, `--port=${port}`, '--host=127.0.0.1', `--max-connections=${maxConnections}`],
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
