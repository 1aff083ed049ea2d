import { describe, expect, it } from '@jest/globals';
import { AUTH_RETRY_MS, decideSendFailure, MAX_SEND_ATTEMPTS, PAIR_LIMIT_DELAY_MS } from './send-failure';

const noJitter = () => 1;

describe('decideSendFailure', () => {
  it.each([
    ['131047 re-engagement (outside the window)', { httpStatus: 400, code: 131047, message: 'Re-engagement message' }],
    ['131026 undeliverable', { httpStatus: 400, code: 131026, message: 'Message undeliverable' }],
    ['131049 marketing per-user limit', { httpStatus: 400, code: 131049, message: 'healthy ecosystem' }],
    ['100 invalid parameter (our bug)', { httpStatus: 400, code: 100, message: 'Invalid parameter' }],
    ['131008 missing parameter (our bug)', { httpStatus: 400, code: 131008, message: 'Required parameter is missing' }],
  ])('%s is permanent, with the code in the reason', (_case, failure) => {
    const decision = decideSendFailure(failure, 1, noJitter);
    expect(decision.action).toBe('permanent');
    expect(decision.reason).toContain(`#${failure.code}`);
  });

  it('131056 waits about 6 s for that recipient only', () => {
    expect(decideSendFailure({ httpStatus: 400, code: 131056, message: 'pair rate limit hit' }, 1)).toEqual({
      action: 'recipient_backoff',
      delayMs: PAIR_LIMIT_DELAY_MS,
      reason: expect.stringContaining('131056'),
    });
  });

  it.each([
    ['130429 with HTTP 429', { httpStatus: 429, code: 130429, message: 'Rate limit hit' }],
    ['130429 with HTTP 400', { httpStatus: 400, code: 130429, message: 'Rate limit hit' }],
    ['a bare 429', { httpStatus: 429, message: 'Too Many Requests' }],
    ['80007 account rate limit', { httpStatus: 400, code: 80007, message: 'rate limit' }],
  ])('%s backs off the whole business number', (_case, failure) => {
    const decision = decideSendFailure(failure, 2, noJitter);
    expect(decision.action).toBe('number_backoff');
    expect(decision.action === 'number_backoff' && decision.delayMs).toBeGreaterThanOrEqual(1000);
  });

  it('honours a Retry-After on a throughput limit', () => {
    expect(decideSendFailure({ httpStatus: 429, code: 130429, retryAfterMs: 7000, message: 'x' }, 1)).toMatchObject({ action: 'number_backoff', delayMs: 7000 });
  });

  it.each([
    ['500 with 131000', { httpStatus: 500, code: 131000, message: 'Something went wrong' }],
    ['503 without a body', { httpStatus: 503, message: 'Service Unavailable' }],
    ['a timeout (no answer)', { message: 'timeout of 15000ms exceeded' }],
  ])('%s is retried with backoff, then given up', (_case, failure) => {
    const first = decideSendFailure(failure, 1, noJitter);
    expect(first.action).toBe('retry');
    const later = decideSendFailure(failure, 5, noJitter);
    expect(later.action === 'retry' && first.action === 'retry' && later.delayMs > first.delayMs).toBe(true);
    expect(decideSendFailure(failure, MAX_SEND_ATTEMPTS, noJitter)).toMatchObject({ action: 'permanent', reason: expect.stringContaining(`after ${MAX_SEND_ATTEMPTS} attempts`) });
  });

  it.each([
    ['190 with HTTP 401', { httpStatus: 401, code: 190, message: 'Invalid OAuth access token.' }],
    ['190 with HTTP 400', { httpStatus: 400, code: 190, message: 'Error validating access token' }],
  ])('%s retries later, whatever the attempt count', (_case, failure) => {
    expect(decideSendFailure(failure, 50)).toEqual({ action: 'auth', delayMs: AUTH_RETRY_MS, reason: expect.stringContaining('190') });
  });
});
