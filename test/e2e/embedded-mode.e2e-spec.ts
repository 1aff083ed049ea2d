import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Pool } from 'pg';
import { describeService } from '../../src/bootstrap';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { aBatchWebhook, anImageMessageWebhook, aStatus, aTextMessage, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { allowFakes, eventually, startTestService, tempDir, TEST_APP_SECRET, type TestService } from '../setup/test-service';

/** `npm start` with only Node: PGlite under DATA_DIR, and the outbox table as the queue. */
describe('embedded mode', () => {
  const dataDir = tempDir('threadbridge-embedded-');
  let meta: MetaGraphFake;
  let service: TestService | undefined;

  const embeddedEnv = () => ({ DATA_DIR: dataDir, DATABASE_URL: undefined, REDIS_URL: undefined, ADMIN_API_KEY: undefined, WHATSAPP_API_URL: meta.url, EGRESS_ALLOW: allowFakes(meta) });

  beforeAll(async () => {
    meta = await startMetaGraphFake({ accessToken: 'test-token' });
  });

  afterAll(async () => {
    await service?.stop();
    await meta?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('boots from an empty DATA_DIR, stores messages and fetches media through the outbox poller', async () => {
    service = await startTestService(embeddedEnv());
    expect(service.embedded?.created).toBe(true);
    const banner = describeService(service);
    expect(banner).toMatch(/mode:\s+embedded/);
    expect(banner).toMatch(/ADMIN_API_KEY not set: generated one into/);
    expect(fs.existsSync(path.join(dataDir, 'admin-api-key'))).toBe(true);
    // Sized for one embedded session, not Postgres's 100 connections and 128 MB of buffers (bench:memory).
    await expect(service.db.query(`SELECT current_setting('shared_buffers') AS b, current_setting('max_connections') AS c`)).resolves.toEqual([{ b: '16MB', c: '10' }]);

    const text = nextWamid();
    expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ wamid: text, text: 'hello from the embedded mode' }), TEST_APP_SECRET)).status).toBe(200);

    const bytes = randomBytes(4096);
    const { id: mediaId, sha256Base64 } = meta.addMedia(bytes, 'image/jpeg');
    const image = nextWamid();
    await postMetaWebhook(`${service.url}/webhooks/whatsapp`, anImageMessageWebhook({ wamid: image, mediaId, sha256: sha256Base64 }), TEST_APP_SECRET);
    await eventually(async () => {
      const [row] = await service!.db.query(`SELECT media_status FROM messages WHERE wamid = $1`, [image]);
      return row?.media_status === 'stored';
    }, 'media stored by the embedded poller');

    const ready = await (await fetch(`${service.url}/health/ready`)).json();
    expect(ready).toMatchObject({ database: 'ok', queue: { driver: 'outbox', status: 'ok' } });
    await service.stop();
    service = undefined;
  });

  it('reopens an existing DATA_DIR with its data and its generated admin key', async () => {
    const key = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
    service = await startTestService(embeddedEnv());
    expect(service.embedded?.created).toBe(false);
    const [{ count }] = await service.db.query(`SELECT count(*)::int AS count FROM messages`);
    expect(count).toBe(2);

    const res = await fetch(`${service.url}/api/v1/contacts`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);

    const later = nextWamid();
    expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ wamid: later }), TEST_APP_SECRET)).status).toBe(200);
    const [{ total }] = await service.db.query(`SELECT count(*)::int AS total FROM messages`);
    expect(total).toBe(3);
  });

  it('stores concurrent webhooks and answers concurrent API calls through the default pool of 10, logging no errors', async () => {
    await service?.stop();
    const logLines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
    service = await startTestService(embeddedEnv(), { logDestination: sink, logLevel: 'warn' });
    expect(service.config.dbPoolSize).toBe(10);
    const headers = { authorization: `Bearer ${fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim()}` };

    // Ten customers, ten messages each, all at once, while the API is read just as often. Every
    // other delivery also carries a status, so it is stored in a transaction of its own.
    const wamids = Array.from({ length: 100 }, () => nextWamid());
    const posts = wamids.map(async (wamid, i) => {
      const message = aTextMessage({ wamid, waId: `1650555${1000 + (i % 10)}`, text: `burst ${i}` });
      const statuses = i % 2 ? [aStatus({ wamid: nextWamid(), status: 'delivered', recipientId: message.from })] : [];
      return (await postMetaWebhook(`${service!.url}/webhooks/whatsapp`, aBatchWebhook([message], statuses), TEST_APP_SECRET)).status;
    });
    const reads = Array.from({ length: 100 }, async (_, i) => (await fetch(`${service!.url}/api/v1/${i % 2 ? 'contacts' : 'conversations'}`, { headers })).status);
    const statuses = await Promise.all([...posts, ...reads]);

    expect(statuses).toEqual(Array(200).fill(200));
    const [{ stored }] = await service.db.query(`SELECT count(*)::int AS stored FROM messages WHERE wamid = ANY($1)`, [wamids]);
    expect(stored).toBe(100);

    // Every message looked up at once through the service's own pool, each finding its own row.
    const lookups = await Promise.all(
      wamids.map(async (wamid, i) => {
        const rows: { wamid: string; i: number }[] = await service!.db.query(`SELECT wamid, $2::int AS i FROM messages WHERE wamid = $1 AND direction = $3`, [wamid, i, 'inbound']);
        return rows.map((row) => `${row.i}:${row.wamid}`).join();
      }),
    );
    expect(lookups).toEqual(wamids.map((wamid, i) => `${i}:${wamid}`));
    expect(logLines.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});

/** A typed protocol message: type byte, length, body. */
function wireMessage(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from(type), length, body]);
}
const cstring = (text: string) => Buffer.from(`${text}\0`);
const int16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const int32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

/** A bare protocol connection, to leave mid-transaction or mid-query the way a crashed client does. */
async function rawConnection(url: string): Promise<{ send(message: Buffer): void; received(type: string, count?: number): Promise<void>; kill(): void }> {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  let buffer = Buffer.alloc(0);
  socket.on('data', (data) => (buffer = Buffer.concat([buffer, data])));
  await once(socket, 'connect');
  const typesSoFar = () => {
    const types: string[] = [];
    for (let at = 0; at + 5 <= buffer.length; at += 1 + buffer.readInt32BE(at + 1)) types.push(String.fromCharCode(buffer[at]));
    return types;
  };
  const connection = {
    send: (message: Buffer) => void socket.write(message),
    received: (type: string, count = 1) => eventually(async () => typesSoFar().filter((t) => t === type).length >= count, `${count} '${type}' from the server`, 5000).then(() => undefined),
    kill: () => void socket.destroy(),
  };
  const params = Buffer.concat([cstring('user'), cstring('postgres'), cstring('database'), cstring('postgres'), cstring('')]);
  connection.send(Buffer.concat([int32(params.length + 8), int32(196608), params]));
  await connection.received('Z');
  return connection;
}

/**
 * PGlite serves one session to every connection. Without keeping each connection's protocol cycle
 * together, the Parse/Bind/Execute of concurrent parameterized queries clobbered each other.
 */
describe('the embedded database under a pool of 10', () => {
  const dataDir = tempDir('threadbridge-embedded-pool-');
  let embedded: EmbeddedPostgres;
  let pool: Pool;
  /** Errors of idle connections: an answer that reached a connection with no query waiting. */
  const strayErrors: string[] = [];

  beforeAll(async () => {
    embedded = await startEmbeddedPostgres(dataDir, 12);
    // A bounded wait: a query whose answer went to another connection fails instead of hanging.
    pool = new Pool({ connectionString: embedded.url, max: 10, query_timeout: 10_000 });
    pool.on('error', (error) => strayErrors.push(error.message));
    await pool.query('CREATE TABLE tally (k int NOT NULL, v int NOT NULL)');
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    await embedded?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** One operation of kind `i % 7`; resolves to what it returned and what it should have. */
  async function operation(i: number): Promise<{ got: unknown; want: unknown }> {
    switch (i % 7) {
      case 0:
        return { got: (await pool.query('SELECT $1::int + $2::int AS v', [i, 2 * i])).rows, want: [{ v: 3 * i }] };
      case 1:
        return { got: (await pool.query(`SELECT $1::text || '-' || $2::text || '-' || $3::text AS v`, ['a', i, 'c'])).rows, want: [{ v: `a-${i}-c` }] };
      case 2: {
        const list = Array.from({ length: (i % 5) + 1 }, (_, n) => n);
        return { got: (await pool.query('SELECT cardinality($1::int[]) AS v', [list])).rows, want: [{ v: list.length }] };
      }
      case 3:
        return { got: (await pool.query(`SELECT $1::jsonb ->> 'name' AS v`, [JSON.stringify({ name: `n${i}` })])).rows, want: [{ v: `n${i}` }] };
      case 4: {
        // A bad parameter fails its own query only.
        const error = await pool.query('SELECT $1::int AS v', [`not-a-number-${i}`]).then(
          () => 'no error',
          (e: Error) => e.message,
        );
        return { got: error, want: `invalid input syntax for type integer: "not-a-number-${i}"` };
      }
      case 5: {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('INSERT INTO tally (k, v) VALUES ($1, $2), ($1, $3)', [i, i, 1]);
          const { rows } = await client.query('SELECT sum(v)::int AS v FROM tally WHERE k = $1', [i]);
          await client.query('COMMIT');
          return { got: rows, want: [{ v: i + 1 }] };
        } finally {
          client.release();
        }
      }
      default: {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('INSERT INTO tally (k, v) VALUES ($1, $2)', [i, i]);
          const failed = await client.query('SELECT $1::int', ['x']).then(
            () => false,
            () => true,
          );
          await client.query('ROLLBACK');
          return { got: failed, want: true };
        } finally {
          client.release();
        }
      }
    }
  }

  it('keeps the concurrent parameterized queries and transactions of every connection apart', async () => {
    const results = await Promise.allSettled(Array.from({ length: 350 }, (_, i) => operation(i)));

    const wrong = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`#${i}: ${(r.reason as Error).message}`] : JSON.stringify(r.value.got) === JSON.stringify(r.value.want) ? [] : [`#${i}: got ${JSON.stringify(r.value.got)}`],
    );
    expect({ wrong, strayErrors }).toEqual({ wrong: [], strayErrors: [] });
    // Only the committed transactions' rows (kind 5), two each; the rolled-back ones left nothing.
    const [{ rows, keys }] = (await pool.query('SELECT count(*)::int AS rows, count(DISTINCT k)::int AS keys FROM tally')).rows;
    expect({ rows, keys }).toEqual({ rows: 100, keys: 50 });
  });

  it('undoes the work of a connection that dies mid-transaction or mid-query, and serves the others', async () => {
    const inTransaction = await rawConnection(embedded.url);
    inTransaction.send(wireMessage('Q', cstring('BEGIN; INSERT INTO tally (k, v) VALUES (-1, 1)')));
    await inTransaction.received('Z', 2);
    inTransaction.kill();

    // Parse, Bind and Execute with no Sync: the INSERT ran in an implicit transaction still open.
    const midQuery = await rawConnection(embedded.url);
    const insert = 'INSERT INTO tally (k, v) VALUES ($1, $2)';
    midQuery.send(wireMessage('P', cstring(''), cstring(insert), int16(0)));
    midQuery.send(wireMessage('B', cstring(''), cstring(''), int16(0), int16(2), int32(2), Buffer.from('-2'), int32(1), Buffer.from('1'), int16(0)));
    midQuery.send(wireMessage('E', cstring(''), int32(0)));
    await midQuery.received('C');
    midQuery.kill();

    const { rows } = await pool.query('SELECT count(*)::int AS left FROM tally WHERE k < $1', [0]);
    expect(rows).toEqual([{ left: 0 }]);
  });
});
