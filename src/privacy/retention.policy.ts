/** Pure rules of the retention job. */

const DAY_MS = 24 * 60 * 60_000;

/** How often worker processes run the retention job. */
export const RETENTION_INTERVAL_MS = 60 * 60_000;
/** The first run after a worker starts waits this long (a restart loop must not hammer the database). */
export const RETENTION_FIRST_RUN_DELAY_MS = 5 * 60_000;
/** Messages removed per transaction: keeps locks short on a large backlog. */
export const RETENTION_BATCH = 500;

/** Everything strictly older than this instant goes. */
export function retentionCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/**
 * A connection's `retentionDays` setting as stored (a JSON value an operator or an older
 * version wrote): a whole number of days ≥ 1, else none.
 */
export function retentionDaysOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** The UTC day (YYYY-MM-DD) a run's counts are added to. */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** What one run removed (counts only; never what it was). */
export interface RetentionCounts {
  messages: number;
  media: number;
  conversations: number;
  statusEvents: number;
  quarantine: number;
  /** Finished sync tasks and message/transcript links removed under a connection's retention. */
  syncRecords: number;
}

export function noCounts(): RetentionCounts {
  return { messages: 0, media: 0, conversations: 0, statusEvents: 0, quarantine: 0, syncRecords: 0 };
}
