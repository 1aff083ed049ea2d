import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestRedis } from '../../test/setup/test-redis';
import { InMemoryRequestBudgets, RedisRequestBudgets, type RequestBudgets } from './request-budget';

let redisUrl: Awaited<ReturnType<typeof createTestRedis>>;
let client: Redis;

beforeAll(async () => {
  redisUrl = await createTestRedis();
  client = new Redis(redisUrl.url);
});

afterAll(async () => {
  client.disconnect();
  await redisUrl.close();
});

let keys = 0;
const freshKey = () => `budget-spec:${process.pid}:${++keys}`;

/** Both implementations keep the same promise: a held place counts until a window after its release. */
describe.each([
  ['in memory', () => new InMemoryRequestBudgets() as RequestBudgets],
  ['Redis', () => new RedisRequestBudgets(client) as RequestBudgets],
])('tryHold (%s)', (_name, make) => {
  const limit = { requests: 2, perMs: 300 };

  it('counts a place while its request is under way and for a window after its release', async () => {
    const budgets = make();
    const key = freshKey();
    const a = await budgets.tryHold(key, limit, 10_000);
    const b = await budgets.tryHold(key, limit, 10_000);
    expect([a.granted, b.granted]).toEqual([true, true]);
    const full = await budgets.tryHold(key, limit, 10_000);
    expect(full).toEqual({ granted: false, waitMs: expect.any(Number) });

    // Longer than a window, but both requests are still under way: a window counted from the start would let a third go.
    await sleep(400);
    await expect(budgets.tryHold(key, limit, 10_000)).resolves.toMatchObject({ granted: false });

    if (a.granted) await a.release();
    const afterRelease = await budgets.tryHold(key, limit, 10_000);
    expect(afterRelease.granted).toBe(false);
    const waitMs = afterRelease.granted ? 0 : afterRelease.waitMs;
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(300); // a window from the release, not the 10 s hold

    await sleep(waitMs + 20);
    await expect(budgets.tryHold(key, limit, 10_000)).resolves.toMatchObject({ granted: true });
  });

  it('lets a place never released lapse after the longest hold, and tolerates a late release', async () => {
    const budgets = make();
    const key = freshKey();
    const one = { requests: 1, perMs: 100 };
    const held = await budgets.tryHold(key, one, 200);
    expect(held.granted).toBe(true);
    await expect(budgets.tryHold(key, one, 200)).resolves.toMatchObject({ granted: false });
    await sleep(350); // 200 ms hold + 100 ms window
    const next = await budgets.tryHold(key, one, 200);
    expect(next.granted).toBe(true);
    if (held.granted) await expect(held.release()).resolves.toBeUndefined();
    await expect(budgets.tryHold(key, one, 200)).resolves.toMatchObject({ granted: false });
  });

  it('gives no place while the key is paused', async () => {
    const budgets = make();
    const key = freshKey();
    await budgets.pauseFor(key, 300);
    const paused = await budgets.tryHold(key, limit, 10_000);
    expect(paused.granted).toBe(false);
    expect(paused.granted ? 0 : paused.waitMs).toBeGreaterThan(0);
    expect(paused.granted ? 0 : paused.waitMs).toBeLessThanOrEqual(300);
  });
});

describe.each([
  ['in memory', () => new InMemoryRequestBudgets() as RequestBudgets],
  ['Redis', () => new RedisRequestBudgets(client) as RequestBudgets],
])('used (%s)', (_name, make) => {
  it('counts the requests of the current window, and none once it has passed', async () => {
    const budgets = make();
    const key = freshKey();
    const limit = { requests: 5, perMs: 300 };
    expect(await budgets.used(key, limit)).toBe(0);
    await budgets.forConnection(key, limit).acquire(3);
    expect(await budgets.used(key, limit)).toBe(3);
    await sleep(350);
    expect(await budgets.used(key, limit)).toBe(0);
  });
});
