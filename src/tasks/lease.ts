/**
 * Leases held by this process while work runs: an outbox task's claim, a connection's drain.
 * A lease is short (TASK_LEASE_MS) so a dead worker's work is taken over within seconds, and a
 * heartbeat renews it while the work runs, so work may last longer than the lease.
 */

/** Thrown (or used as the abort reason) when a lease stopped being ours. */
export class LeaseLostError extends Error {
  constructor(message = 'the lease was lost') {
    super(message);
    this.name = 'LeaseLostError';
  }
}

/**
 * Renews a lease every third of its length while work runs. The first renewal that fails,
 * finds the lease gone, or does not answer before the lease would run out ends it: `signal`
 * aborts, and the holder must stop writing as if the work were its own (the database may be
 * gone, or another worker has taken over). `held` also turns false once the lease's time is up
 * as seen from here, measured from when the last successful renewal was sent (never later
 * than Postgres's own expiry).
 */
export class LeaseHeartbeat {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private until: number;

  /**
   * @param renew extends the lease by `leaseMs`; false when it is no longer ours.
   * @param acquiredAtMs when the request that took the lease was sent.
   */
  constructor(
    private readonly renew: () => Promise<boolean>,
    private readonly leaseMs: number,
    acquiredAtMs: number,
  ) {
    this.until = acquiredAtMs + leaseMs;
    this.schedule();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get held(): boolean {
    return !this.controller.signal.aborted && Date.now() < this.until;
  }

  /** Local time (epoch ms) until which the lease is surely still ours in Postgres. */
  get heldUntil(): number {
    return this.until;
  }

  /** The work is over: no more renewals (the holder releases the lease itself). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped || this.controller.signal.aborted) return;
    this.timer = setTimeout(() => void this.beat(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const sentAt = Date.now();
    // A renewal that hangs (a network partition, not a refused connection) must not let us
    // believe we hold the lease after Postgres let it go.
    const deadline = setTimeout(() => this.lose('the lease could not be renewed before it ran out'), Math.max(0, this.until - sentAt));
    deadline.unref();
    try {
      if (await this.renew()) this.until = sentAt + this.leaseMs;
      else this.lose('the lease was taken over or released');
    } catch (error) {
      this.lose(`the lease could not be renewed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(deadline);
    }
    this.schedule();
  }

  private lose(reason: string): void {
    if (this.stopped || this.controller.signal.aborted) return;
    this.until = Math.min(this.until, Date.now());
    this.controller.abort(new LeaseLostError(reason));
  }
}

/**
 * Settles `work` unless `signal` aborts first, in which case it rejects with the abort reason at
 * once: a holder that lost its lease stops waiting for a call whose answer is no longer its to
 * record. The abandoned call still runs to its end; its failure is ignored.
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Gives a lease back: one attempt now (resolves true when it worked), then, while the database
 * does not answer, again every second in the background until `untilMs`, after which the lease
 * has run out in Postgres and the sweeper finds the work anyway. Releasing as soon as the
 * database returns is what makes a short outage cost seconds rather than a whole lease. Never throws.
 */
export async function releaseWhenPossible(release: () => Promise<unknown>, untilMs: number, onGiveUp?: (error: unknown) => void): Promise<boolean> {
  const attempt = async (): Promise<unknown> => {
    try {
      await release();
      return undefined;
    } catch (error) {
      return error ?? new Error('release failed');
    }
  };
  let error = await attempt();
  if (error === undefined) return true;
  void (async () => {
    while (Date.now() + RELEASE_RETRY_MS < untilMs) {
      await new Promise((r) => setTimeout(r, RELEASE_RETRY_MS).unref());
      error = await attempt();
      if (error === undefined) return;
    }
    onGiveUp?.(error);
  })();
  return false;
}

const RELEASE_RETRY_MS = 1000;
