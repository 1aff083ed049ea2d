import Redis from 'ioredis';
import { REDIS_BASE_URL } from './test-env';

/**
 * A Redis database index of its own for this Jest worker (1–10), flushed before use, so test
 * files running in parallel never see each other's queues. The run's offset (global-setup.ts)
 * keeps two runs on one machine apart too; 11–13 belong to the benchmarks (test/bench/bench-utils.ts).
 */
export async function createTestRedis(): Promise<{ url: string; flush(): Promise<void>; close(): Promise<void> }> {
  const offset = Number(process.env.THREADBRIDGE_REDIS_OFFSET ?? 0);
  const index = 1 + ((offset + Number(process.env.JEST_WORKER_ID ?? '1') - 1) % 10);
  const url = `${REDIS_BASE_URL.replace(/\/\d*$/, '')}/${index}`;
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  await client.flushdb();
  return {
    url,
    flush: async () => {
      await client.flushdb();
    },
    close: async () => {
      client.disconnect();
    },
  };
}
