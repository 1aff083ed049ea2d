import { describe, expect, it } from '@jest/globals';
import { retentionCutoff, retentionDaysOf, utcDay } from './retention.policy';

describe('retention policy', () => {
  it('cuts off exactly the given number of days before now', () => {
    expect(retentionCutoff(new Date('2026-03-31T12:00:00Z'), 30).toISOString()).toBe('2026-03-01T12:00:00.000Z');
  });

  it.each([
    [30, 30],
    ['90', 90],
    [1, 1],
    [0, undefined],
    [-5, undefined],
    [1.5, undefined],
    ['', undefined],
    ['ninety', undefined],
    [null, undefined],
    [undefined, undefined],
    [{ days: 3 }, undefined],
  ])('reads a stored retentionDays of %j as %s', (value, expected) => {
    expect(retentionDaysOf(value)).toBe(expected);
  });

  it('adds a run to its UTC day', () => {
    expect(utcDay(new Date('2026-11-21T23:59:59+00:00'))).toBe('2026-11-21');
    expect(utcDay(new Date('2026-11-22T00:30:00+02:00'))).toBe('2026-11-21');
  });
});
