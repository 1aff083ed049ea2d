/**
 * bench:ingest's "while syncing" phase: webhook ack latency at a fixed rate while a worker drains
 * the same database into a CRM, beside the same rate with nothing to sync.
 *
 * Five processes, so that no stall of one lands in another's figures: the service as ROLE=api and
 * as ROLE=worker (same Postgres database, same Redis database), a fake HubSpot (50 ms per answer,
 * 190 requests / 10 s), the open-loop load generator (webhook-generator.ts), and this one, which
 * watches: Postgres wait events of the api's backends and who blocks them (pg_stat_activity,
 * pg_blocking_pids), autovacuum runs, and both services' event-loop delay (their /metrics).
 *
 * Order: a warm-up, the idle reference (no connection, so nothing to sync), then the connection is
 * created and the syncing phase runs at the same rate; afterwards the sync backlog must drain.
 */
import axios from 'axios';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import type { HubspotFakeStats } from './hubspot-fake-process';
import type { GeneratorRun, GeneratorSummary } from './webhook-generator';
import { backendPids, cpuMicros, databaseUrl, forkAndWait, freshDatabase, serviceNodeFlags, stopChild } from './bench-utils';

const ADMIN = 'bench-admin-key-0123456789';
const LIMIT = { max: 190, intervalMs: 10_000 };
const SAMPLE_MS = 250;
const SCRAPE_MS = 5_000;
const OPEN_SYNC_TASKS = `SELECT count(*)::int AS open FROM outbox WHERE queue = 'crm-sync' AND status IN ('pending', 'running')`;

export interface SyncingOptions {
  secret: string;
  redisUrl: string;
  rate: number;
  idleSeconds: number;
  syncSeconds: number;
  customers: number;
}

interface LoopDelay {
  /** Worst p99 / max of the service's event-loop delay over the scrape windows (ms). */
  p99: number;
  max: number;
}

/** What was seen of the services and Postgres during one phase. */
export interface Observed {
  loopDelay: { api: LoopDelay; worker: LoopDelay };
  /** Samples of active api backends by wait event ('CPU' when none), and blocked ones by blocker. */
  apiWaits: Map<string, number>;
  blockedBy: Map<string, number>;
  apiSamples: number;
  autovacuum: Map<string, number>;
  /** Open sync backlog (crm-sync tasks pending or running), sampled: median and max. */
  backlog: { median: number; max: number };
  /** CPU time (ms) each process used in the phase. */
  cpuMs: Record<string, number>;
}

export interface SyncingResult {
  idle: GeneratorSummary;
  syncing: GeneratorSummary;
  seenIdle: Observed;
  seenSyncing: Observed;
  /** Messages the fake HubSpot held when the syncing phase ended, and of how many stored. */
  syncedDuringPhase: number;
  storedDuringPhase: number;
  /** Seconds after the phase until no crm-sync task was open (NaN: not within the wait). */
  drainedAfterS: number;
  hubspot: HubspotFakeStats;
}

function ask<T>(child: ChildProcess, message: unknown, pick: (m: unknown) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      const value = pick(m);
      if (value === undefined) return;
      child.off('message', onMessage);
      resolve(value);
    };
    child.on('message', onMessage);
    child.send(message as object, (error) => error && reject(error));
  });
}

async function generate(generator: ChildProcess, run: GeneratorRun): Promise<GeneratorSummary> {
  const reply = await ask(generator, run, (m) => ((m as { summary?: unknown; error?: unknown }).summary || (m as { error?: unknown }).error ? (m as { summary?: GeneratorSummary; error?: string }) : undefined));
  if (reply.error) throw new Error(`generator: ${reply.error}`);
  return reply.summary!;
}

const hubspotStats = (fake: ChildProcess) => ask(fake, 'stats', (m) => (m as { stats?: HubspotFakeStats }).stats);

/** Worst event-loop delay of a service since its last scrape (prom-client resets it per scrape). */
async function scrapeLoopDelay(url: string): Promise<LoopDelay | undefined> {
  try {
    const { data } = await axios.get<string>(`${url}/metrics`, { timeout: 2000, responseType: 'text' });
    const value = (name: string) => Number(new RegExp(`^threadbridge_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(data)?.[1] ?? NaN) * 1000;
    return { p99: value('p99'), max: value('max') };
  } catch {
    return undefined;
  }
}

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

/** The processes whose CPU a phase accounts for. */
interface Watched {
  dbName: string;
  apiUrl: string;
  workerUrl: string;
  pids: Record<'api' | 'worker' | 'hubspot' | 'generator', number>;
}

async function cpuSnapshot(w: Watched): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(w.pids)) out[name] = cpuMicros([pid]);
  out['Postgres (api)'] = cpuMicros(await backendPids(w.dbName, 'threadbridge-api'));
  out['Postgres (worker)'] = cpuMicros(await backendPids(w.dbName, 'threadbridge-worker'));
  return out;
}

/** Watches Postgres and both services until stopped. */
function watch(w: Watched) {
  const { dbName, apiUrl, workerUrl } = w;
  // pg_stat_activity is cluster-wide: one client on the bench's database sees the backlog too.
  const admin = new Client({ connectionString: databaseUrl(dbName) });
  const apiWaits = new Map<string, number>();
  const blockedBy = new Map<string, number>();
  const autovacuum = new Map<string, number>();
  const backlogs: number[] = [];
  const loop = { api: { p99: 0, max: 0 }, worker: { p99: 0, max: 0 } };
  let apiSamples = 0;
  let stopped = false;
  let sampleCount = 0;

  const sample = async () => {
    const { rows } = await admin.query<{ app: string; backendType: string; waitType: string | null; wait: string | null; query: string; blockers: string[] | null }>(
      `SELECT a.application_name AS app, a.backend_type AS "backendType", a.wait_event_type AS "waitType", a.wait_event AS wait, left(a.query, 120) AS query,
              (SELECT array_agg(b.application_name || ': ' || left(regexp_replace(b.query, '\\s+', ' ', 'g'), 70))
                 FROM pg_stat_activity b WHERE b.pid = ANY(pg_blocking_pids(a.pid))) AS blockers
         FROM pg_stat_activity a
        WHERE (a.datname = $1 AND a.state = 'active' AND a.pid <> pg_backend_pid()) OR a.backend_type = 'autovacuum worker'`,
      [dbName],
    );
    for (const r of rows) {
      if (r.backendType === 'autovacuum worker') {
        if (r.query) bump(autovacuum, r.query.replace(/^autovacuum:\s*/, ''));
        continue;
      }
      if (r.app !== 'threadbridge-api') continue;
      apiSamples++;
      bump(apiWaits, r.waitType ? `${r.waitType}/${r.wait}` : 'CPU');
      for (const b of r.blockers ?? []) bump(blockedBy, b);
    }
    if (sampleCount++ % (SCRAPE_MS / SAMPLE_MS) === 0) {
      const [{ open }] = (
        await admin.query<{ open: number }>(OPEN_SYNC_TASKS).catch(() => ({ rows: [{ open: NaN }] }))
      ).rows;
      if (Number.isFinite(open)) backlogs.push(open);
      for (const [name, url] of [['api', apiUrl], ['worker', workerUrl]] as const) {
        const d = await scrapeLoopDelay(url);
        if (d) loop[name] = { p99: Math.max(loop[name].p99, d.p99), max: Math.max(loop[name].max, d.max) };
      }
    }
  };

  const cpuBefore = cpuSnapshot(w);
  const running = (async () => {
    await admin.connect();
    while (!stopped) {
      const started = Date.now();
      await sample().catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.max(0, SAMPLE_MS - (Date.now() - started))));
    }
    await admin.end();
  })();

  return {
    async stop() {
      stopped = true;
      await running;
      // Backends that came or went during the phase are missed: the pools stay warm at these rates.
      const before = await cpuBefore;
      const after = await cpuSnapshot(w);
      const cpuMs = Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] - (before[k] ?? 0)) / 1000]));
      const sorted = [...backlogs].sort((a, b) => a - b);
      return { apiWaits, blockedBy, autovacuum, apiSamples, cpuMs, loopDelay: loop, backlog: { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, max: sorted[sorted.length - 1] ?? NaN } };
    },
  };
}

export async function runSyncingPhase(options: SyncingOptions): Promise<SyncingResult> {
  const dist = path.resolve(process.cwd(), 'dist/test');
  const dbName = 'threadbridge_bench_syncing';
  const database = await freshDatabase(dbName);
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(options.redisUrl);
  await redis.flushdb();
  redis.disconnect();

  const children: ChildProcess[] = [];
  try {
    const hubspot = await forkAndWait(path.join(dist, 'bench/hubspot-fake-process.js'), { HUBSPOT_TOKEN: 'bench-token', HUBSPOT_LATENCY_MS: '50' }, (m) => (m as { url?: string }).url);
    children.push(hubspot.child);
    const fakeHost = new URL(hubspot.ready).host;
    const service = (role: 'api' | 'worker') =>
      forkAndWait(
        path.join(dist, 'setup/service-process.js'),
        {
          // The application name tells the api's backends from the worker's in pg_stat_activity.
          DATABASE_URL: `${database}?application_name=threadbridge-${role}`,
          REDIS_URL: options.redisUrl,
          ROLE: role,
          PORT: '0',
          HOST: '127.0.0.1',
          WHATSAPP_APP_SECRET: options.secret,
          ADMIN_API_KEY: ADMIN,
          ENCRYPTION_KEY: 'b'.repeat(64),
          EGRESS_ALLOW: fakeHost,
          LOG_LEVEL: 'warn',
          DATA_DIR: path.resolve(process.cwd(), `.data/bench-syncing-${role}`),
        },
        (m) => (m as { url?: string }).url,
        // BENCH_API_NODE_FLAGS / BENCH_WORKER_NODE_FLAGS add flags to one side, e.g. --cpu-prof.
        [...serviceNodeFlags(), ...(process.env[`BENCH_${role.toUpperCase()}_NODE_FLAGS`] ?? '').split(' ').filter(Boolean)],
      );
    // One after the other: both run the migrations at start.
    const api = await service('api');
    children.push(api.child);
    const worker = await service('worker');
    children.push(worker.child);
    const generator = await forkAndWait(path.join(dist, 'bench/webhook-generator.js'), {}, (m) => ((m as { ready?: boolean }).ready ? true : undefined));
    children.push(generator.child);

    const webhookUrl = `${api.ready}/webhooks/whatsapp`;
    const run = (seconds: number): GeneratorRun => ({ url: webhookUrl, rate: options.rate, seconds, secret: options.secret, customers: options.customers, waIdPrefix: '4861' });
    const watched: Watched = {
      dbName,
      apiUrl: api.ready,
      workerUrl: worker.ready,
      pids: { api: api.child.pid!, worker: worker.child.pid!, hubspot: hubspot.child.pid!, generator: generator.child.pid! },
    };
    await generate(generator.child, run(5)); // warm-up: JIT, pools, the customers' first rows
    const idleWatch = watch(watched);
    const idle = await generate(generator.child, run(options.idleSeconds));
    const seenIdle = await idleWatch.stop();

    const db = new Client({ connectionString: database });
    await db.connect();
    const storedCount = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0].n;
    const created = await axios.post(
      `${api.ready}/api/v1/connections`,
      { connectorId: 'hubspot', name: 'HubSpot bench', credentials: { accessToken: 'bench-token', baseUrl: hubspot.ready }, settings: { budget: { requests: LIMIT.max, perMs: LIMIT.intervalMs } } },
      { headers: { authorization: `Bearer ${ADMIN}` }, validateStatus: () => true },
    );
    if (created.status !== 201) throw new Error(`connection: ${created.status} ${JSON.stringify(created.data)}`);

    const storedBefore = await storedCount();
    const syncWatch = watch(watched);
    const syncing = await generate(generator.child, run(options.syncSeconds));
    const seenSyncing = await syncWatch.stop();
    const storedDuringPhase = (await storedCount()) - storedBefore;
    const syncedDuringPhase = (await hubspotStats(hubspot.child)).communications;

    const phaseEnd = Date.now();
    let drainedAfterS = NaN;
    while (Date.now() - phaseEnd < 120_000) {
      const { rows } = await db.query<{ open: number }>(OPEN_SYNC_TASKS);
      if (rows[0].open === 0) {
        drainedAfterS = (Date.now() - phaseEnd) / 1000;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await db.end();
    return { idle, syncing, syncedDuringPhase, storedDuringPhase, drainedAfterS, hubspot: await hubspotStats(hubspot.child), seenIdle, seenSyncing };
  } finally {
    for (const child of children.reverse()) await stopChild(child);
  }
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-').padStart(8);
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);

export function reportSyncing(r: SyncingResult, options: SyncingOptions): void {
  console.log(`\nwhile syncing: ${options.rate} webhooks/s open loop; ROLE=api and ROLE=worker processes, the generator and a fake HubSpot (50 ms, ${LIMIT.max} req / ${LIMIT.intervalMs / 1000} s) in processes of their own`);
  console.log('   phase                seconds   achieved/s   p50 ms   p90 ms   p99 ms  p99.9 ms   max ms   errors');
  for (const [name, s, seconds] of [['idle (nothing syncs)', r.idle, options.idleSeconds], ['while syncing', r.syncing, options.syncSeconds]] as const) {
    console.log(`   ${name.padEnd(20)} ${String(seconds).padStart(7)} ${s.achieved.toFixed(1).padStart(12)} ${ms(s.p50)} ${ms(s.p90)} ${ms(s.p99)}  ${ms(s.p999)} ${ms(s.max)} ${String(s.errors).padStart(8)}`);
  }
  const worst = [...r.syncing.windows].sort((a, b) => b.p99 - a.p99).slice(0, 3);
  console.log(`  worst 10 s windows while syncing (p99/max ms): ${worst.map((w) => `@${w.fromS}s ${w.p99.toFixed(0)}/${w.max.toFixed(0)}`).join(', ')}`);
  console.log(`  generator's own event-loop delay: idle p99 ${r.idle.generatorLoopDelay.p99.toFixed(1)} / max ${r.idle.generatorLoopDelay.max.toFixed(1)} ms, syncing p99 ${r.syncing.generatorLoopDelay.p99.toFixed(1)} / max ${r.syncing.generatorLoopDelay.max.toFixed(1)} ms`);
  console.log(
    `  sync kept up: HubSpot held ${r.syncedDuringPhase} of ${r.storedDuringPhase} messages stored during the phase; open crm-sync tasks median ${r.seenSyncing.backlog.median}, max ${r.seenSyncing.backlog.max}; ` +
      `backlog drained ${Number.isFinite(r.drainedAfterS) ? `${r.drainedAfterS.toFixed(1)} s` : 'NOT within 120 s'} after; HubSpot calls ${r.hubspot.requests}, 429s ${r.hubspot.rateLimited}`,
  );
  for (const [name, seen, seconds] of [['idle', r.seenIdle, options.idleSeconds], ['syncing', r.seenSyncing, options.syncSeconds]] as const) {
    console.log(`  ${name}:`);
    console.log(
      `    event-loop delay (worst ${SCRAPE_MS / 1000} s window): api p99 ${seen.loopDelay.api.p99.toFixed(1)} / max ${seen.loopDelay.api.max.toFixed(1)} ms, worker p99 ${seen.loopDelay.worker.p99.toFixed(1)} / max ${seen.loopDelay.worker.max.toFixed(1)} ms`,
    );
    const perMessage = Object.entries(seen.cpuMs).map(([k, v]) => `${k} ${((v * 1000) / (options.rate * seconds)).toFixed(0)}`);
    console.log(`    CPU per message (µs): ${perMessage.join(', ')}`);
    const waits = top(seen.apiWaits, 6).map(([k, n]) => `${k} ${((100 * n) / Math.max(1, seen.apiSamples)).toFixed(0)}%`);
    console.log(`    api backends active in ${seen.apiSamples} samples (every ${SAMPLE_MS} ms): ${waits.join(', ') || 'none'}`);
    const blockers = top(seen.blockedBy, 3).map(([k, n]) => `${n}× ${k}`);
    console.log(`    api backends blocked by: ${blockers.join(' | ') || 'nothing seen'}`);
    const vacuums = top(seen.autovacuum, 4).map(([k, n]) => `${k} (${((n * SAMPLE_MS) / 1000).toFixed(1)} s)`);
    console.log(`    autovacuum seen on: ${vacuums.join(', ') || 'nothing'}`);
  }
}
