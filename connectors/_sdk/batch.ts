/**
 * Facets take batches only (contract.ts). A vendor whose API writes one record per call uses
 * oneByOne() to offer the batch form: the items go one call each, at most `concurrency` at once
 * (a vendor's burst limit counts parallel calls too), results in the order of the items.
 */

/** How many single calls one batch runs at once unless the connector says otherwise. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * The batch form of `each`. The first failure rejects the batch (the calls already in flight
 * finish first); the core then retries it, or takes its items one batch of one at a time when it
 * must set only the bad one aside — so `each` must be idempotent, as every facet call is.
 */
export function oneByOne<I, R>(each: (item: I) => Promise<R>, options: { concurrency?: number } = {}): (items: I[]) => Promise<R[]> {
  const limit = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  return async (items) => {
    const results = new Array<R>(items.length);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < items.length) {
        const i = next++;
        try {
          results[i] = await each(items[i]);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
    const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (rejected) throw rejected.reason;
    return results;
  };
}
