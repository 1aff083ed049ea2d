import { describe, it, expect } from '@jest/globals';
import { countryOf, phoneVariants, toE164 } from './phone';

describe('toE164', () => {
  it.each([
    ['+48 601 234 567', undefined, '+48601234567'],
    ['+48-601-234-567', undefined, '+48601234567'],
    ['+48601234567', undefined, '+48601234567'],
    ['tel:+48601234567', undefined, '+48601234567'],
    ['0048601234567', undefined, '+48601234567'],
    ['00 48 601 234 567', undefined, '+48601234567'],
    ['48601234567', undefined, '+48601234567'],
    ['601234567', 'PL', '+48601234567'],
    ['601 234 567', 'PL', '+48601234567'],
    ['(650) 555-1234', 'US', '+16505551234'],
    ['650-555-1234', 'US', '+16505551234'],
    ['+1 (650) 555-1234', undefined, '+16505551234'],
    ['16505551234', undefined, '+16505551234'],
    ['07400 123456', 'GB', '+447400123456'],
    ['+44 (0)7400 123456', undefined, '+447400123456'],
    ['+49 1511 2345678', 'PL', '+4915112345678'],
    // A full international number without '+' is still read when the default country rejects it.
    ['48601234567', 'US', '+48601234567'],
  ] as const)('%s (default %s) → %s', (raw, country, expected) => {
    expect(toE164(raw, country)).toBe(expected);
  });

  it.each([[''], ['   '], ['abc'], ['12'], ['601234567'], ['+0 000'], ['1234567890123456789012']])(
    'rejects %j without a country to read it',
    (raw) => {
      expect(toE164(raw)).toBeUndefined();
    },
  );

  it('tolerates non-string input from untyped JSON', () => {
    expect(toE164(undefined as unknown as string)).toBeUndefined();
  });
});

describe('phoneVariants', () => {
  it('lists the forms a Polish mobile number is typed in', () => {
    const variants = phoneVariants('+48601234567');
    expect(variants[0]).toBe('+48601234567');
    expect(variants).toEqual(
      expect.arrayContaining([
        '+48601234567',
        '48601234567',
        '0048601234567',
        '+48 601 234 567',
        '48 601 234 567',
        '+48-601-234-567',
        '601 234 567',
        '601234567',
        '601-234-567',
        '+48 601234567',
      ]),
    );
  });

  it('lists US national punctuation', () => {
    expect(phoneVariants('+16505551234')).toEqual(
      expect.arrayContaining(['(650) 555-1234', '6505551234', '650-555-1234', '+1 650 555 1234', '+1 (650) 555-1234', '16505551234']),
    );
  });

  it('keeps the trunk prefix forms and does not glue "+44" to them', () => {
    const variants = phoneVariants('+447400123456');
    expect(variants).toEqual(expect.arrayContaining(['07400 123456', '07400123456', '7400123456', '+44 7400 123456']));
    expect(variants).not.toContain('+44 07400 123456');
  });

  it.each([['+48601234567'], ['+16505551234'], ['+447400123456'], ['+5511987654321'], ['+33612345678']])(
    'has no duplicates and every form of %s reads back to it',
    (e164) => {
      const variants = phoneVariants(e164);
      expect(new Set(variants).size).toBe(variants.length);
      const country = countryOf(e164);
      for (const v of variants) expect(toE164(v, country)).toBe(e164);
    },
  );

  it('returns nothing for something that is not a number', () => {
    expect(phoneVariants('not a phone')).toEqual([]);
    expect(phoneVariants('')).toEqual([]);
  });
});
