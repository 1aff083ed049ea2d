/**
 * The ingest benchmark's baseline: a bare Node http server that does what the webhook must at
 * minimum — read the body, check Meta's HMAC, one INSERT through pg — and nothing else.
 * Run as a child process by ingest.bench.ts (env: PORT, DATABASE_URL, APP_SECRET).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { Pool } from 'pg';

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const secret = process.env.APP_SECRET ?? '';

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
    try {
      const json = JSON.parse(body.toString('utf8'));
      const wamid = json.entry[0].changes[0].value.messages[0].id;
      await pool.query('INSERT INTO bench_baseline (wamid, payload) VALUES ($1, $2) ON CONFLICT DO NOTHING', [wamid, body.toString('utf8')]);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    } catch {
      res.writeHead(503).end();
    }
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
