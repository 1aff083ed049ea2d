import Redis from 'ioredis';
import { REDIS_BASE_URL } from './test-env';

/** How many Redis database indexes the test runs share (1–10); 11–13 belong to the benchmarks (test/bench/bench-utils.ts). */
export const TEST_REDIS_DATABASES = 10;

/**
 * The Redis database index of one Jest worker: 1–10, shifted by the run's offset (global-setup.ts)
 * so two runs on one machine keep apart.
 */
export function testRedisIndex(workerId: number, offset = Number(process.env.THREADBRIDGE_REDIS_OFFSET ?? 0)): number {
  return 1 + ((offset + workerId - 1) % TEST_REDIS_DATABASES);
}

/** The URL of Redis database `index` on the test Redis. */
export function testRedisUrl(index: number): string {
  return `${REDIS_BASE_URL.replace(/\/\d*$/, '')}/${index}`;
}

/**
 * A Redis database index of its own for this Jest worker, flushed before use, so test files running
 * in parallel never see each other's queues, and flushed again by `close()`, so a run leaves Redis as
 * it found it (global-teardown.ts checks). Call `close()` after everything that uses the database
 * has stopped (services, spawned workers): a BullMQ queue or worker that is still open writes its
 * keys again after the flush.
 */
export async function createTestRedis(): Promise<{ url: string; flush(): Promise<void>; close(): Promise<void> }> {
  const url = testRedisUrl(testRedisIndex(Number(process.env.JEST_WORKER_ID ?? '1')));
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  await client.flushdb();
  let closed = false;
  return {
    url,
    flush: async () => {
      await client.flushdb();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await client.flushdb();
      } finally {
        client.disconnect();
      }
    },
  };
}
