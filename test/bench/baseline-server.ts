/**
 * The ingest benchmark's baselines: a bare Node http server that does what the webhook must at
 * minimum — read the body, check Meta's HMAC, parse the JSON, store the payload through pg, answer
 * 200 after the commit — and nothing else. Run as a child process by ingest.bench.ts (env: PORT,
 * DATABASE_URL, APP_SECRET, MODE).
 *
 * MODE=single (the default): one INSERT per webhook. MODE=group: group commit — requests that
 * arrive while a write is in flight wait for the next one, and each write stores every waiting
 * request with one multi-row `INSERT … SELECT FROM unnest(…)`: the most this machine can do for the
 * same durable work, and the bar threadbridge is measured against.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { Pool } from 'pg';

// Idle connections stay open (as the service's pool keeps them): the benchmark reads the CPU of the
// database backends it finds at a round's start, so a connection closed and reopened between rounds
// would hide that round's Postgres time.
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10, idleTimeoutMillis: 0 });
const secret = process.env.APP_SECRET ?? '';
const grouped = process.env.MODE === 'group';

interface Waiting {
  wamid: string;
  payload: string;
  done: (ok: boolean) => void;
}

let waiting: Waiting[] = [];
let writing = false;

/** One write at a time; whatever arrived meanwhile goes in the next one, all or nothing. */
function flush(): void {
  if (writing || waiting.length === 0) return;
  writing = true;
  const batch = waiting;
  waiting = [];
  pool
    .query('INSERT INTO bench_baseline (wamid, payload) SELECT * FROM unnest($1::text[], $2::jsonb[]) ON CONFLICT DO NOTHING', [batch.map((w) => w.wamid), batch.map((w) => w.payload)])
    .then(
      () => batch.forEach((w) => w.done(true)),
      () => batch.forEach((w) => w.done(false)),
    )
    .finally(() => {
      writing = false;
      flush();
    });
}

function store(wamid: string, payload: string): Promise<boolean> {
  if (!grouped) {
    return pool.query('INSERT INTO bench_baseline (wamid, payload) VALUES ($1, $2) ON CONFLICT DO NOTHING', [wamid, payload]).then(
      () => true,
      () => false,
    );
  }
  return new Promise((resolve) => {
    waiting.push({ wamid, payload, done: resolve });
    flush();
  });
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const given = Buffer.from(String(req.headers['x-hub-signature-256'] ?? '').replace(/^sha256=/, ''), 'hex');
    const expected = createHmac('sha256', secret).update(body).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401).end();
      return;
    }
    let wamid: string;
    try {
      const json = JSON.parse(body.toString('utf8'));
      wamid = json.entry[0].changes[0].value.messages[0].id;
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (await store(wamid, body.toString('utf8'))) res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    else res.writeHead(503).end();
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
