import { describe, expect, it } from '@jest/globals';
import { InMemoryRateLimitStore } from './rate-limit.store';

describe('InMemoryRateLimitStore', () => {
  const WINDOW = 60_000;

  it('allows `limit` requests per window, then says how long until the window ends', async () => {
    let now = 1_000_000;
    const store = new InMemoryRateLimitStore(() => now);
    const hit = [{ key: 'key:a', limit: 3 }];
    for (let i = 0; i < 3; i++) await expect(store.hit(hit, WINDOW)).resolves.toEqual({ allowed: true });
    now += 20_000;
    await expect(store.hit(hit, WINDOW)).resolves.toEqual({ allowed: false, exceeded: hit[0], retryAfterMs: 40_000 });
    now += 40_000;
    await expect(store.hit(hit, WINDOW)).resolves.toEqual({ allowed: true });
  });

  it('counts a request in every counter, and names the one that frees last', async () => {
    let now = 0;
    const store = new InMemoryRateLimitStore(() => now);
    const ip = { key: 'ip:192.0.2.1', limit: 2 };
    await store.hit([ip], WINDOW);
    now = 10_000;
    const key = { key: 'key:b', limit: 1 };
    await expect(store.hit([ip, key], WINDOW)).resolves.toEqual({ allowed: true });
    // Both over: the key's window (opened at 10 s) ends after the address's (opened at 0).
    await expect(store.hit([ip, key], WINDOW)).resolves.toEqual({ allowed: false, exceeded: key, retryAfterMs: 60_000 });
    now = 60_000;
    await expect(store.hit([ip, key], WINDOW)).resolves.toEqual({ allowed: false, exceeded: key, retryAfterMs: 10_000 });
    await expect(store.hit([{ key: 'key:other', limit: 1 }], WINDOW)).resolves.toEqual({ allowed: true });
  });
});
