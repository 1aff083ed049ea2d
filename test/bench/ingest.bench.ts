/**
 * npm run bench:ingest — WhatsApp webhook ingest on real PostgreSQL.
 *
 * Fires signed webhooks (one text message each, unique wamids, 1,000 recurring customers) at
 * rising rates, at the service and at two baselines — a bare Node http server doing the same HMAC
 * check and JSON parse with one INSERT per webhook, and the same server with group commit (one
 * multi-row INSERT for every request that waited: the machine's limit for this durable work) —
 * in the same run, and prints for each: achieved rate, p50/p99 ack latency and errors per step, the
 * sustained maximum (median of closed-loop rounds), p50/p99 at 80 % of that maximum, CPU per
 * message in Node and in Postgres (from /proc), and RSS. They take turns at every step, so a burst
 * of other work on the machine lands on all three rather than on one.
 *
 * Then the "while syncing" phase (syncing-phase.ts): ack latency at BENCH_SYNC_RATE webhooks/s
 * (default 100) for BENCH_SYNC_PHASE_S seconds (default 300) while a ROLE=worker process drains
 * into a fake HubSpot, beside the same rate for BENCH_IDLE_PHASE_S (default 60) with nothing to
 * sync; api, worker, fake and load generator each in a process of their own. Between them, "scale":
 * one ROLE=api process against two on one Postgres. BENCH_PHASES (default "steps,scale,syncing")
 * runs some parts alone.
 */
import autocannon from 'autocannon';
import { createHmac } from 'node:crypto';
import * as path from 'node:path';
import { Client } from 'pg';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { reportSyncing, runSyncingPhase, type SyncingOptions } from './syncing-phase';
import { backendPids, cpuMicros, databaseUrl, fmt, forkAndWait, freshDatabase, memoryOf, benchRedisUrl, serviceNodeFlags, stopChild } from './bench-utils';

const SECRET = 'bench-app-secret';
const RATES = (process.env.BENCH_RATES ?? '100,300,600,1000').split(',').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 8);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 6);
const MAX_ROUNDS = Number(process.env.BENCH_MAX_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PHASES = new Set((process.env.BENCH_PHASES ?? 'steps,scale,syncing').split(',').map((p) => p.trim()));
const SYNCING: SyncingOptions = {
  secret: SECRET,
  redisUrl: benchRedisUrl(11),
  rate: Number(process.env.BENCH_SYNC_RATE ?? 100),
  idleSeconds: Number(process.env.BENCH_IDLE_PHASE_S ?? 60),
  syncSeconds: Number(process.env.BENCH_SYNC_PHASE_S ?? 300),
  customers: 1000,
};

interface StepResult {
  offered: number | 'max';
  achieved: number;
  p50: number;
  p99: number;
  errors: number;
  /** Requests answered 2xx in the step. */
  ok: number;
}

/** CPU per acknowledged message in the closed-loop step, split between the server and Postgres. */
interface CpuShare {
  serverUs: number;
  databaseUs: number;
}

function signedRequest(): autocannon.Request {
  return {
    method: 'POST',
    setupRequest: (req: autocannon.Request) => {
      const waId = `4860${String(1_000_000 + Math.floor(Math.random() * 1000)).slice(1)}`;
      const body = JSON.stringify(aTextMessageWebhook({ wamid: nextWamid(waId), waId, name: 'Bench Customer', text: 'Is my order on its way?' }));
      req.body = body;
      req.headers = {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      };
      return req;
    },
  };
}

async function step(url: string, rate: number | 'max', seconds: number, connections = CONNECTIONS): Promise<StepResult> {
  const result = await autocannon({
    url,
    connections: rate === 'max' ? connections : Math.min(connections, Math.max(4, Math.ceil(rate / 50))),
    duration: seconds,
    ...(rate === 'max' ? {} : { overallRate: rate }),
    requests: [signedRequest()],
  });
  return {
    offered: rate,
    achieved: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    ok: result['2xx'],
  };
}

interface Target {
  name: string;
  url: string;
  serverPid: number;
  databaseName: string;
  steps: StepResult[];
  maxRounds: StepResult[];
  /** The step at 80 % of its own sustained maximum. */
  at80?: StepResult;
  cpuUs: { server: number; database: number; messages: number };
  rssMb?: { now: number; peak: number };
}

function target(name: string, url: string, serverPid: number, databaseName: string): Target {
  return { name, url, serverPid, databaseName, steps: [], maxRounds: [], cpuUs: { server: 0, database: 0, messages: 0 } };
}

/** One closed-loop round, with the CPU the server process and its Postgres backends spent on it. */
async function maxRound(t: Target): Promise<void> {
  const pgPids = await backendPids(t.databaseName);
  const before = { server: cpuMicros([t.serverPid]), database: cpuMicros(pgPids) };
  const result = await step(t.url, 'max', MAX_SECONDS);
  t.cpuUs.server += cpuMicros([t.serverPid]) - before.server;
  t.cpuUs.database += cpuMicros(pgPids) - before.database;
  t.cpuUs.messages += result.ok;
  t.maxRounds.push(result);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const sustainedOf = (t: Target) => median(t.maxRounds.map((r) => r.achieved));

interface Figures {
  sustained: number;
  cpu: CpuShare;
  at300?: StepResult;
  at80?: StepResult;
}

function report(t: Target): Figures {
  const sustained = sustainedOf(t);
  const cpu = { serverUs: t.cpuUs.server / t.cpuUs.messages, databaseUs: t.cpuUs.database / t.cpuUs.messages };
  console.log(`\n${t.name}`);
  console.log('   offered/s  achieved/s   p50 ms   p99 ms   errors');
  for (const r of [...t.steps, ...t.maxRounds, ...(t.at80 ? [t.at80] : [])]) console.log(`${String(r.offered).padStart(12)}${fmt(r.achieved)}    ${fmt(r.p50)} ${fmt(r.p99)} ${String(r.errors).padStart(8)}`);
  console.log(`  sustained (median of the closed-loop rounds): ${sustained.toFixed(0)}/s`);
  console.log(`  CPU per message (closed loop): Node ${cpu.serverUs.toFixed(0)} µs, Postgres ${cpu.databaseUs.toFixed(0)} µs`);
  if (t.at80) console.log(`  at 80 % of its maximum (${t.at80.offered}/s): p50 ${t.at80.p50} ms, p99 ${t.at80.p99} ms, errors ${t.at80.errors}`);
  if (t.rssMb) console.log(`  RSS: ${t.rssMb.now.toFixed(0)} MB now, peak ${t.rssMb.peak.toFixed(0)} MB`);
  return { sustained, cpu, at300: t.steps.find((r) => r.offered === 300), at80: t.at80 };
}

const REDIS_URL = benchRedisUrl(11);

/** A baseline server (MODE single or group) on a database of its own with the baseline's table. */
async function startBaseline(dist: string, databaseName: string, mode: 'single' | 'group') {
  const url = await freshDatabase(databaseName);
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query('CREATE TABLE bench_baseline (wamid text PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
  await c.end();
  return forkAndWait(path.join(dist, 'baseline-server.js'), { DATABASE_URL: url, APP_SECRET: SECRET, PORT: '0', MODE: mode }, (m) => (m as { port?: number }).port);
}

async function steps(): Promise<string[]> {
  const dist = path.resolve(process.cwd(), 'dist/test/bench');
  console.log(`service runs with: ${serviceNodeFlags().join(' ') || '(no flags)'}`);
  console.log(
    `bench:ingest — steps of ${STEP_SECONDS}s at ${RATES.join(', ')} req/s, then ${MAX_ROUNDS} closed-loop rounds of ${MAX_SECONDS}s with ${CONNECTIONS} connections, ` +
      'then a step at 80 % of each one\'s maximum; the two baselines and the service take turns at every step, so all see the same machine',
  );

  const singleServer = await startBaseline(dist, 'threadbridge_bench_baseline', 'single');
  const groupServer = await startBaseline(dist, 'threadbridge_bench_group', 'group');

  // threadbridge, production drivers (Postgres + Redis)
  const serviceDb = await freshDatabase('threadbridge_bench_service');
  const serviceServer = await forkAndWait(
    path.resolve(process.cwd(), 'dist/test/setup/service-process.js'),
    {
      DATABASE_URL: serviceDb,
      REDIS_URL,
      PORT: '0',
      HOST: '127.0.0.1',
      WHATSAPP_APP_SECRET: SECRET,
      ADMIN_API_KEY: 'bench-admin-key-0123456789',
      LOG_LEVEL: 'warn',
      DATA_DIR: path.resolve(process.cwd(), '.data/bench'),
    },
    (m) => (m as { url?: string }).url,
    serviceNodeFlags(),
  );

  const single = target('baseline: one INSERT (bare http + HMAC + JSON + one INSERT per webhook)', `http://127.0.0.1:${singleServer.ready}/`, singleServer.child.pid!, 'threadbridge_bench_baseline');
  const group = target('baseline: group commit (the same, waiting requests in one multi-row INSERT)', `http://127.0.0.1:${groupServer.ready}/`, groupServer.child.pid!, 'threadbridge_bench_group');
  const service = target(
    'threadbridge (webhook → one transaction: contact, conversation, message, outbox)',
    `${serviceServer.ready}/webhooks/whatsapp`,
    serviceServer.child.pid!,
    'threadbridge_bench_service',
  );
  const all = [single, group, service];
  for (const t of all) await step(t.url, 200, 2); // warm-up (JIT, pool, first contacts)
  for (const rate of RATES) for (const t of all) t.steps.push(await step(t.url, rate, STEP_SECONDS));
  for (let round = 0; round < MAX_ROUNDS; round++) for (const t of all) await maxRound(t);
  for (const t of all) t.at80 = await step(t.url, Math.max(1, Math.round(0.8 * sustainedOf(t))), STEP_SECONDS);
  for (const [t, child] of [
    [single, singleServer.child],
    [group, groupServer.child],
    [service, serviceServer.child],
  ] as const) {
    const memory = memoryOf(child.pid!);
    t.rssMb = { now: memory.rssMb, peak: memory.peakRssMb };
    await stopChild(child);
  }

  const stored = new Client({ connectionString: databaseUrl('threadbridge_bench_service') });
  await stored.connect();
  const [{ count }] = (await stored.query('SELECT count(*)::int AS count FROM messages')).rows;
  await stored.end();

  const one = report(single);
  const bar = report(group);
  const ours = report(service);
  const cpuOf = (x: CpuShare) => x.serverUs + x.databaseUs;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const summary: string[] = [];
  summary.push(
    `  sustained rate: threadbridge ${ours.sustained.toFixed(0)}/s vs group commit ${bar.sustained.toFixed(0)}/s = ${ratio(ours.sustained, bar.sustained)} (target ≥ 0.6×); ` +
      `vs one INSERT ${one.sustained.toFixed(0)}/s = ${ratio(ours.sustained, one.sustained)}`,
  );
  summary.push(
    `  CPU per message, Node + Postgres: threadbridge ${cpuOf(ours.cpu).toFixed(0)} µs (${ours.cpu.serverUs.toFixed(0)} + ${ours.cpu.databaseUs.toFixed(0)}) vs group commit ` +
      `${cpuOf(bar.cpu).toFixed(0)} µs (${bar.cpu.serverUs.toFixed(0)} + ${bar.cpu.databaseUs.toFixed(0)}) = ${ratio(cpuOf(ours.cpu), cpuOf(bar.cpu))} (target ≤ 2×); ` +
      `one INSERT ${cpuOf(one.cpu).toFixed(0)} µs = ${ratio(cpuOf(ours.cpu), cpuOf(one.cpu))}`,
  );
  summary.push(
    `  at 80 % of its own maximum: threadbridge p99 ${ours.at80?.p99 ?? '?'} ms at ${ours.at80?.offered}/s (target ≤ 20 ms); ` +
      `group commit p99 ${bar.at80?.p99 ?? '?'} ms at ${bar.at80?.offered}/s; one INSERT p99 ${one.at80?.p99 ?? '?'} ms at ${one.at80?.offered}/s`,
  );
  if (ours.at300) summary.push(`  at 300 req/s: p50 ${ours.at300.p50} ms, p99 ${ours.at300.p99} ms (target p99 ≤ 40 ms), errors ${ours.at300.errors}`);
  summary.push(`  service RSS: ${service.rssMb!.now.toFixed(0)} MB now, peak ${service.rssMb!.peak.toFixed(0)} MB (target ≤ 250 MB)`);
  summary.push(`  messages stored: ${count}`);
  return summary;
}

/** A ROLE=api process of the service on `databaseName` (a fresh database is made by the caller). */
function startApi(databaseUrlOf: string, name: string) {
  return forkAndWait(
    path.resolve(process.cwd(), 'dist/test/setup/service-process.js'),
    {
      DATABASE_URL: databaseUrlOf,
      REDIS_URL,
      ROLE: 'api',
      PORT: '0',
      HOST: '127.0.0.1',
      WHATSAPP_APP_SECRET: SECRET,
      ADMIN_API_KEY: 'bench-admin-key-0123456789',
      LOG_LEVEL: 'warn',
      DATA_DIR: path.resolve(process.cwd(), `.data/bench-${name}`),
    },
    (m) => (m as { url?: string }).url,
    serviceNodeFlags(),
  );
}

/**
 * What a second api process buys: closed-loop rounds against one ROLE=api process, then against
 * two on the same Postgres (the generator's connections split between their ports, running at
 * once), alternating; the median of each and where the CPU went.
 */
async function scaleOut(): Promise<string[]> {
  console.log(`\nbench:ingest — scale out: ${MAX_ROUNDS} closed-loop rounds of ${MAX_SECONDS}s against one ROLE=api process, then two on one Postgres, alternating`);
  const url = await freshDatabase('threadbridge_bench_scale');
  const first = await startApi(url, 'scale-1');
  const second = await startApi(url, 'scale-2');
  const endpoints = [`${first.ready}/webhooks/whatsapp`, `${second.ready}/webhooks/whatsapp`];
  for (const e of endpoints) await step(e, 200, 2); // warm-up
  const one: number[] = [];
  const two: number[] = [];
  let cpu = { node: 0, database: 0, messages: 0 };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    one.push((await step(endpoints[0], 'max', MAX_SECONDS)).achieved);
    const pgPids = await backendPids('threadbridge_bench_scale');
    const pids = [first.child.pid!, second.child.pid!];
    const before = { node: cpuMicros(pids), database: cpuMicros(pgPids) };
    const results = await Promise.all(endpoints.map((e) => step(e, 'max', MAX_SECONDS, Math.max(1, Math.floor(CONNECTIONS / 2)))));
    cpu = {
      node: cpu.node + cpuMicros(pids) - before.node,
      database: cpu.database + cpuMicros(pgPids) - before.database,
      messages: cpu.messages + results.reduce((n, r) => n + r.ok, 0),
    };
    two.push(results.reduce((n, r) => n + r.achieved, 0));
  }
  await stopChild(first.child);
  await stopChild(second.child);
  const a = median(one);
  const b = median(two);
  console.log(`  one api process: ${one.map((r) => r.toFixed(0)).join(', ')}/s; two: ${two.map((r) => r.toFixed(0)).join(', ')}/s`);
  return [
    `  scale out: two api processes ${b.toFixed(0)}/s vs one ${a.toFixed(0)}/s = ${(b / a).toFixed(2)}× on this machine ` +
      `(two: Node ${(cpu.node / cpu.messages).toFixed(0)} µs and Postgres ${(cpu.database / cpu.messages).toFixed(0)} µs per message)`,
  ];
}

async function main(): Promise<void> {
  const summary = PHASES.has('steps') ? await steps() : [];
  if (PHASES.has('scale')) summary.push(...(await scaleOut()));
  if (PHASES.has('syncing')) {
    console.log(`\nbench:ingest — while syncing: ${SYNCING.idleSeconds}s idle, then ${SYNCING.syncSeconds}s syncing, at ${SYNCING.rate} webhooks/s`);
    const r = await runSyncingPhase(SYNCING);
    reportSyncing(r, SYNCING);
    summary.push(
      `  at ${SYNCING.rate} req/s while syncing: p50 ${r.syncing.p50.toFixed(1)} ms, p99 ${r.syncing.p99.toFixed(1)} ms (target p99 ≤ 50 ms), max ${r.syncing.max.toFixed(1)} ms, errors ${r.syncing.errors}` +
        ` — idle at the same rate: p50 ${r.idle.p50.toFixed(1)} ms, p99 ${r.idle.p99.toFixed(1)} ms, max ${r.idle.max.toFixed(1)} ms`,
    );
  }
  console.log('\nsummary');
  for (const line of summary) console.log(line);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
