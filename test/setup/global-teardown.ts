import Redis from 'ioredis';
import { Client } from 'pg';
import { PG_ADMIN_URL, templateDb } from './test-env';
import { TEST_REDIS_DATABASES, testRedisIndex, testRedisUrl } from './test-redis';

/**
 * Drops this run's template database, then checks the run left Redis empty: every test file's
 * createTestRedis().close() flushes its database, so a key left behind means a file did not close
 * it, or something (a service, a spawned worker, a BullMQ queue) kept writing after it did.
 * Runs once per project with this hook (int, e2e); the Redis check once per run.
 */
export default async function globalTeardown(globalConfig: { maxWorkers?: number } = {}): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${templateDb()} WITH (FORCE)`);
  await admin.end();

  if (process.env.THREADBRIDGE_REDIS_CHECKED) return;
  process.env.THREADBRIDGE_REDIS_CHECKED = '1';
  const left = await keysLeftInRedis(globalConfig.maxWorkers ?? 1);
  if (left.length === 0) {
    console.log('\nRedis: the run left 0 keys in its test databases.');
    return;
  }
  const total = left.reduce((sum, db) => sum + db.count, 0);
  const keys = (n: number) => `${n} key${n === 1 ? '' : 's'}`;
  const lines = left.map((db) => `  db ${db.index}: ${keys(db.count)}, e.g. ${db.sample.join(', ')}`);
  // The keys are removed after being reported, so the machine's Redis stays as the run found it.
  await Promise.all(left.map((db) => withRedis(db.index, (redis) => redis.flushdb())));
  throw new Error(
    [
      `Redis: the run left ${keys(total)} in its test databases (removed now):`,
      ...lines,
      'Each test file must close() its createTestRedis() after stopping what uses it (test/setup/test-redis.ts).',
      'If another test run shares these databases at the same time, give the runs different THREADBRIDGE_REDIS_OFFSET values.',
    ].join('\n'),
  );
}

/** The databases this run's workers used (one per worker id, see testRedisIndex), with what is left in them. */
async function keysLeftInRedis(maxWorkers: number): Promise<{ index: number; count: number; sample: string[] }[]> {
  const indexes = new Set<number>();
  for (let worker = 1; worker <= Math.min(maxWorkers, TEST_REDIS_DATABASES); worker++) indexes.add(testRedisIndex(worker));
  const found = await Promise.all(
    [...indexes].sort((a, b) => a - b).map((index) =>
      withRedis(index, async (redis) => {
        const count = await redis.dbsize();
        const [, sample] = count > 0 ? await redis.scan('0', 'COUNT', 50) : ['0', []];
        return { index, count, sample: sample.slice(0, 5) };
      }),
    ),
  );
  return found.filter((db) => db.count > 0);
}

async function withRedis<T>(index: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(testRedisUrl(index), { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}
