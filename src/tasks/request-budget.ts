import type { RequestBudget } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';

export interface BudgetLimit {
  requests: number;
  perMs: number;
}

/** What tryHold() answered: a place to release once the vendor has answered, or how long to wait. */
export type BudgetHold = { granted: true; release(): Promise<void> } | { granted: false; waitMs: number };

/**
 * Per-connection request budgets, shared by every worker of the deployment: a sliding window of
 * `requests` per `perMs` (the shape of HubSpot's ten-second rolling limit), plus a pause that a
 * vendor's Retry-After sets so that no worker calls that vendor before it elapses.
 */
export abstract class RequestBudgets {
  private closed = false;

  /** At shutdown: waiting callers give up (as a transient failure, so their work is retried later). */
  close(): void {
    this.closed = true;
  }

  /** The budget a connector uses for one job; acquire() waits until a request may be sent. */
  forConnection(connectionId: string, limit: BudgetLimit): RequestBudget {
    return {
      acquire: async (cost = 1) => {
        for (;;) {
          if (this.closed) throw new ConnectorError('transient', 'shutting down');
          const waitMs = await this.tryAcquire(connectionId, limit, cost);
          if (waitMs <= 0) return;
          await new Promise((r) => setTimeout(r, Math.min(waitMs, 1000)));
        }
      },
    };
  }

  /** Takes `cost` requests now and returns 0, or returns how long to wait before trying again. */
  abstract tryAcquire(connectionId: string, limit: BudgetLimit, cost: number): Promise<number>;

  /** No request to this connection for `ms` from now, by any worker (a vendor's Retry-After). */
  abstract pauseFor(connectionId: string, ms: number): Promise<void>;

  /**
   * For a vendor that counts requests when they reach it: one request takes a place in `key`'s
   * window from now (before it is sent) until `perMs` after `release()` (call it once the answer is
   * in, whatever the answer). A request reaches the vendor somewhere between those two moments, so
   * any `perMs` window at the vendor sees at most `limit.requests` of them, however long each one
   * is under way. The price: a place is held for the window plus the round trip. A place never
   * released (a crashed worker) lapses `maxHoldMs` after it was taken; release() never throws, as a
   * place it could not release lapses the same way. pauseFor(key) stops it too.
   */
  abstract tryHold(key: string, limit: BudgetLimit, maxHoldMs: number): Promise<BudgetHold>;

  /** Requests counting in the connection's window now (an operator's view; takes nothing). */
  abstract used(connectionId: string, limit: BudgetLimit): Promise<number>;
}

/** For the embedded mode: one process owns all the work, so memory is shared enough. */
export class InMemoryRequestBudgets extends RequestBudgets {
  private readonly windows = new Map<string, number[]>();
  private readonly pauses = new Map<string, number>();
  /** Places of tryHold(): each counts until `until` (its release, or its lapse) plus the window. */
  private readonly holds = new Map<string, { until: number }[]>();

  async tryAcquire(connectionId: string, limit: BudgetLimit, cost: number): Promise<number> {
    const now = Date.now();
    const paused = this.pauses.get(connectionId) ?? 0;
    if (paused > now) return paused - now;
    const window = (this.windows.get(connectionId) ?? []).filter((t) => t > now - limit.perMs);
    this.windows.set(connectionId, window);
    if (window.length + cost > limit.requests) return Math.max(1, window[window.length + cost - limit.requests - 1] + limit.perMs - now);
    for (let i = 0; i < cost; i++) window.push(now);
    return 0;
  }

  async used(connectionId: string, limit: BudgetLimit): Promise<number> {
    const since = Date.now() - limit.perMs;
    return (this.windows.get(connectionId) ?? []).filter((t) => t > since).length + (this.holds.get(connectionId) ?? []).filter((p) => p.until > since).length;
  }

  async pauseFor(connectionId: string, ms: number): Promise<void> {
    this.pauses.set(connectionId, Math.max(Date.now() + ms, this.pauses.get(connectionId) ?? 0));
  }

  async tryHold(key: string, limit: BudgetLimit, maxHoldMs: number): Promise<BudgetHold> {
    const now = Date.now();
    const paused = this.pauses.get(key) ?? 0;
    if (paused > now) return { granted: false, waitMs: paused - now };
    const places = (this.holds.get(key) ?? []).filter((p) => p.until > now - limit.perMs);
    this.holds.set(key, places);
    if (places.length >= limit.requests) {
      const from = places.map((p) => p.until).sort((a, b) => a - b)[places.length - limit.requests];
      return { granted: false, waitMs: Math.max(1, Math.min(from, now) + limit.perMs - now) };
    }
    const place = { until: now + maxHoldMs };
    places.push(place);
    return {
      granted: true,
      release: async () => {
        place.until = Math.min(place.until, Date.now());
      },
    };
  }
}

/**
 * Sliding-window log in Redis, evaluated atomically by a Lua script with Redis's own clock, so
 * workers on different machines share one budget without trusting each other's clocks.
 * KEYS: window zset, pause key. ARGV: limit, window ms, cost, unique member prefix.
 */
const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used + cost > limit then
  local oldest = redis.call('ZRANGE', KEYS[1], used + cost - limit - 1, used + cost - limit - 1, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
  return wait
end
for i = 1, cost do
  redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], window * 2)
return 0
`;

/**
 * tryHold(): the same window log, but a place is scored with the time it stops counting from, which
 * is first now + max hold (under way) and becomes the release time (HOLD_RELEASE_SCRIPT). Places
 * under way sort last, so the wait is read off the oldest released one; when even that one is
 * still under way, the wait is at least a window. KEYS: window zset, pause key. ARGV: limit,
 * window ms, max hold ms, member.
 */
const HOLD_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local maxHold = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], used - limit, used - limit, 'WITHSCORES')
  local from = tonumber(oldest[2])
  if from > now then from = now end
  local wait = from + window - now
  if wait < 1 then wait = 1 end
  return wait
end
redis.call('ZADD', KEYS[1], now + maxHold, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window + maxHold)
return 0
`;

/** KEYS: window zset. ARGV: member. The place counts from now on (only if it has not lapsed). */
const HOLD_RELEASE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
if held > now then redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1]) end
return 0
`;

/** KEYS: window zset. ARGV: window ms. How many places count now (held ones are scored ahead). */
const USED_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. (now - tonumber(ARGV[1])), '+inf')
`;

/** KEYS: pause key. ARGV: pause ms. Keeps the later of the current and the new pause end. */
const PAUSE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < untilMs then redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000) end
return untilMs
`;

interface ScriptingRedis {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export class RedisRequestBudgets extends RequestBudgets {
  private seq = 0;
  private readonly id = Math.random().toString(36).slice(2);

  constructor(private readonly redis: ScriptingRedis, private readonly prefix = 'threadbridge:budget') {
    super();
  }

  async tryAcquire(connectionId: string, limit: BudgetLimit, cost: number): Promise<number> {
    const result = await this.redis.eval(
      ACQUIRE_SCRIPT,
      2,
      `${this.prefix}:${connectionId}:window`,
      `${this.prefix}:${connectionId}:pause`,
      limit.requests,
      limit.perMs,
      cost,
      `${this.id}:${++this.seq}`,
    );
    return Number(result);
  }

  async used(connectionId: string, limit: BudgetLimit): Promise<number> {
    return Number(await this.redis.eval(USED_SCRIPT, 1, `${this.prefix}:${connectionId}:window`, limit.perMs));
  }

  async pauseFor(connectionId: string, ms: number): Promise<void> {
    await this.redis.eval(PAUSE_SCRIPT, 1, `${this.prefix}:${connectionId}:pause`, Math.max(1, Math.round(ms)));
  }

  async tryHold(key: string, limit: BudgetLimit, maxHoldMs: number): Promise<BudgetHold> {
    const window = `${this.prefix}:${key}:window`;
    const member = `${this.id}:${++this.seq}`;
    const waitMs = Number(await this.redis.eval(HOLD_SCRIPT, 2, window, `${this.prefix}:${key}:pause`, limit.requests, limit.perMs, maxHoldMs, member));
    if (waitMs > 0) return { granted: false, waitMs };
    return {
      granted: true,
      release: async () => {
        await this.redis.eval(HOLD_RELEASE_SCRIPT, 1, window, member).catch(() => undefined);
      },
    };
  }
}
