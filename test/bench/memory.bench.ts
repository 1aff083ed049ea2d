/**
 * bench:memory — what `npm start` holds in memory in embedded mode: the service process and the
 * embedded database server together, at boot on a fresh DATA_DIR and after 2,000 webhooks
 * (target: ≤ 350 MB RSS for both). Beside it, the baseline in the same run: PGlite as it comes
 * (default settings, default V8 flags, the cluster created in the process that then serves) doing
 * the same 2,000 inserts in one process — the cost the embedded mode started from.
 *
 * Run: npm run bench:memory   (BENCH_MEMORY_WEBHOOKS=2000)
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmt, memoryOf, serviceNodeFlags } from './bench-utils';

const WEBHOOKS = Number(process.env.BENCH_MEMORY_WEBHOOKS ?? 2000);
const SECRET = 'bench-memory-secret';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** RSS and peak RSS (MB) of a process and its children, summed. */
function treeMemory(pid: number): { rssMb: number; peakMb: number; parts: string } {
  const children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number).filter((child) => fs.existsSync(`/proc/${child}/status`));
  const parts = [pid, ...children].map((p) => ({ p, ...memoryOf(p) }));
  return {
    rssMb: parts.reduce((sum, m) => sum + m.rssMb, 0),
    peakMb: parts.reduce((sum, m) => sum + m.peakRssMb, 0),
    parts: parts.map((m, i) => `${i === 0 ? 'service' : 'database'} ${m.rssMb.toFixed(0)} MB`).join(', '),
  };
}

function webhook(k: number): string {
  const waId = `4917${1_000_000 + (k % 200)}`;
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001111', phone_number_id: '106540352242922' },
      contacts: [{ profile: { name: 'Customer' }, wa_id: waId }],
      messages: [{ from: waId, id: `wamid.MEMORY${k}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: `message number ${k}, a sentence of ordinary length` } }],
    } }] }],
  });
}

async function postWebhooks(url: string, count: number): Promise<number> {
  let next = 0;
  let ok = 0;
  const worker = async () => {
    while (next < count) {
      const body = webhook(next++);
      const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
      if (res.status === 200) ok += 1;
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  return ok;
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health/live`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the service did not start within 120 s');
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** threadbridge as `npm start` runs it, on a fresh DATA_DIR. */
async function embeddedService(): Promise<{ boot: ReturnType<typeof treeMemory>; after: ReturnType<typeof treeMemory>; stored: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadbridge-bench-memory-'));
  const port = await freePort();
  const child = spawn(process.execPath, [...serviceNodeFlags(), 'dist/src/main.js'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', WHATSAPP_APP_SECRET: SECRET, LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, child);
    await new Promise((r) => setTimeout(r, 1000));
    const boot = treeMemory(child.pid!);
    const stored = await postWebhooks(`${url}/webhooks/whatsapp`, WEBHOOKS);
    await new Promise((r) => setTimeout(r, 3000));
    return { boot, after: treeMemory(child.pid!), stored };
  } finally {
    await stop(child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The baseline's process: PGlite with its defaults, creating its cluster, then the inserts. */
const BASELINE_SCRIPT = `
const { PGlite } = require('@electric-sql/pglite');
(async () => {
  const db = new PGlite(process.argv[2]);
  await db.waitReady;
  await db.exec("CREATE TABLE messages (id bigserial PRIMARY KEY, wamid text UNIQUE NOT NULL, content jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())");
  process.send({ booted: true });
  await new Promise((resolve) => process.once('message', resolve));
  for (let k = 0; k < Number(process.argv[3]); k++) {
    await db.query('INSERT INTO messages (wamid, content) VALUES ($1, $2) ON CONFLICT (wamid) DO NOTHING', ['wamid.MEMORY' + k, JSON.stringify({ text: 'message number ' + k + ', a sentence of ordinary length' })]);
  }
  process.send({ done: true });
  await new Promise((resolve) => process.once('message', resolve));
  await db.close();
  process.exit(0);
})();
`;

async function pgliteAsItComes(): Promise<{ boot: ReturnType<typeof memoryOf>; after: ReturnType<typeof memoryOf> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadbridge-bench-pglite-'));
  const script = path.join(process.cwd(), 'dist', 'bench-memory-baseline.cjs');
  fs.writeFileSync(script, BASELINE_SCRIPT);
  const child = fork(script, [dataDir, String(WEBHOOKS)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const next = () => new Promise<void>((resolve) => child.once('message', () => resolve()));
  try {
    await next();
    const boot = memoryOf(child.pid!);
    child.send('go');
    await next();
    const after = memoryOf(child.pid!);
    child.send('stop');
    return { boot, after };
  } finally {
    await stop(child);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(script, { force: true });
  }
}

async function main(): Promise<void> {
  console.log(`bench:memory — embedded mode (npm start on a fresh DATA_DIR), ${WEBHOOKS} webhooks, node ${process.version}`);
  const baseline = await pgliteAsItComes();
  console.log(`  baseline  PGlite as it comes, one process:   boot ${fmt(baseline.boot.rssMb, 0)} MB   after ${WEBHOOKS} inserts ${fmt(baseline.after.rssMb, 0)} MB   peak ${fmt(baseline.after.peakRssMb, 0)} MB`);
  const service = await embeddedService();
  console.log(`  threadbridge service + database server:   boot ${fmt(service.boot.rssMb, 0)} MB   after ${WEBHOOKS} webhooks ${fmt(service.after.rssMb, 0)} MB   peak ${fmt(service.after.peakMb, 0)} MB   (target ≤ 350)`);
  console.log(`    at boot: ${service.boot.parts}; after: ${service.after.parts}; webhooks answered 200: ${service.stored}/${WEBHOOKS}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
