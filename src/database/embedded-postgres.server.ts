/**
 * The embedded database's server process (spawned by embedded-postgres.ts): serves one PGlite
 * database on a local TCP port. It replaces @electric-sql/pglite-socket's scripts/server.js, whose
 * queue runs each protocol message on its own: outside a transaction, the Parse/Bind/Execute/Sync
 * of concurrent connections interleave on PGlite's single session and clobber each other's unnamed
 * statement and portal ("bind message supplies 1 parameters, but prepared statement requires 3").
 * Here the package's socket handler is kept and only the queue is ours (SessionQueue).
 *
 * Usage: node embedded-postgres.server.js --db=DIR --port=N [--host=127.0.0.1] [--max-connections=N]
 *        node embedded-postgres.server.js --db=DIR --init-only   (creates the cluster and exits)
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import * as net from 'node:net';
import { parseArgs } from 'node:util';

/** pglite-socket's queue type. The class itself is not exported, so SessionQueue matches its public methods. */
type QueryQueue = PGLiteSocketHandlerOptions['queryQueue'];

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
}

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'
const STARTUP = 0x00; // a startup message has no type byte; its length's first byte is 0

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`);
  const message = Buffer.alloc(5 + text.length);
  message[0] = QUERY;
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

/**
 * Lends PGlite's one session to one connection for a whole protocol cycle. Once a connection's
 * message has run, only that connection's messages run until it has sent a Sync, a simple Query
 * or a Terminate with no transaction open; others wait, oldest first. The handler hands messages
 * over one at a time, so between two messages of a cycle the owner usually has nothing queued:
 * the session stays idle for it rather than passing to the next in line.
 */
class SessionQueue implements Pick<QueryQueue, 'enqueue' | 'getQueueLength' | 'clearQueueForHandler' | 'clearTransactionIfNeeded'> {
  private queue: QueuedMessage[] = [];
  /** The connection mid-cycle or mid-transaction; null when any connection may go next. */
  private owner: number | null = null;
  private running = false;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.drain();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (const queued of this.queue.filter((q) => q.handlerId === handlerId)) queued.reject(new Error('Handler disconnected'));
    this.queue = this.queue.filter((q) => q.handlerId !== handlerId);
  }

  /** Called when a connection goes away: if it held the session, undo its open work and free the session. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    // Inside the lock, so a message of this connection still running has settled the owner first.
    await this.db
      .runExclusive(async () => {
        if (this.owner !== handlerId) return;
        this.owner = null;
        const discard = { onRawData: () => undefined };
        // ROLLBACK undoes an explicit transaction, or the implicit one of a half-sent extended
        // query (a Sync would commit that). After an error the session skips everything up to a
        // Sync, so that ROLLBACK may be skipped: send the Sync, then roll back what is still open.
        await this.db.execProtocolRawStream(simpleQuery('ROLLBACK'), discard);
        await this.db.execProtocolRawStream(Uint8Array.of(SYNC, 0, 0, 0, 4), discard);
        if (this.db.isInTransaction()) await this.db.execProtocolRawStream(simpleQuery('ROLLBACK'), discard);
      })
      // The handler does not await its own clean-up everywhere: a rejection here would end the process.
      .catch((error: unknown) => console.error('embedded Postgres: rollback after a disconnect failed:', error));
    void this.drain();
  }

  private next(): QueuedMessage | undefined {
    const index = this.owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.owner);
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // `running` goes false in the same tick as the last next(), so an enqueue never goes unserved.
    for (let item = this.next(); item; item = this.next()) {
      const current = item;
      let bytes = 0;
      try {
        await this.db.runExclusive(async () => {
          await this.db.execProtocolRawStream(current.message, {
            onRawData: (data) => {
              bytes += data.length;
              current.onData(data);
            },
          });
          // Decided inside the lock: clearTransactionIfNeeded must see the owner this message leaves.
          const type = current.message[0];
          const endsCycle = type === SYNC || type === QUERY || type === TERMINATE || type === STARTUP;
          this.owner = endsCycle && !this.db.isInTransaction() ? null : current.handlerId;
        });
      } catch (error) {
        // PGlite itself failed (SQL errors come back as protocol messages). The handler drops the
        // connection on this rejection, and its clearTransactionIfNeeded frees the session.
        this.owner = current.handlerId;
        current.reject(error as Error);
        continue;
      }
      current.resolve(bytes);
    }
    this.running = false;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      db: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'max-connections': { type: 'string', default: '1' },
      'init-only': { type: 'boolean', default: false },
    },
  });
  if (!values.db) throw new Error('--db=DIR is required');
  if (values['init-only']) {
    // Creating the cluster is the costly step (see embedded-postgres.ts): done in a process that exits.
    const created = new PGlite(values.db);
    await created.waitReady;
    await created.close();
    process.exit(0);
  }
  const maxConnections = Number(values['max-connections']);

  const db = new PGlite(values.db);
  await db.waitReady;
  const queue = new SessionQueue(db);
  const handlers = new Set<PGLiteSocketHandler>();

  const server = net.createServer((socket) => {
    if (handlers.size >= maxConnections) {
      socket.end('Too many connections\n');
      return;
    }
    const handler = new PGLiteSocketHandler({ queryQueue: queue as unknown as QueryQueue, closeOnDetach: true });
    handlers.add(handler);
    // The handler emits 'error' instead of 'close' when it drops a connection itself.
    handler.addEventListener('close', () => handlers.delete(handler));
    handler.addEventListener('error', () => handlers.delete(handler));
    void handler.attach(socket);
  });
  server.maxConnections = maxConnections;

  let closing: Promise<void> | undefined;
  const shutdown = () => {
    closing ??= (async () => {
      server.close();
      // Detaching rolls back what each connection left open; close() then waits for the message
      // still running and leaves the data directory consistent.
      await Promise.all([...handlers].map((handler) => handler.detach(true)));
      await db.close();
      process.exit(0);
    })().catch((error: unknown) => {
      console.error('embedded Postgres: shutdown failed:', error);
      process.exit(1);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // The parent talks over an IPC channel only to be noticed when it dies: close rather than linger.
  process.on('disconnect', shutdown);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(values.port), values.host, resolve);
  });
}

main().catch((error: unknown) => {
  console.error('embedded Postgres failed to start:', error);
  process.exit(1);
});
