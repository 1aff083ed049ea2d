import { describe, expect, it } from '@jest/globals';
import { checkPolicy, normaliseWords, pickText } from './policy-document';
import { ticketRoutingOf } from './routing';

const CONNECTION = '6f1c1b7e-4a43-4d9c-9c39-0c5d1c6f7a11';
const known = new Set([CONNECTION]);
const valid = {
  timeZone: 'Europe/Warsaw',
  hours: { mon: ['09:00-17:00'], sat: [] },
  awayMessage: { en: 'Back {{nextOpen}}', pl: 'Wracamy {{nextOpen}}' },
  triage: { prompt: 'How can we help?', options: [{ key: '1', label: 'Returns', route: 'returns' }] },
  routing: { returns: { connections: [CONNECTION], ticket: { group: 'Returns', priority: 'high', tags: ['returns'] } }, support: {} },
  rules: [{ route: 'support', hours: 'closed' }],
  defaultRoute: 'support',
};

describe('checkPolicy', () => {
  it('accepts a whole policy and returns a copy of it', () => {
    const checked = checkPolicy(valid, known);
    expect(checked.problems).toEqual([]);
    expect(checked.policy).toEqual(valid);
    expect(checked.policy).not.toBe(valid);
  });

  it.each([
    ['not an object', [], 'the policy must be a JSON object'],
    ['an unknown field', { ...valid, colour: 'red' }, 'colour is not a field of the policy'],
    ['a bad time zone', { ...valid, timeZone: 'Mars/Olympus' }, 'Mars/Olympus'],
    ['a day that is no weekday', { ...valid, hours: { funday: [] } }, 'hours.funday is not a weekday'],
    ['a route nobody defines', { ...valid, defaultRoute: 'nowhere' }, 'defaultRoute names the route nowhere, which routing does not define'],
    ['an unknown connection', { ...valid, routing: { ...valid.routing, returns: { connections: ['00000000-0000-4000-8000-000000000000'] } } }, 'which is not a connection'],
    ['a bad priority', { ...valid, routing: { ...valid.routing, returns: { ticket: { priority: 'asap' } } } }, 'priority must be one of low, normal, high, urgent'],
    ['a tag with a space', { ...valid, routing: { ...valid.routing, returns: { ticket: { tags: ['two words'] } } } }, 'tags must be a list of tags'],
    ['repeated option keys', { ...valid, triage: { ...valid.triage, options: [valid.triage.options[0], valid.triage.options[0]] } }, 'triage.options[1].key repeats 1'],
    ['triage with nowhere to hand over', { ...valid, defaultRoute: undefined }, 'triage needs humanRoute or defaultRoute'],
    ['a rule without conditions', { ...valid, rules: [{ route: 'support' }] }, 'rules[0] needs at least one condition'],
    ['an empty away message', { ...valid, awayMessage: '' }, 'awayMessage must be a text'],
    ['a time-out of zero', { ...valid, triage: { ...valid.triage, timeoutMinutes: 0 } }, 'triage.timeoutMinutes must be a whole number'],
  ])('refuses %s', (_case, input, problem) => {
    const checked = checkPolicy(input, known);
    expect(checked.policy).toBeUndefined();
    expect(checked.problems.join('\n')).toContain(problem);
  });
});

describe('texts and words', () => {
  it('picks the text of a language, its base language, the policy language, else the first', () => {
    const text = { en: 'Hello', pt: 'Olá', pl: 'Cześć' };
    expect(pickText(text, 'pl', 'en')).toBe('Cześć');
    expect(pickText(text, 'pt-BR', 'en')).toBe('Olá');
    expect(pickText(text, 'fr', 'en')).toBe('Hello');
    expect(pickText({ de: 'Hallo' }, 'fr', 'en')).toBe('Hallo');
    expect(pickText('Hi', 'fr', 'en')).toBe('Hi');
  });

  it('compares words without case, accents or punctuation', () => {
    expect(normaliseWords('  Człowiek, PROSZĘ!! ')).toBe('czlowiek prosze');
    expect(normaliseWords('2.')).toBe('2');
  });
});

describe('ticketRoutingOf', () => {
  it("carries the route's fields and takes the other routes' tags off", () => {
    const policy = checkPolicy(
      { ...valid, routing: { returns: { ticket: { group: 'Returns', tags: ['returns', 'vip'] } }, orders: { ticket: { tags: ['orders', 'vip'] } }, support: {} } },
      known,
    ).policy!;
    expect(ticketRoutingOf(policy, 'returns')).toEqual({ group: 'Returns', tags: ['returns', 'vip'], removeTags: ['orders'] });
    expect(ticketRoutingOf(policy, 'support')).toEqual({ removeTags: ['orders', 'returns', 'vip'] });
    expect(ticketRoutingOf({ timeZone: 'UTC', hours: {} }, 'any')).toBeNull();
  });
});
