/** Full-jitter exponential backoff (AWS architecture blog): random in [0, min(cap, base·2^attempt)]. */
export function backoffDelayMs(attempt: number, baseMs = 1000, capMs = 15 * 60_000, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}
