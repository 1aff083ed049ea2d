/**
 * In-memory versions of the ports the core hands to a connector (ConnectorDeps), for connector
 * tests, the conformance suite, demos and benchmarks. No Jest here, so non-test code may use them.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type {
  Clock,
  ConnectorDeps,
  ConnectorLogger,
  HttpPort,
  MediaReader,
  MediaRef,
  RequestBudget,
} from '../contract';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  context?: Record<string, unknown>;
}

/** A logger that keeps every entry, so tests can assert what was (and was not) logged. */
export class RecordingLogger implements ConnectorLogger {
  readonly entries: LogEntry[] = [];

  debug(message: string, context?: Record<string, unknown>): void {
    this.entries.push({ level: 'debug', message, context });
  }
  info(message: string, context?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, context });
  }
  warn(message: string, context?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, context });
  }
  error(message: string, context?: Record<string, unknown>): void {
    this.entries.push({ level: 'error', message, context });
  }

  /** Everything logged, as one string, to search for leaked secrets or personal data. */
  text(): string {
    return this.entries.map((e) => `${e.level} ${e.message} ${safeJson(e.context)}`).join('\n');
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

/** A budget that never waits and counts how often it was asked: calls ≥ vendor requests. */
export class CountingBudget implements RequestBudget {
  /** Number of acquire() calls. */
  calls = 0;
  /** Sum of the costs acquired. */
  acquired = 0;

  async acquire(cost = 1): Promise<void> {
    this.calls += 1;
    this.acquired += cost;
  }
}

/** Media store in memory: put() files under a storage key, connectors read() them. */
export class InMemoryMediaReader implements MediaReader {
  private readonly files = new Map<string, Buffer>();

  put(storageKey: string, bytes: Buffer | string): void {
    this.files.set(storageKey, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  async read(media: MediaRef): Promise<Buffer> {
    const bytes = media.storageKey === undefined ? undefined : this.files.get(media.storageKey);
    if (!bytes) throw new Error(`media not stored: ${media.storageKey ?? '(no storage key)'}`);
    return bytes;
  }
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests move by hand (ticket reopen windows, stale webhook timestamps). */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(date: Date): void {
    this.current = date.getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * The network without an egress policy: connector tests talk to fakes on 127.0.0.1, and the
 * policy itself is the core's (tested there).
 */
const directAgents = new Map<string, http.Agent>();
export const directHttp: HttpPort = {
  fetch: (input, init) => fetch(input, init),
  agent: (protocol, options = {}, arm, key = '') => {
    const cacheKey = `${protocol}|${key}|${JSON.stringify(options)}`;
    const cached = directAgents.get(cacheKey);
    if (cached) return cached;
    const AgentClass = protocol === 'https:' ? https.Agent : http.Agent;
    const agent = new AgentClass(options);
    if (arm) {
      const base = agent.createConnection.bind(agent) as (...args: unknown[]) => Duplex;
      (agent as unknown as { createConnection: unknown }).createConnection = (...args: unknown[]) => arm(base(...args));
    }
    directAgents.set(cacheKey, agent);
    return agent;
  },
};

export interface TestDeps extends ConnectorDeps {
  logger: RecordingLogger;
  budget: CountingBudget;
  media: InMemoryMediaReader;
}

/**
 * Ports for a connector under test: a recording logger, the real clock, a counting budget that
 * never waits, an in-memory media store and a 5 s request timeout. Override any of them.
 */
export function testDeps(overrides: Partial<TestDeps> = {}): TestDeps {
  return {
    logger: new RecordingLogger(),
    clock: systemClock,
    budget: new CountingBudget(),
    media: new InMemoryMediaReader(),
    http: directHttp,
    timeoutMs: 5_000,
    ...overrides,
  };
}
