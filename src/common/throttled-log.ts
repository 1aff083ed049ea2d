import type { Logger } from 'pino';

/**
 * Logs a recurring failure (a dependency that is down and reconnects every few hundred ms) at most
 * once per interval per key, with how many times it happened since the last line. Without it one
 * unreachable Redis wrote 77 KB of identical stack traces in 36 s.
 */
export class ThrottledLog {
  private readonly seen = new Map<string, { last: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 30_000,
  ) {}

  warn(key: string, error: unknown, message: string, context: Record<string, unknown> = {}): void {
    const now = Date.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.last < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const repeated = entry?.suppressed ?? 0;
    this.seen.set(key, { last: now, suppressed: 0 });
    this.logger.warn({ ...context, err: error, ...(repeated > 0 ? { repeated, sinceMs: now - entry!.last } : {}) }, message);
  }
}
