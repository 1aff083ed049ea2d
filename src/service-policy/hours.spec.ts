import { describe, expect, it } from '@jest/globals';
import { compileHours, describeNextOpen, hoursProblems, HoursSpec, InvalidHoursError, renderTemplate } from './hours';

// Instants are written with their real UTC offset, so each expectation states the local time AND
// which side of a DST change it is on, independent of the code under test.
const at = (iso: string) => new Date(iso);
const H = 3600_000;

// 2026-01-05 is a Monday. Warsaw is +01:00 in winter, +02:00 in summer.
const WARSAW = 'Europe/Warsaw';
const weekdays9to5 = ['09:00-17:00'];
const office: HoursSpec = {
  timeZone: WARSAW,
  hours: { mon: weekdays9to5, tue: weekdays9to5, wed: weekdays9to5, thu: weekdays9to5, fri: weekdays9to5, sat: ['10:00-14:00'] },
};
const allDay = ['00:00-24:00'];
const always = (timeZone: string): HoursSpec => ({
  timeZone,
  hours: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
});

describe('isOpen', () => {
  const split: HoursSpec = { timeZone: WARSAW, hours: { mon: ['09:00-12:00', '13:00-17:00'] } };
  const overlapping: HoursSpec = { timeZone: WARSAW, hours: { mon: ['09:00-12:00', '11:00-14:00'] } };
  const overnight: HoursSpec = { timeZone: WARSAW, hours: { fri: ['22:00-02:00'], sun: ['20:00-04:00'] } };
  const holiday: HoursSpec = { ...office, closedDates: ['2026-01-06'] };
  const overnightIntoHoliday: HoursSpec = { timeZone: WARSAW, hours: { mon: ['20:00-02:00'], tue: ['20:00-02:00'] }, closedDates: ['2026-01-06'] };
  const sundayException: HoursSpec = { ...office, openDates: [{ date: '2026-01-11', hours: ['10:00-12:00'] }] };
  const sundayAllDay: HoursSpec = { ...office, openDates: ['2026-01-11'] };
  const openBeatsClosed: HoursSpec = { ...office, closedDates: ['2026-01-06'], openDates: [{ date: '2026-01-06', hours: ['12:00-13:00'] }] };

  it.each([
    ['office', '2026-01-05T08:59+01:00', false, office],
    ['office', '2026-01-05T09:00+01:00', true, office], // start inclusive
    ['office', '2026-01-05T16:59:59.999+01:00', true, office],
    ['office', '2026-01-05T17:00+01:00', false, office], // end exclusive
    ['office', '2026-01-10T10:00+01:00', true, office], // Saturday
    ['office', '2026-01-10T14:00+01:00', false, office],
    ['office', '2026-01-11T12:00+01:00', false, office], // Sunday: no hours
    ['office (UTC instant)', '2026-01-05T08:00Z', true, office], // 09:00 in Warsaw
    ['two ranges', '2026-01-05T11:59+01:00', true, split],
    ['two ranges', '2026-01-05T12:00+01:00', false, split],
    ['two ranges', '2026-01-05T13:00+01:00', true, split],
    ['overlapping ranges', '2026-01-05T13:30+01:00', true, overlapping],
    ['overnight', '2026-01-09T21:59+01:00', false, overnight],
    ['overnight', '2026-01-09T23:00+01:00', true, overnight],
    ['overnight, after midnight', '2026-01-10T01:59+01:00', true, overnight],
    ['overnight, its end', '2026-01-10T02:00+01:00', false, overnight],
    ['overnight Sunday → Monday', '2026-01-12T03:00+01:00', true, overnight],
    ['overnight Sunday → Monday, its end', '2026-01-12T04:00+01:00', false, overnight],
    ['every day all day', '2026-03-29T02:30Z', true, always(WARSAW)],
    ['holiday', '2026-01-06T10:00+01:00', false, holiday],
    ['holiday, the day after', '2026-01-07T10:00+01:00', true, holiday],
    ['holiday, last night runs into it', '2026-01-06T01:00+01:00', true, overnightIntoHoliday],
    ['holiday, its own night does not open', '2026-01-06T21:00+01:00', false, overnightIntoHoliday],
    ['holiday, its own night, after midnight', '2026-01-07T01:00+01:00', false, overnightIntoHoliday],
    ['Sunday exception', '2026-01-11T10:30+01:00', true, sundayException],
    ['Sunday exception, its end', '2026-01-11T12:00+01:00', false, sundayException],
    ['Sunday exception, next Sunday', '2026-01-18T10:30+01:00', false, sundayException],
    ['bare open date = all day', '2026-01-11T23:30+01:00', true, sundayAllDay],
    ['open date beats closed date', '2026-01-06T12:30+01:00', true, openBeatsClosed],
    ['open date replaces the weekday', '2026-01-06T10:00+01:00', false, openBeatsClosed],
  ])('%s at %s → %s', (_name, instant, open, spec) => {
    expect(compileHours(spec).isOpen(at(instant))).toBe(open);
  });
});

describe('nextOpen', () => {
  const night: HoursSpec = { timeZone: WARSAW, hours: { mon: ['22:00-24:00'], tue: ['00:00-06:00'] } };
  const onlyInJune: HoursSpec = { timeZone: WARSAW, hours: {}, openDates: ['2026-06-01'] };

  it.each([
    ['before opening', '2026-01-05T08:00+01:00', '2026-01-05T09:00+01:00', office],
    ['open now → now', '2026-01-05T10:15+01:00', '2026-01-05T10:15+01:00', office],
    ['at closing → tomorrow', '2026-01-05T17:00+01:00', '2026-01-06T09:00+01:00', office],
    ['Friday evening → Saturday', '2026-01-09T17:00+01:00', '2026-01-10T10:00+01:00', office],
    ['Saturday afternoon → Monday', '2026-01-10T14:00+01:00', '2026-01-12T09:00+01:00', office],
    ['holiday → the day after', '2026-01-05T18:00+01:00', '2026-01-07T09:00+01:00', { ...office, closedDates: ['2026-01-06'] }],
    ['midnight between two days of one period', '2026-01-06T00:00+01:00', '2026-01-06T00:00+01:00', night],
    ['always open → now', '2026-07-01T12:34:56Z', '2026-07-01T12:34:56Z', always(WARSAW)],
    ['months ahead', '2026-01-05T12:00+01:00', '2026-06-01T00:00+02:00', onlyInJune],
  ])('%s: %s → %s', (_name, from, expected, spec) => {
    expect(compileHours(spec).nextOpen(at(from))).toEqual(at(expected));
  });

  it.each([
    ['never open', { timeZone: WARSAW, hours: {} }, '2026-01-05T12:00+01:00'],
    ['open more than 400 days ahead', onlyInJune, '2025-01-05T12:00+01:00'],
  ])('%s → null', (_name, spec, from) => {
    expect(compileHours(spec).nextOpen(at(from))).toBeNull();
  });
});

describe('closedSince', () => {
  const hours = compileHours(office);

  it.each([
    ['at the close itself', '2026-01-05T17:00+01:00', '2026-01-05T17:00+01:00', []],
    ['Monday evening', '2026-01-05T20:00+01:00', '2026-01-05T17:00+01:00', []],
    ['Tuesday before opening', '2026-01-06T08:59+01:00', '2026-01-05T17:00+01:00', []],
    ['Saturday afternoon', '2026-01-10T15:00+01:00', '2026-01-10T14:00+01:00', []],
    ['Sunday', '2026-01-11T12:00+01:00', '2026-01-10T14:00+01:00', []],
    ['Monday before opening', '2026-01-12T08:00+01:00', '2026-01-10T14:00+01:00', []],
    ['a long weekend with a holiday Monday', '2026-01-13T08:00+01:00', '2026-01-10T14:00+01:00', ['2026-01-12']],
  ])('%s (%s) → %s', (_name, instant, expected, closedDates: string[]) => {
    expect(compileHours({ ...office, closedDates }).closedSince(at(instant))).toEqual(at(expected));
  });

  it('is the same for every instant of one closed period and differs between two', () => {
    const weekend = ['2026-01-10T14:00+01:00', '2026-01-11T00:00+01:00', '2026-01-12T08:59+01:00'].map((t) => hours.closedSince(at(t))?.getTime());
    expect(new Set(weekend).size).toBe(1);
    const monday = hours.closedSince(at('2026-01-12T20:00+01:00'));
    expect(monday?.getTime()).not.toBe(weekend[0]);
  });

  it('treats 22:00-24:00 Monday and 00:00-06:00 Tuesday as one period', () => {
    const night = compileHours({ timeZone: WARSAW, hours: { mon: ['22:00-24:00'], tue: ['00:00-06:00'] } });
    expect(night.closedSince(at('2026-01-06T00:00+01:00'))).toBeNull();
    expect(night.closedSince(at('2026-01-06T07:00+01:00'))).toEqual(at('2026-01-06T06:00+01:00'));
  });

  it('takes the later end when last night\'s range outlasts today\'s', () => {
    const hoursOf = compileHours({ timeZone: WARSAW, hours: { mon: ['20:00-05:00'], tue: ['01:00-02:00'] } });
    expect(hoursOf.closedSince(at('2026-01-06T06:00+01:00'))).toEqual(at('2026-01-06T05:00+01:00'));
  });

  it('is null while open', () => {
    expect(hours.closedSince(at('2026-01-05T12:00+01:00'))).toBeNull();
    expect(compileHours(always(WARSAW)).closedSince(at('2026-01-05T12:00+01:00'))).toBeNull();
  });

  it('is one stable key (the epoch) when never open in the 400 days before', () => {
    const never = compileHours({ timeZone: WARSAW, hours: {} });
    expect(never.closedSince(at('2026-01-05T12:00Z'))).toEqual(new Date(0));
    expect(never.closedSince(at('2026-09-05T12:00Z'))).toEqual(new Date(0));
  });
});

describe('businessMs', () => {
  const weekdaysOnly: HoursSpec = { timeZone: WARSAW, hours: { mon: weekdays9to5, tue: weekdays9to5, wed: weekdays9to5, thu: weekdays9to5, fri: weekdays9to5 } };

  it.each([
    // Fri 16:00-17:00 (1 h) + Mon 09:00-10:00 (1 h)
    ['Fri 16:00 → Mon 10:00', weekdaysOnly, '2026-01-09T16:00+01:00', '2026-01-12T10:00+01:00', 2 * H],
    ['one working day', weekdaysOnly, '2026-01-05T09:00+01:00', '2026-01-05T17:00+01:00', 8 * H],
    ['24 h from before opening', weekdaysOnly, '2026-01-05T08:00+01:00', '2026-01-06T08:00+01:00', 8 * H],
    ['a week: 5 × 8 h', weekdaysOnly, '2026-01-05T00:00+01:00', '2026-01-12T00:00+01:00', 40 * H],
    // 2026 starts on a Thursday: 52 weeks + 1 Thursday = 261 weekdays
    ['the year 2026: 261 × 8 h', weekdaysOnly, '2026-01-01T00:00+01:00', '2027-01-01T00:00+01:00', 261 * 8 * H],
    // DST changes cancel out over a year
    ['the year 2026 always open: 365 × 24 h', always(WARSAW), '2026-01-01T00:00+01:00', '2027-01-01T00:00+01:00', 365 * 24 * H],
    ['inside one range', weekdaysOnly, '2026-01-05T10:00+01:00', '2026-01-05T10:30+01:00', 0.5 * H],
    ['closed all along', weekdaysOnly, '2026-01-05T17:00+01:00', '2026-01-06T09:00+01:00', 0],
    ['to before from', weekdaysOnly, '2026-01-06T10:00+01:00', '2026-01-05T10:00+01:00', 0],
    // 09:00-14:00 once, not 09:00-12:00 + 11:00-14:00 = 6 h
    ['overlapping ranges are a union', { timeZone: WARSAW, hours: { mon: ['09:00-12:00', '11:00-14:00'] } }, '2026-01-05T08:00+01:00', '2026-01-05T15:00+01:00', 5 * H],
    // Mon 23:00-24:00 + Tue 00:00-01:00
    ['across midnight of one period', { timeZone: WARSAW, hours: { mon: ['22:00-24:00'], tue: ['00:00-06:00'] } }, '2026-01-05T23:00+01:00', '2026-01-06T01:00+01:00', 2 * H],
    ['overnight range', { timeZone: WARSAW, hours: { fri: ['22:00-02:00'] } }, '2026-01-09T00:00+01:00', '2026-01-11T00:00+01:00', 4 * H],
  ])('%s', (_name, spec, from, to, expected) => {
    expect(compileHours(spec).businessMs(at(from), at(to))).toBe(expected);
  });
});

describe('DST', () => {
  const NEW_YORK = 'America/New_York';
  const sundays = (timeZone: string, ranges: string[]): HoursSpec => ({ timeZone, hours: { sun: ranges } });

  // Warsaw: 2026-03-29 02:00 → 03:00 (+01 → +02); 2026-10-25 03:00 → 02:00 (+02 → +01).
  // New York: 2026-03-08 02:00 → 03:00 (-05 → -04); 2026-11-01 02:00 → 01:00 (-04 → -05).
  describe.each([
    [WARSAW, 'spring', '2026-03-28T12:00+01:00', '2026-03-31T12:00+02:00', 23],
    [WARSAW, 'autumn', '2026-10-24T12:00+02:00', '2026-10-27T12:00+01:00', 25],
    [NEW_YORK, 'spring', '2026-03-07T12:00-05:00', '2026-03-10T12:00-04:00', 23],
    [NEW_YORK, 'autumn', '2026-10-31T12:00-04:00', '2026-11-03T12:00-05:00', 25],
  ])('%s, %s', (zone, _season, saturday, tuesday, sundayHours) => {
    it(`an all-day Sunday lasts ${sundayHours} h`, () => {
      expect(compileHours(sundays(zone, allDay)).businessMs(at(saturday), at(tuesday))).toBe(sundayHours * H);
    });

    it('an always-open policy counts real elapsed time', () => {
      const elapsed = at(tuesday).getTime() - at(saturday).getTime();
      expect(elapsed).toBe((72 - 24 + sundayHours) * H);
      expect(compileHours(always(zone)).businessMs(at(saturday), at(tuesday))).toBe(elapsed);
    });
  });

  it.each([
    // 01:00+01 → 04:00+02 is 2 h of real time
    ['Warsaw spring: 01:00-04:00 lasts 2 h', sundays(WARSAW, ['01:00-04:00']), '2026-03-29T00:00+01:00', '2026-03-29T12:00+02:00', 2 * H],
    // 01:00+02 → 04:00+01 is 4 h
    ['Warsaw autumn: 01:00-04:00 lasts 4 h', sundays(WARSAW, ['01:00-04:00']), '2026-10-25T00:00+02:00', '2026-10-25T12:00+01:00', 4 * H],
    ['New York spring: 01:00-04:00 lasts 2 h', sundays(NEW_YORK, ['01:00-04:00']), '2026-03-08T00:00-05:00', '2026-03-08T12:00-04:00', 2 * H],
    ['New York autumn: 00:00-03:00 lasts 4 h', sundays(NEW_YORK, ['00:00-03:00']), '2026-11-01T00:00-04:00', '2026-11-01T12:00-05:00', 4 * H],
  ])('%s', (_name, spec, from, to, expected) => {
    expect(compileHours(spec).businessMs(at(from), at(to))).toBe(expected);
  });

  it.each([
    ['Warsaw spring: opens at the local 09:00 of summer time', sundays(WARSAW, weekdays9to5), '2026-03-28T12:00+01:00', '2026-03-29T09:00+02:00'],
    ['Warsaw autumn: opens at the local 09:00 of winter time', sundays(WARSAW, weekdays9to5), '2026-10-24T12:00+02:00', '2026-10-25T09:00+01:00'],
    ['New York spring: Monday 09:00 EDT', { ...office, timeZone: NEW_YORK }, '2026-03-07T15:00-05:00', '2026-03-09T09:00-04:00'],
    ['New York autumn: Monday 09:00 EST', { ...office, timeZone: NEW_YORK }, '2026-10-31T15:00-04:00', '2026-11-02T09:00-05:00'],
    // Chosen behaviour: a skipped local time moves forward by the gap, as Luxon does (02:30 → 03:30)
    ['Warsaw spring: a skipped start moves forward by the gap', sundays(WARSAW, ['02:30-05:00']), '2026-03-28T12:00+01:00', '2026-03-29T03:30+02:00'],
    // Chosen behaviour: a repeated local time is the later one, as Luxon does
    ['Warsaw autumn: a repeated start is the later one', sundays(WARSAW, ['02:30-05:00']), '2026-10-24T12:00+02:00', '2026-10-25T02:30+01:00'],
  ])('nextOpen — %s', (_name, spec, from, expected) => {
    expect(compileHours(spec).nextOpen(at(from))).toEqual(at(expected));
  });

  it.each([
    ['Warsaw spring, 03:00 summer time', '2026-03-29T03:00+02:00', true, sundays(WARSAW, ['01:00-04:00'])],
    ['Warsaw spring, 04:00 summer time', '2026-03-29T04:00+02:00', false, sundays(WARSAW, ['01:00-04:00'])],
    ['Warsaw autumn, first 02:30', '2026-10-25T02:30+02:00', true, sundays(WARSAW, ['01:00-04:00'])],
    ['Warsaw autumn, second 02:30', '2026-10-25T02:30+01:00', true, sundays(WARSAW, ['01:00-04:00'])],
    ['Warsaw autumn, 03:30 winter time', '2026-10-25T03:30+01:00', true, sundays(WARSAW, ['01:00-04:00'])],
    ['New York spring, 03:30 EDT', '2026-03-08T03:30-04:00', true, sundays(NEW_YORK, ['01:00-04:00'])],
    ['New York autumn, second 01:30', '2026-11-01T01:30-05:00', true, sundays(NEW_YORK, ['00:00-03:00'])],
    ['New York autumn, 03:00 EST', '2026-11-01T03:00-05:00', false, sundays(NEW_YORK, ['00:00-03:00'])],
  ])('isOpen — %s at %s → %s', (_name, instant, open, spec) => {
    expect(compileHours(spec).isOpen(at(instant))).toBe(open);
  });
});

describe('hoursProblems', () => {
  it('finds none in a valid spec', () => {
    expect(hoursProblems({ ...office, closedDates: ['2026-12-24'], openDates: ['2026-12-27', { date: '2026-12-28', hours: ['22:00-02:00'] }] })).toEqual([]);
  });

  it.each<[string, Partial<HoursSpec>, string]>([
    ['bad zone', { timeZone: 'Mars/Olympus' }, 'timeZone "Mars/Olympus" is not an IANA time zone (e.g. "Europe/Warsaw")'],
    ['empty zone', { timeZone: '' }, 'timeZone "" is not an IANA time zone (e.g. "Europe/Warsaw")'],
    ['not a range', { hours: { mon: ['9-17'] } }, 'hours.mon[0] "9-17": not HH:MM-HH:MM'],
    ['start equals end', { hours: { tue: ['09:00-17:00', '09:00-09:00'] } }, 'hours.tue[1] "09:00-09:00": start and end are the same (use 00:00-24:00 for all day)'],
    ['start at 24:00', { hours: { wed: ['24:00-02:00'] } }, 'hours.wed[0] "24:00-02:00": the start is not a time 00:00-23:59'],
    ['minute 60', { hours: { thu: ['09:60-10:00'] } }, 'hours.thu[0] "09:60-10:00": the start is not a time 00:00-23:59'],
    ['end past 24:00', { hours: { fri: ['09:00-24:30'] } }, 'hours.fri[0] "09:00-24:30": the end is not a time 00:00-24:00'],
    ['unknown day', { hours: { funday: ['09:00-10:00'] } as HoursSpec['hours'] }, 'hours.funday is not a weekday (use mon, tue, wed, thu, fri, sat, sun)'],
    ['bad closed date', { closedDates: ['2026-02-30'] }, 'closedDates[0] "2026-02-30" is not a date (YYYY-MM-DD)'],
    ['short closed date', { closedDates: ['2026-1-5'] }, 'closedDates[0] "2026-1-5" is not a date (YYYY-MM-DD)'],
    ['bad open date', { openDates: [{ date: '2026-13-01', hours: allDay }] }, 'openDates[0] "2026-13-01" is not a date (YYYY-MM-DD)'],
    ['bad open-date range', { openDates: [{ date: '2026-01-11', hours: ['10-12'] }] }, 'openDates[0].hours[0] "10-12": not HH:MM-HH:MM'],
    ['open date twice', { openDates: ['2026-01-11', { date: '2026-01-11', hours: ['10:00-12:00'] }] }, 'openDates[1]: 2026-01-11 is listed twice'],
  ])('%s', (_name, change, problem) => {
    expect(hoursProblems({ ...office, ...change })).toEqual([problem]);
  });

  it('lists every problem at once, and compileHours throws them', () => {
    const spec: HoursSpec = { timeZone: 'Nowhere', hours: { mon: ['09:00-09:00'] }, closedDates: ['soon'] };
    expect(hoursProblems(spec)).toHaveLength(3);
    expect(() => compileHours(spec)).toThrow(InvalidHoursError);
    try {
      compileHours(spec);
    } catch (error) {
      expect((error as InvalidHoursError).problems).toEqual(hoursProblems(spec));
    }
  });
});

describe('describeNextOpen', () => {
  const monday8 = at('2026-01-05T08:00+01:00');

  it.each([
    ['later today', '2026-01-05T09:00+01:00', 'en', 'Monday 09:00'],
    ['later today', '2026-01-05T09:00+01:00', 'pl', 'poniedziałek 09:00'],
    ['later today', '2026-01-05T09:00+01:00', 'de', 'Montag 09:00'],
    ['tomorrow', '2026-01-06T13:30+01:00', 'pl', 'wtorek 13:30'],
    ['6 days ahead', '2026-01-11T10:00+01:00', 'en', 'Sunday 10:00'],
    ['7 days ahead', '2026-01-12T09:00+01:00', 'en', 'Monday, January 12 09:00'],
    ['7 days ahead', '2026-01-12T09:00+01:00', 'pl', 'poniedziałek, 12 stycznia 09:00'],
    ['7 days ahead', '2026-01-12T09:00+01:00', 'de', 'Montag, 12. Januar 09:00'],
    ['a regional locale', '2026-01-12T09:00+01:00', 'en-GB', 'Monday 12 January 09:00'],
    ['in the policy zone, not UTC', '2026-01-05T23:30Z', 'en', 'Tuesday 00:30'],
    ['a malformed locale falls back to en', '2026-01-05T09:00+01:00', '!!', 'Monday 09:00'],
    ['an unknown locale falls back to en', '2026-01-05T09:00+01:00', 'xx', 'Monday 09:00'],
  ])('%s (%s, %s) → %s', (_name, next, locale, expected) => {
    expect(describeNextOpen(monday8, at(next), WARSAW, locale)).toBe(expected);
  });
});

describe('renderTemplate', () => {
  it.each([
    ['We are closed. We open {{nextOpen}}.', { nextOpen: 'Monday 09:00' }, 'We are closed. We open Monday 09:00.'],
    ['{{ nextOpen }} / {{nextOpen}}', { nextOpen: 'Mon' }, 'Mon / Mon'],
    ['Hi {{name}}, {{unknown}} stays', { name: 'Ada' }, 'Hi Ada, {{unknown}} stays'],
    ['{{constructor}} is not a value', {}, '{{constructor}} is not a value'],
    ['{{price}}', { price: '$& 5' }, '$& 5'], // no replacement patterns in values
    ['no placeholders', { a: 'b' }, 'no placeholders'],
  ])('%j', (text, values: Record<string, string>, expected) => {
    expect(renderTemplate(text, values)).toBe(expected);
  });
});
