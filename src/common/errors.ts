/** Errors that mean "the database cannot be reached right now" (as opposed to a bad query). */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004']);
const UNAVAILABLE_MESSAGES = [/Connection terminated/i, /timeout exceeded when trying to connect/i, /Client has encountered a connection error/i, /connect ECONNREFUSED/i, /the database system is (starting|shutting) up/i, /Connection ended unexpectedly/i];

export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: string; message?: string; driverError?: unknown; cause?: unknown };
    if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
    if (e.message && UNAVAILABLE_MESSAGES.some((re) => re.test(e.message!))) return true;
    current = e.driverError ?? e.cause;
  }
  return false;
}
