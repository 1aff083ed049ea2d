import { describe, expect, it } from '@jest/globals';
import { LeaseHeartbeat, LeaseLostError, releaseWhenPossible, unlessAborted } from './lease';

const aborted = (signal: AbortSignal) => new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));

/** The heartbeat's decisions, with renewals scripted (a short lease so a renewal comes quickly). */
describe('LeaseHeartbeat', () => {
  it('renews while the work runs and stays held', async () => {
    let renewals = 0;
    const lease = new LeaseHeartbeat(async () => ++renewals > 0, 60, Date.now());
    while (renewals < 3) await new Promise((r) => setTimeout(r, 10));
    expect(lease.held).toBe(true);
    lease.stop();
  });

  it('lets go at the first renewal that fails, as when the database is gone', async () => {
    const lease = new LeaseHeartbeat(async () => Promise.reject(new Error('connect ECONNREFUSED')), 60, Date.now());
    const reason = await aborted(lease.signal);
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect((reason as Error).message).toContain('ECONNREFUSED');
    expect(lease.held).toBe(false);
  });

  it('lets go when the lease was taken over', async () => {
    const lease = new LeaseHeartbeat(async () => false, 60, Date.now());
    await aborted(lease.signal);
    expect(lease.held).toBe(false);
  });

  it('lets go when a renewal hangs past the end of the lease', async () => {
    const lease = new LeaseHeartbeat(() => new Promise<boolean>(() => undefined), 60, Date.now());
    expect(String(((await aborted(lease.signal)) as Error).message)).toContain('before it ran out');
  });
});

describe('unlessAborted', () => {
  it('stops waiting for a call once the lease is lost', async () => {
    const controller = new AbortController();
    const call = new Promise<string>((resolve) => setTimeout(() => resolve('late answer'), 10_000).unref());
    const waiting = unlessAborted(call, controller.signal);
    controller.abort(new LeaseLostError());
    await expect(waiting).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('passes the answer through while the lease holds', async () => {
    await expect(unlessAborted(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
  });
});

describe('releaseWhenPossible', () => {
  it('releases once the database answers again', async () => {
    let calls = 0;
    let released!: () => void;
    const done = new Promise<void>((r) => (released = r));
    const now = await releaseWhenPossible(async () => {
      if (++calls < 2) throw new Error('connect ECONNREFUSED');
      released();
    }, Date.now() + 10_000);
    expect(now).toBe(false);
    await done;
    expect(calls).toBe(2);
  });
});
