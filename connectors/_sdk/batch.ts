/**
 * Facets take batches only (contract.ts). A vendor whose API writes one record per call uses
 * oneByOne() to offer the batch form: the items go one call each, at most `concurrency` at once
 * (a vendor's burst limit counts parallel calls too), results in the order of the items.
 */

/** How many single calls one batch runs at once unless the connector says otherwise. */
export const DEFAULT_CONCURRENCY = 4;

export interface OneByOneOptions<I> {
  /** Calls in flight at once (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /**
   * Items with the same key (the same remote record) run one after another, in the batch's order,
   * so an opt-out then an opt-in of one contact ends opted in and a status never overtakes an
   * earlier one; items of different keys still run side by side.
   */
  key?: (item: I) => string;
}

/**
 * The batch form of `each`. The first failure rejects the batch (the calls already in flight
 * finish first); the core then retries it, or takes its items one batch of one at a time when it
 * must set only the bad one aside — so `each` must be idempotent, as every facet call is.
 */
export function oneByOne<I, R>(each: (item: I) => Promise<R>, options: OneByOneOptions<I> = {}): (items: I[]) => Promise<R[]> {
  const { key } = options;
  if (key) return inOrderPerKey(key, each, options.concurrency);
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

function inOrderPerKey<I, R>(key: (item: I) => string, each: (item: I) => Promise<R>, concurrency?: number): (items: I[]) => Promise<R[]> {
  return async (items) => {
    const groups = new Map<string, number[]>();
    items.forEach((item, i) => groups.set(key(item), [...(groups.get(key(item)) ?? []), i]));
    const results = new Array<R>(items.length);
    await oneByOne(
      async (group: number[]) => {
        for (const i of group) results[i] = await each(items[i]);
      },
      { concurrency },
    )([...groups.values()]);
    return results;
  };
}
