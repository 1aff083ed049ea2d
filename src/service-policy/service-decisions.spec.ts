import { describe, expect, it } from '@jest/globals';
import { compileHours } from './hours';
import type { ServicePolicy } from './policy-document';
import { type ConversationServiceState, type CustomerMessage, decide, decideTimeout, INITIAL_STATE, languageFor, pickOption } from './service-decisions';

// Mon–Fri 09:00–17:00 in Warsaw. 2026-12-07 is a Monday; Warsaw is UTC+1 in December.
const HOURS = { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] };
const base: ServicePolicy = { timeZone: 'Europe/Warsaw', hours: HOURS };
const MON_10 = new Date('2026-12-07T09:00:00Z'); // 10:00 local
const MON_23 = new Date('2026-12-07T22:00:00Z'); // 23:00 local
const TUE_02 = new Date('2026-12-08T01:00:00Z'); // 02:00 local, the same closed period
const TUE_23 = new Date('2026-12-08T22:00:00Z'); // the next closed period

const message = (at: Date, text: string | null, extra: Partial<CustomerMessage> = {}): CustomerMessage => ({
  conversationId: 'c1',
  phoneNumberId: '111',
  at,
  text,
  replyId: null,
  first: false,
  ...extra,
});

const triagePolicy: ServicePolicy = {
  ...base,
  hours: { ...HOURS, sat: ['00:00-24:00'], sun: ['00:00-24:00'] },
  triage: {
    prompt: { en: 'How can we help?', pl: 'Jak możemy pomóc?' },
    options: [
      { key: '1', label: 'Order status', route: 'orders' },
      { key: '2', label: 'Returns', route: 'returns', keywords: ['refund', 'zwrot'] },
      { key: '3', label: 'Sales', route: 'sales' },
    ],
    timeoutMinutes: 5,
  },
  routing: { orders: {}, returns: {}, sales: {}, support: {} },
  rules: [{ route: 'sales', keywords: ['price'] }],
  defaultRoute: 'support',
};

function run(policy: ServicePolicy, steps: CustomerMessage[], language = 'en') {
  const hours = compileHours(policy);
  let state: ConversationServiceState = INITIAL_STATE;
  return steps.map((m) => {
    const d = decide(policy, hours, state, m, language);
    state = d.state;
    return d;
  });
}

describe('away message and greeting', () => {
  const policy: ServicePolicy = { ...base, awayMessage: { en: 'We reply from {{nextOpen}}.', pl: 'Odpowiemy od {{nextOpen}}.' }, greetingMessage: 'Hello!' };

  it.each([
    ['closed, first message', MON_23, true, ['away']],
    ['closed, later message', MON_23, false, ['away']],
    ['open, first message', MON_10, true, ['greeting']],
    ['open, later message', MON_10, false, []],
  ])('%s → %j', (_case, at, first, kinds) => {
    const [d] = run(policy, [message(at, 'Hi', { first })]);
    expect(d.replies.map((r) => r.kind)).toEqual(kinds);
  });

  it('keys the away message on the closed period: the same for 23:00 and 02:00, another for the next night', () => {
    const keys = run(policy, [message(MON_23, 'a'), message(TUE_02, 'b'), message(TUE_23, 'c')]).map((d) => d.replies[0].key);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[0]).toBe(`away:c1:${new Date('2026-12-07T16:00:00Z').toISOString()}`); // closed since 17:00 local
  });

  it('renders {{nextOpen}} in the customer language, with the text of that language', () => {
    const [en] = run(policy, [message(MON_23, 'Hi')]);
    const [pl] = run(policy, [message(MON_23, 'Hi')], 'pl');
    expect(en.replies[0]).toMatchObject({ text: 'We reply from Tuesday 09:00.' });
    expect(pl.replies[0]).toMatchObject({ text: 'Odpowiemy od wtorek 09:00.' });
  });

  it('picks the language by the number’s country, else the policy’s', () => {
    const p: ServicePolicy = { ...base, language: 'de', languages: { PL: 'pl' } };
    expect(languageFor(p, 'PL')).toBe('pl');
    expect(languageFor(p, 'FR')).toBe('de');
    expect(languageFor(base, undefined)).toBe('en');
  });
});

describe('routing without triage', () => {
  const policy: ServicePolicy = {
    ...base,
    routing: { sales: {}, night: {}, support: {} },
    rules: [
      { route: 'sales', keywords: ['price', 'offer'] },
      { route: 'night', hours: 'closed' },
    ],
    defaultRoute: 'support',
  };

  it.each([
    ['a keyword in the first message', MON_10, 'What is the PRICE?', 'sales'],
    ['written while closed', MON_23, 'Hello', 'night'],
    ['nothing matches', MON_10, 'Hello', 'support'],
  ])('%s → %s', (_case, at, text, route) => {
    const [d] = run(policy, [message(at, text, { first: true })]);
    expect(d.route).toEqual({ name: route, handoff: false });
  });

  it('routes only on the first message', () => {
    const [, second] = run(policy, [message(MON_10, 'Hello', { first: true }), message(MON_10, 'price?')]);
    expect(second.route).toBeUndefined();
  });
});

describe('triage', () => {
  const SAT = new Date('2026-12-12T10:00:00Z');
  const at = (minutes: number) => new Date(SAT.getTime() + minutes * 60_000);

  it.each([
    ['a number', '2', 'option:returns', 'returns'],
    ['a number with a dot', '2.', 'option:returns', 'returns'],
    ['the label', 'order status', 'option:orders', 'orders'],
    ['a keyword in a sentence', 'I want a Zwrot please', 'option:returns', 'returns'],
    ['a person, in Polish', 'KONSULTANT', 'human', 'support'],
    ['something else', 'my parcel is late', 'timeout', 'support'],
  ])('after the menu, %s (%j) → %s', (_case, answer, step, route) => {
    const [menu, answered] = run(triagePolicy, [message(at(0), 'Hi', { first: true }), message(at(1), answer)]);
    expect(menu.replies).toEqual([
      { kind: 'menu', key: 'triage-menu:c1', menu: { body: 'How can we help?', buttonLabel: undefined, options: [{ id: 'triage:1', key: '1', title: 'Order status' }, { id: 'triage:2', key: '2', title: 'Returns' }, { id: 'triage:3', key: '3', title: 'Sales' }] } },
    ]);
    expect(menu.timeoutAt).toEqual(at(5));
    expect(answered.route).toEqual({ name: route, handoff: true });
    expect(answered.state).toMatchObject({ path: ['menu', step], handoffAt: at(1) });
  });

  it('takes a tapped button or list row by its id', () => {
    const [, tapped] = run(triagePolicy, [message(at(0), 'Hi', { first: true }), message(at(1), 'Sales', { replyId: 'triage:3' })]);
    expect(tapped.state.path).toEqual(['menu', 'option:sales']);
  });

  it('skips the menu when the first message asks for a person or names a keyword rule', () => {
    const [human] = run(triagePolicy, [message(at(0), 'human please', { first: true })]);
    expect(human.replies).toEqual([]);
    expect(human.state.path).toEqual(['human']);
    const [price] = run(triagePolicy, [message(at(0), 'what is the price', { first: true })]);
    expect(price.route).toEqual({ name: 'sales', handoff: true });
    expect(price.state.path).toEqual(['keyword:sales']);
  });

  it('lets the customer ask for a person after choosing, and does nothing more once with a person', () => {
    const steps = run(triagePolicy, [message(at(0), 'Hi', { first: true }), message(at(1), '1'), message(at(2), 'thanks'), message(at(3), 'agent'), message(at(4), 'agent')]);
    expect(steps.map((s) => s.route?.name ?? null)).toEqual([null, 'orders', null, 'support', null]);
    expect(steps[4].state.path).toEqual(['menu', 'option:orders', 'human']);
  });

  it('shows the menu in the customer language', () => {
    const [menu] = run(triagePolicy, [message(at(0), 'Cześć', { first: true })], 'pl');
    expect(menu.replies[0]).toMatchObject({ menu: { body: 'Jak możemy pomóc?' } });
  });

  it('times the menu out to the default route, only when due and only while it is waiting', () => {
    const [menu] = run(triagePolicy, [message(at(0), 'Hi', { first: true })]);
    expect(decideTimeout(triagePolicy, menu.state, at(4))).toEqual({ replies: [], state: menu.state, timeoutAt: at(5) });
    expect(decideTimeout(triagePolicy, menu.state, at(6))).toMatchObject({ route: { name: 'support', handoff: true }, state: { path: ['menu', 'timeout'], handoffAt: at(5) } });
    const [, chosen] = run(triagePolicy, [message(at(0), 'Hi', { first: true }), message(at(1), '1')]);
    expect(decideTimeout(triagePolicy, chosen.state, at(6))).toBeNull();
  });

  it('does not guess between two options an answer mentions', () => {
    expect(pickOption(triagePolicy.triage!, { replyId: null }, 'returns or sales')).toBeUndefined();
  });
});
