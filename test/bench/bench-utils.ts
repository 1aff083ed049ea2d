import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import { Client } from 'pg';

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
/**
 * The Redis database of one benchmark (BENCH_REDIS_URL overrides it): each bench has its own,
 * 11–13, and tests use 1–10 (test/setup/test-redis.ts), so runs side by side never flush or take
 * each other's queued jobs.
 */
export function benchRedisUrl(db: 11 | 12 | 13): string {
  return process.env.BENCH_REDIS_URL ?? `redis://127.0.0.1:6379/${db}`;
}

export function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh database for a benchmark run (dropped and re-created). */
export async function freshDatabase(name: string): Promise<string> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return databaseUrl(name);
}

/** Resident and peak memory of a process, from /proc (Linux). */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/**
 * CPU time (user + system, µs) a set of processes has used so far, from /proc (Linux). On a shared
 * or small machine throughput moves with whatever else runs; CPU per message does not, so the
 * benchmarks print both.
 */
export function cpuMicros(pids: number[]): number {
  const tick = 1e6 / 100; // USER_HZ is 100 on Linux
  let total = 0;
  for (const pid of pids) {
    try {
      // Fields after the ")" of the command name: state is 3rd, utime 14th, stime 15th.
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      // the process ended meanwhile: its time is gone with it
    }
  }
  return total;
}

/**
 * Postgres backends serving a database (their CPU is the database's share of the work), or only
 * those of one client when its connections name themselves (`application_name`).
 */
export async function backendPids(databaseName: string, applicationName?: string): Promise<number[]> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND ($2::text IS NULL OR application_name = $2)',
    [databaseName, applicationName ?? null],
  );
  await admin.end();
  return rows.map((r) => r.pid);
}

/** Forks a compiled script and waits for the "ready" message it sends. */
export function forkAndWait<T>(
  script: string,
  env: Record<string, string>,
  readyWhen: (msg: unknown) => T | undefined,
  execArgv: string[] = [],
  timeoutMs = 120_000,
): Promise<{ child: ChildProcess; ready: T }> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    const timer = setTimeout(() => reject(new Error(`${script} did not become ready`)), timeoutMs);
    child.on('message', (msg) => {
      const ready = readyWhen(msg);
      if (ready !== undefined) {
        clearTimeout(timer);
        resolve({ child, ready });
      }
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The Node flags `npm start` runs the service with (package.json "start"), so benchmarks measure the same process. */
export function serviceNodeFlags(): string[] {
  const start: string = JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts.start;
  return start.split(/\s+/).filter((part) => part.startsWith('--'));
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits).padStart(8);

/**
 * threadbridge in its own process on a fresh database and an emptied Redis database, with the
 * flags of `npm start` and the given environment on top. Resolves with the child and its URL.
 */
export async function startBenchService(options: { database: string; redisUrl: string; dataDir: string; env: Record<string, string> }): Promise<{ child: ChildProcess; url: string }> {
  const databaseUrlOfRun = await freshDatabase(options.database);
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(options.redisUrl);
  await redis.flushdb();
  redis.disconnect();
  const { child, ready } = await forkAndWait(
    `${process.cwd()}/dist/test/setup/service-process.js`,
    {
      DATABASE_URL: databaseUrlOfRun,
      REDIS_URL: options.redisUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATA_DIR: `${process.cwd()}/${options.dataDir}`,
      ...options.env,
    },
    (m) => (m as { url?: string }).url,
    serviceNodeFlags(),
  );
  return { child, url: ready };
}

