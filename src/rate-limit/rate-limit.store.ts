/** One counter a request is counted in, and how many requests that counter allows per window. */
export interface RateLimitHit {
  key: string;
  limit: number;
}

/**
 * `allowed: false`: a counter is over its limit; `exceeded` is the one that frees last and
 * `retryAfterMs` the time until it does.
 */
export type RateLimitVerdict = { allowed: true } | { allowed: false; exceeded: RateLimitHit; retryAfterMs: number };

/**
 * Fixed windows that open with a counter's first request and last `windowMs`: a client may send
 * its limit in each window (up to twice its limit across a window's end), and Retry-After is exact.
 * Every request is counted, refused ones too, so a client that keeps knocking gains nothing.
 */
export abstract class RateLimitStore {
  /** Counts one request in every counter of `hits` at once. */
  abstract hit(hits: RateLimitHit[], windowMs: number): Promise<RateLimitVerdict>;

  protected verdict(hits: RateLimitHit[], counted: { count: number; resetInMs: number }[]): RateLimitVerdict {
    let worst: { hit: RateLimitHit; resetInMs: number } | undefined;
    counted.forEach(({ count, resetInMs }, i) => {
      if (count > hits[i].limit && (!worst || resetInMs > worst.resetInMs)) worst = { hit: hits[i], resetInMs };
    });
    return worst ? { allowed: false, exceeded: worst.hit, retryAfterMs: Math.max(1, worst.resetInMs) } : { allowed: true };
  }
}

/** For a single process (no REDIS_URL): counters in memory, expired ones dropped once per window. */
export class InMemoryRateLimitStore extends RateLimitStore {
  private readonly counters = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  async hit(hits: RateLimitHit[], windowMs: number): Promise<RateLimitVerdict> {
    const now = this.now();
    if (now - this.lastSweep >= windowMs) {
      for (const [key, counter] of this.counters) if (counter.resetAt <= now) this.counters.delete(key);
      this.lastSweep = now;
    }
    const counted = hits.map(({ key }) => {
      let counter = this.counters.get(key);
      if (!counter || counter.resetAt <= now) {
        counter = { count: 0, resetAt: now + windowMs };
        this.counters.set(key, counter);
      }
      counter.count += 1;
      return { count: counter.count, resetInMs: counter.resetAt - now };
    });
    return this.verdict(hits, counted);
  }
}

/**
 * The same windows in Redis, so every API process of a deployment counts together. One script
 * counts a request in all its counters atomically, with Redis's own clock (PTTL), so processes
 * on different machines need not agree on the time.
 * KEYS: the counters. ARGV[1]: window ms. Returns, per counter, its count and ms until it resets.
 */
const HIT_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  out[2 * i - 1] = n
  out[2 * i] = ttl
end
return out
`;

interface ScriptingRedis {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export class RedisRateLimitStore extends RateLimitStore {
  constructor(
    private readonly redis: ScriptingRedis,
    private readonly prefix = 'threadbridge:rate',
  ) {
    super();
  }

  async hit(hits: RateLimitHit[], windowMs: number): Promise<RateLimitVerdict> {
    const result = (await this.redis.eval(HIT_SCRIPT, hits.length, ...hits.map((h) => `${this.prefix}:${h.key}`), windowMs)) as number[];
    return this.verdict(
      hits,
      hits.map((_, i) => ({ count: Number(result[2 * i]), resetInMs: Number(result[2 * i + 1]) })),
    );
  }
}
