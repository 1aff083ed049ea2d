import { describe, expect, it } from '@jest/globals';
import { compileHours } from './hours';
import { median, p90, ReportConversation, ReportOptions, serviceReport, ServiceReportGroup } from './service-report';

const nineToFive = ['09:00-17:00'];
const office = compileHours({
  timeZone: 'Europe/Warsaw',
  hours: { mon: nineToFive, tue: nineToFive, wed: nineToFive, thu: nineToFive, fri: nineToFive },
});

// All times are Warsaw winter time (+01:00); 2026-01-05 is a Monday.
const t = (local: string) => new Date(`2026-01-${local}+01:00`);

function conversation(overrides: Partial<ReportConversation> & Pick<ReportConversation, 'id' | 'openedAt'>): ReportConversation {
  return {
    phoneNumberId: 'pn-a', route: null, connectionId: null, handoffAt: null, firstResponseAt: null,
    resolvedAt: null, humanReplies: 0, triagePath: [], ...overrides,
  };
}

function options(overrides: Partial<ReportOptions> = {}): ReportOptions {
  return {
    groupBy: 'number',
    // pn-a has the office's hours; pn-b has none
    hoursFor: (phoneNumberId) => (phoneNumberId === 'pn-a' ? office : null),
    timeZone: 'Europe/Warsaw',
    asOf: t('07T13:00'),
    ...overrides,
  };
}

// The seeded week. FRT counts from handoffAt when triage ran, else from openedAt.
const rows: ReportConversation[] = [
  // FRT 10 min = 600 s (business 600); resolution 2 h = 7200 s (business 7200)
  conversation({ id: 'c1', route: 'sales', connectionId: 'crm-1', openedAt: t('05T10:00'), firstResponseAt: t('05T10:10'), resolvedAt: t('05T12:00'), humanReplies: 3 }),
  // FRT Mon 16:40 → Tue 09:20 = 16 h 40 min = 60000 s; business 20 + 20 min = 2400 s
  // resolution Mon 16:30 → Tue 10:30 = 18 h = 64800 s; business 30 + 90 min = 7200 s
  conversation({ id: 'c2', route: 'support', connectionId: 'crm-2', openedAt: t('05T16:30'), handoffAt: t('05T16:40'), firstResponseAt: t('06T09:20'), resolvedAt: t('06T10:30'), humanReplies: 2, triagePath: ['menu', 'option:support', 'human'] }),
  // FRT Fri 18:05 → Mon 09:30 = 63 h 25 min = 228300 s; business Mon 09:00-09:30 = 1800 s
  conversation({ id: 'c3', route: 'sales', connectionId: 'crm-1', openedAt: t('09T18:00'), handoffAt: t('09T18:05'), firstResponseAt: t('12T09:30'), humanReplies: 1, triagePath: ['menu', 'keyword:sales'] }),
  // unanswered, closed after a triage timeout: dropped off; resolution 30 min = 1800 s (business 1800)
  conversation({ id: 'c4', openedAt: t('06T11:00'), handoffAt: t('06T11:02'), resolvedAt: t('06T11:30'), triagePath: ['menu', 'timeout'] }),
  // pn-b (no hours): FRT 09:01 → 09:46 = 2700 s; resolution 4 h = 14400 s
  conversation({ id: 'c5', phoneNumberId: 'pn-b', route: 'support', connectionId: 'crm-2', openedAt: t('06T09:00'), handoffAt: t('06T09:01'), firstResponseAt: t('06T09:46'), resolvedAt: t('06T13:00'), humanReplies: 4, triagePath: ['human'] }),
  // pn-b, answered through the API: FRT 2 h = 7200 s; still open
  conversation({ id: 'c6', phoneNumberId: 'pn-b', route: 'sales', openedAt: t('07T08:00'), firstResponseAt: t('07T10:00'), humanReplies: 5 }),
  // unanswered, opened 30 min before asOf (Wed 13:00): too young to count against "within 1 h"
  conversation({ id: 'c7', route: 'support', openedAt: t('07T12:30'), triagePath: ['menu'] }),
  // unanswered since the handoff at 08:05: 4 h 55 min calendar, 4 h business (09:00-13:00) before asOf
  conversation({ id: 'c8', route: 'sales', openedAt: t('07T08:00'), handoffAt: t('07T08:05'), triagePath: ['menu', 'option:sales', 'human'] }),
];

const byKey = (groups: ServiceReportGroup[]) => Object.fromEntries(groups.map((g) => [g.key, g]));

describe('median and p90', () => {
  it.each([
    [[], null, null],
    [[5], 5, 5],
    [[1, 2], 1.5, 2], // p90: rank ceil(1.8) = 2
    [[3, 1, 2], 2, 3], // rank ceil(2.7) = 3
    [[4, 1, 3, 2], 2.5, 4], // median (2 + 3) / 2; rank ceil(3.6) = 4
    [[10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 5.5, 9], // rank ceil(9) = 9
    [[11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 6, 10], // rank ceil(9.9) = 10
    [Array.from({ length: 20 }, (_, i) => 20 - i), 10.5, 18], // rank 18
    [[0.5, 0.25], 0.375, 0.5],
  ])('%j → median %s, p90 %s', (values, expectedMedian, expectedP90) => {
    expect(median(values)).toBe(expectedMedian);
    expect(p90(values)).toBe(expectedP90);
  });

  it('leaves the input unsorted', () => {
    const values = [3, 1, 2];
    median(values);
    p90(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('serviceReport by number', () => {
  const { 'pn-a': a, 'pn-b': b } = byKey(serviceReport(rows, options()));

  it('has one group per number, sorted', () => {
    expect(serviceReport(rows, options()).map((g) => g.key)).toEqual(['pn-a', 'pn-b']);
  });

  it('counts conversations, answered and resolved', () => {
    expect([a.conversations, a.answered, a.resolved]).toEqual([6, 3, 3]); // answered c1 c2 c3; resolved c1 c2 c4
    expect([b.conversations, b.answered, b.resolved]).toEqual([2, 2, 1]);
  });

  it('gives first-response medians and p90s, calendar and business', () => {
    // pn-a calendar [600, 60000, 228300]: median 60000, p90 rank ceil(2.7) = 3 → 228300
    // pn-a business [600, 1800, 2400]: median 1800, p90 2400
    expect(a.firstResponse).toEqual({ calendar: { median: 60000, p90: 228300 }, business: { median: 1800, p90: 2400 } });
    // pn-b calendar [2700, 7200]: median 4950, p90 rank ceil(1.8) = 2 → 7200; no hours → business null
    expect(b.firstResponse).toEqual({ calendar: { median: 4950, p90: 7200 }, business: null });
  });

  it('gives resolution medians and p90s, calendar and business', () => {
    // pn-a calendar [1800, 7200, 64800]: median 7200, p90 64800; business [1800, 7200, 7200]: 7200, 7200
    expect(a.resolution).toEqual({ calendar: { median: 7200, p90: 64800 }, business: { median: 7200, p90: 7200 } });
    expect(b.resolution).toEqual({ calendar: { median: 14400, p90: 14400 }, business: null });
  });

  it('gives the share answered within 1 h', () => {
    // pn-a calendar: c1 yes; c2, c3 late; c4, c8 unanswered for over 1 h; c7 not yet counted → 1/5
    // pn-a business: c1, c2, c3 yes (600, 2400, 1800 s); c4, c8 over 1 business hour → 3/5
    expect(a.answeredWithin1h).toEqual({ calendar: 0.2, business: 0.6 });
    // pn-b: c5 yes (2700 s), c6 late (7200 s) → 1/2; no hours → null
    expect(b.answeredWithin1h).toEqual({ calendar: 0.5, business: null });
  });

  it('gives replies per conversation', () => {
    // pn-a [3, 2, 1, 0, 0, 0]: mean 6/6 = 1, median (0 + 1) / 2 = 0.5
    expect(a.repliesPerConversation).toEqual({ mean: 1, median: 0.5 });
    expect(b.repliesPerConversation).toEqual({ mean: 4.5, median: 4.5 });
  });

  it('gives triage figures', () => {
    expect(a.triage).toEqual({
      shown: 5, // c2 c3 c4 c7 c8
      chosen: { support: 1, sales: 2 }, // c2 by option; c3 by keyword, c8 by option
      askedForHuman: { support: 1, sales: 1 }, // c2 after choosing support, c8 after sales
      timedOut: 1, // c4
      droppedOff: { timeout: 1 }, // c4: closed unanswered, last step 'timeout'
    });
    expect(b.triage).toEqual({ shown: 0, chosen: {}, askedForHuman: { start: 1 }, timedOut: 0, droppedOff: {} });
  });
});

describe('serviceReport by route', () => {
  const groups = serviceReport(rows, options({ groupBy: 'route' }));
  const { none, sales, support } = byKey(groups);

  it('keys by route, "none" when unset, sorted', () => {
    expect(groups.map((g) => [g.key, g.conversations])).toEqual([['none', 1], ['sales', 4], ['support', 3]]);
  });

  it('mixes numbers, leaving those without hours out of business figures', () => {
    // sales calendar FRT: c1 600, c3 228300, c6 7200 → sorted [600, 7200, 228300]: median 7200, p90 228300
    // sales business FRT: c1 600, c3 1800 (c6 is pn-b) → median 1200, p90 rank 2 → 1800
    expect(sales.firstResponse).toEqual({ calendar: { median: 7200, p90: 228300 }, business: { median: 1200, p90: 1800 } });
    // calendar: c1 yes; c3, c6 late; c8 unanswered over 1 h → 1/4; business: c1, c3 yes; c8 no → 2/3
    expect(sales.answeredWithin1h).toEqual({ calendar: 0.25, business: 2 / 3 });
    // support calendar FRT [2700, 60000]: median 31350, p90 60000; business c2 only: 2400
    expect(support.firstResponse).toEqual({ calendar: { median: 31350, p90: 60000 }, business: { median: 2400, p90: 2400 } });
    // support resolution c2 64800, c5 14400: median 39600; business c2 only: 7200
    expect(support.resolution).toEqual({ calendar: { median: 39600, p90: 64800 }, business: { median: 7200, p90: 7200 } });
  });

  it('reports empty percentiles, not null, for a group with hours and no answers', () => {
    expect(none.firstResponse).toEqual({ calendar: { median: null, p90: null }, business: { median: null, p90: null } });
    expect(none.answeredWithin1h).toEqual({ calendar: 0, business: 0 }); // c4: unanswered for a day
  });
});

describe('serviceReport by connection', () => {
  it('keys by the answering connection, "none" when unanswered or answered through the API', () => {
    const groups = serviceReport(rows, options({ groupBy: 'connection' }));
    expect(groups.map((g) => [g.key, g.conversations, g.answered])).toEqual([['crm-1', 2, 2], ['crm-2', 2, 2], ['none', 4, 1]]);
    // crm-2: c2 (business 2400 s) and c5 (pn-b, left out)
    expect(byKey(groups)['crm-2'].firstResponse.business).toEqual({ median: 2400, p90: 2400 });
  });
});

describe('serviceReport by day', () => {
  it('keys by the local date the conversation opened', () => {
    const groups = serviceReport(rows, options({ groupBy: 'day' }));
    expect(groups.map((g) => [g.key, g.conversations])).toEqual([['2026-01-05', 2], ['2026-01-06', 2], ['2026-01-07', 3], ['2026-01-09', 1]]);
  });

  it.each([
    ['Europe/Warsaw', '2026-01-06'],
    ['UTC', '2026-01-05'],
  ])('in %s, 23:30 UTC on the 5th is %s', (timeZone, day) => {
    const late = conversation({ id: 'late', openedAt: new Date('2026-01-05T23:30Z') });
    expect(serviceReport([late], options({ groupBy: 'day', timeZone })).map((g) => g.key)).toEqual([day]);
  });
});

describe('answered within 1 h: unanswered conversations', () => {
  const asOf = t('07T13:00');
  const unanswered = (openedAt: Date, phoneNumberId = 'pn-a') => conversation({ id: 'u', openedAt, phoneNumberId });
  const within1h = (row: ReportConversation, at = asOf) => serviceReport([row], options({ asOf: at }))[0].answeredWithin1h;

  it.each([
    ['exactly 1 h old counts against it', unanswered(t('07T12:00')), { calendar: 0, business: 0 }],
    ['59 min old is not counted yet', unanswered(t('07T12:01')), { calendar: null, business: null }],
    ['without hours, only the calendar share', unanswered(t('07T10:00'), 'pn-b'), { calendar: 0, business: null }],
  ])('%s', (_name, row, expected) => {
    expect(within1h(row)).toEqual(expected);
  });

  it('needs an hour of business time for the business share', () => {
    // opened 07:00, asOf 09:30: 2 h 30 min of calendar time, but only 30 min open (from 09:00)
    expect(within1h(unanswered(t('07T07:00')), t('07T09:30'))).toEqual({ calendar: 0, business: null });
  });

  it('counts from the handoff, not the first message', () => {
    // opened 10:00, handed over at 12:30: half an hour before asOf, so not counted yet
    const row = conversation({ id: 'h', openedAt: t('07T10:00'), handoffAt: t('07T12:30') });
    expect(within1h(row)).toEqual({ calendar: null, business: null });
  });
});

describe('first response edge cases', () => {
  it('is 0 when an agent answered during triage, before the handoff', () => {
    const row = conversation({ id: 'e', openedAt: t('05T10:00'), firstResponseAt: t('05T10:05'), handoffAt: t('05T10:20') });
    expect(serviceReport([row], options())[0].firstResponse).toEqual({ calendar: { median: 0, p90: 0 }, business: { median: 0, p90: 0 } });
  });

  it('counts an overnight wait as 0 business seconds when answered before opening', () => {
    const row = conversation({ id: 'n', openedAt: t('05T18:00'), firstResponseAt: t('06T08:30') });
    const [group] = serviceReport([row], options());
    expect(group.firstResponse).toEqual({ calendar: { median: 52200, p90: 52200 }, business: { median: 0, p90: 0 } }); // 14 h 30 min
    expect(group.answeredWithin1h).toEqual({ calendar: 0, business: 1 });
  });
});

describe('triage figures', () => {
  const closed = t('05T12:00');
  const answered = t('05T11:00');
  it.each<[string, Partial<ReportConversation>, Record<string, unknown>]>([
    ['human first', { triagePath: ['human'] }, { askedForHuman: { start: 1 } }],
    ['human from the menu', { triagePath: ['menu', 'human'] }, { shown: 1, askedForHuman: { menu: 1 } }],
    ['human after an option', { triagePath: ['menu', 'option:billing', 'human'] }, { shown: 1, chosen: { billing: 1 }, askedForHuman: { billing: 1 } }],
    ['human after a timeout', { triagePath: ['menu', 'timeout', 'human'] }, { shown: 1, timedOut: 1, askedForHuman: { timeout: 1 } }],
    ['one route chosen twice counts once', { triagePath: ['menu', 'option:sales', 'keyword:sales'] }, { shown: 1, chosen: { sales: 1 } }],
    ['dropped off at the menu', { triagePath: ['menu'], resolvedAt: closed }, { shown: 1, droppedOff: { menu: 1 } }],
    ['dropped off after a keyword', { triagePath: ['keyword:sales'], resolvedAt: closed }, { chosen: { sales: 1 }, droppedOff: { sales: 1 } }],
    ['dropped off waiting for a human', { triagePath: ['menu', 'human'], resolvedAt: closed }, { shown: 1, askedForHuman: { menu: 1 }, droppedOff: { human: 1 } }],
    ['answered, so not dropped off', { triagePath: ['menu'], resolvedAt: closed, firstResponseAt: answered }, { shown: 1 }],
    ['still open, so not dropped off', { triagePath: ['menu'] }, { shown: 1 }],
    ['no triage, so not dropped off', { resolvedAt: closed }, {}],
  ])('%s', (_name, overrides, expected) => {
    const row = conversation({ id: 'x', openedAt: t('05T10:00'), ...overrides });
    const none = { shown: 0, chosen: {}, askedForHuman: {}, timedOut: 0, droppedOff: {} };
    expect(serviceReport([row], options())[0].triage).toEqual({ ...none, ...expected });
  });
});

describe('serviceReport with no rows', () => {
  it('has no groups', () => {
    expect(serviceReport([], options())).toEqual([]);
  });
});
