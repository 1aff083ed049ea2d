import { describe, expect, it } from '@jest/globals';
import { decide } from './retry-policy';

describe('sync retry policy', () => {
  it('honours the vendor delay on rate limits, with a default when none was given', () => {
    expect(decide('rate_limited', '429', 1, 2000)).toEqual({ action: 'pause_connection', delayMs: 2000, reason: '429' });
    expect(decide('rate_limited', '429', 1)).toMatchObject({ action: 'pause_connection', delayMs: 10_000 });
  });

  it('backs off transient failures with full jitter that grows with consecutive failures', () => {
    const high = () => 0.999;
    expect(decide('transient', '503', 1, undefined, high)).toMatchObject({ action: 'pause_connection' });
    const first = decide('transient', '503', 1, undefined, high);
    const fifth = decide('transient', '503', 5, undefined, high);
    expect(first.action === 'pause_connection' && fifth.action === 'pause_connection' && fifth.delayMs > first.delayMs).toBe(true);
    const capped = decide('transient', '503', 50, undefined, high);
    expect(capped.action === 'pause_connection' && capped.delayMs <= 5 * 60_000).toBe(true);
    expect(decide('transient', '503', 3, undefined, () => 0)).toMatchObject({ delayMs: 200 });
  });

  it('parks the connection on auth failures, relinks on not_found, dead-letters bad requests', () => {
    expect(decide('auth', '401', 1).action).toBe('needs_reauth');
    expect(decide('not_found', 'gone', 1).action).toBe('relink');
    expect(decide('invalid_request', 'bad', 1).action).toBe('dead_letter');
    expect(decide('permanent', 'no', 1).action).toBe('dead_letter');
    expect(decide('conflict', 'busy', 1).action).toBe('pause_connection');
  });

  it('disables the connection when the remote side asks not to be called any more', () => {
    expect(decide('disabled', '410 Gone', 1)).toEqual({ action: 'disable_connection', reason: '410 Gone' });
  });
});
