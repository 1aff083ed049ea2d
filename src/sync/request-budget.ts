import type { RequestBudget } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';

export interface BudgetLimit {
  requests: number;
  perMs: number;
}

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
}

/** For the embedded mode: one process owns all the work, so memory is shared enough. */
export class InMemoryRequestBudgets extends RequestBudgets {
  private readonly windows = new Map<string, number[]>();
  private readonly pauses = new Map<string, number>();

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

  async pauseFor(connectionId: string, ms: number): Promise<void> {
    this.pauses.set(connectionId, Math.max(Date.now() + ms, this.pauses.get(connectionId) ?? 0));
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

  async pauseFor(connectionId: string, ms: number): Promise<void> {
    await this.redis.eval(PAUSE_SCRIPT, 1, `${this.prefix}:${connectionId}:pause`, Math.max(1, Math.round(ms)));
  }
}
