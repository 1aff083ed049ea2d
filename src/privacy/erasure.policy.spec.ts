import { describe, expect, it } from '@jest/globals';
import { type ConnectionForErasure, erasureStatus, neverSyncedDetail, PARKED_RECHECK_MS, planForFailure, plannedReceipts } from './erasure.policy';

const hubspot: ConnectionForErasure = { id: 'c1', name: 'HubSpot sales', connectorId: 'hubspot', canErase: true };
const zendesk: ConnectionForErasure = { id: 'c2', name: 'Zendesk support', connectorId: 'zendesk', canErase: true };
const legacy: ConnectionForErasure = { id: 'c3', name: 'Old CRM', connectorId: 'legacy', canErase: false };
const never = () => 0.5;

describe('erasureStatus', () => {
  it.each([
    [['done', 'pending'], 'pending'],
    [['done', 'not_found'], 'done'],
    [['done', 'failed', 'not_found'], 'incomplete'],
    [['failed', 'pending'], 'pending'],
    [['done'], 'done'],
  ] as const)('%j → %s', (statuses, expected) => {
    expect(erasureStatus(statuses.map((status) => ({ status })))).toBe(expected);
  });
});

describe('plannedReceipts', () => {
  it('gives every connection that can erase a pending receipt, with its remote contact when linked', () => {
    const planned = plannedReceipts([hubspot, zendesk], new Map([['c1', { id: '501', type: 'contact' }]]));
    expect(planned).toEqual([
      { connection: hubspot, status: 'pending', detail: null, remote: { id: '501', type: 'contact' } },
      { connection: zendesk, status: 'pending', detail: null },
    ]);
  });

  it('lists a connection that holds the customer but cannot erase as failed, saying what to delete by hand', () => {
    const [receipt] = plannedReceipts([legacy], new Map([['c3', { id: 'u-77', type: 'user', url: 'https://crm.example/u-77' }]]));
    expect(receipt.status).toBe('failed');
    expect(receipt.detail).toBe('Old CRM cannot erase through threadbridge: delete user u-77 (https://crm.example/u-77) there by hand');
  });

  it('skips a connection that cannot erase and never held the customer', () => {
    expect(plannedReceipts([legacy], new Map())).toEqual([]);
  });
});

describe('planForFailure (the retry policy by error kind, applied to an erasure)', () => {
  it('retries a transient failure with backoff and keeps the receipt pending', () => {
    const plan = planForFailure('transient', 'HubSpot answered 503', 1, 'HubSpot sales', undefined, never);
    expect(plan).toMatchObject({ receipt: 'pending', detail: 'HubSpot sales could not be reached (HubSpot answered 503); trying again' });
    expect(plan.receipt === 'pending' && plan.retryInMs).toBeGreaterThanOrEqual(200);
    expect(plan.receipt === 'pending' && plan.retryInMs).toBeLessThanOrEqual(1000);
    expect(plan).not.toHaveProperty('pauseConnectionMs');
  });

  it("honours the vendor's Retry-After for the whole connection on rate_limited", () => {
    expect(planForFailure('rate_limited', 'slow down', 1, 'HubSpot sales', 7000, never)).toMatchObject({ receipt: 'pending', retryInMs: 7000, pauseConnectionMs: 7000 });
  });

  it('keeps the receipt pending on auth and asks for new credentials', () => {
    expect(planForFailure('auth', 'token revoked', 1, 'HubSpot sales')).toEqual({
      receipt: 'pending',
      detail: 'waiting for new credentials for HubSpot sales: token revoked',
      retryInMs: PARKED_RECHECK_MS,
      needsReauth: true,
    });
  });

  it('settles as not_found when the remote contact is gone already', () => {
    expect(planForFailure('not_found', 'no such contact', 2, 'Zendesk support')).toEqual({ receipt: 'not_found', detail: 'Zendesk support no longer holds this contact (no such contact)' });
  });

  it.each(['permanent', 'invalid_request'] as const)('fails the receipt with the reason on %s', (kind) => {
    expect(planForFailure(kind, 'forbidden for this token', 1, 'Zendesk support')).toEqual({ receipt: 'failed', detail: 'Zendesk support refused the erasure: forbidden for this token' });
  });
});

describe('neverSyncedDetail', () => {
  it('names the connection', () => {
    expect(neverSyncedDetail('Zendesk support')).toBe('no record of this customer was synced to Zendesk support');
  });
});
