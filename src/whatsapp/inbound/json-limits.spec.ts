import { describe, expect, it } from '@jest/globals';
import { beyondJsonLimits, MAX_JSON_DEPTH, normaliseUnstorableText } from './json-limits';

describe('beyondJsonLimits', () => {
  it.each([
    ['a delivery of ordinary depth', JSON.stringify({ entry: [{ changes: [{ value: { messages: [{ text: { body: 'hi' } }] } }] }] }), undefined],
    ['nesting one past the limit', '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1), `nested deeper than ${MAX_JSON_DEPTH} levels`],
    ['nesting exactly at the limit', '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH), undefined],
    ['brackets inside strings', JSON.stringify({ body: '['.repeat(500) }), undefined],
    ['escaped quotes before brackets in a string', JSON.stringify({ body: '\\"' + '{'.repeat(500) + '\\\\' }), undefined],
    ['too many values', JSON.stringify(Array.from({ length: 50_001 }, () => 0)), 'more than 50000 values'],
  ])('%s', (_what, body, expected) => {
    expect(beyondJsonLimits(Buffer.from(body))).toBe(expected);
  });
});

describe('normaliseUnstorableText', () => {
  it('replaces NUL and lone surrogates (keys too), keeps paired surrogates, counts the strings changed', () => {
    const parsed = JSON.parse('{"a":"x\\u0000y","b":["\\ud800","ok \\ud83d\\ude00"],"k\\u0000":{"c":"\\udc00z"}}');
    expect(normaliseUnstorableText(parsed)).toBe(4);
    expect(parsed).toEqual({ a: 'x\ufffdy', b: ['\ufffd', 'ok 😀'], 'k\ufffd': { c: '\ufffdz' } });
  });

  it('walks 10,000 levels without recursion', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(normaliseUnstorableText(deep)).toBe(1);
  });
});
