import { DateTime, IANAZone } from 'luxon';

/**
 * Business hours: when a business number is staffed, in its own time zone.
 *
 * Every answer is computed from the open intervals themselves — absolute instants that Luxon
 * derives from local wall-clock times, day by day around the query — so DST needs no special
 * case: on 2026-03-29 in Europe/Warsaw "00:00-24:00" is 23 h long, on 2026-10-25 it is 25 h.
 * Local times that the clock skips or repeats are resolved as Luxon resolves them:
 * - a time that does not exist (spring forward) moves forward by the gap: 02:30 → 03:30 in
 *   Warsaw on 2026-03-29, so "02:00-02:30" that day is open 03:00-03:30;
 * - a time that occurs twice (fall back) is the later of the two: 02:30 on 2026-10-25 in
 *   Warsaw is 02:30+01:00, so "00:00-02:30" that day is open 3 h 30 min of real time.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** In Luxon's order: `WEEKDAYS[dateTime.weekday - 1]`. */
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** A local date that uses its own ranges instead of its weekday's. */
export interface OpenDate {
  /** YYYY-MM-DD, local to the policy's time zone. */
  date: string;
  /** Ranges like the weekly ones; an empty list closes the date. */
  hours: string[];
}

export interface HoursSpec {
  /** IANA zone, e.g. 'Europe/Warsaw'. */
  timeZone: string;
  /**
   * "HH:MM-HH:MM" ranges per weekday, several per day; "00:00-24:00" is all day; an end before the
   * start ("22:00-02:00") runs into the next day. A missing day is closed. Overlaps are a union.
   */
  hours: Partial<Record<Weekday, string[]>>;
  /** Holidays (YYYY-MM-DD, local): no range starts that day; last night's overnight range still runs into it. */
  closedDates?: string[];
  /** Exceptions: that date uses these ranges (a bare date: all day). An open date wins over closedDates. */
  openDates?: (string | OpenDate)[];
}

export interface BusinessHours {
  readonly timeZone: string;
  /** Open at this instant (a range's start is inclusive, its end exclusive). */
  isOpen(at: Date): boolean;
  /** The next instant ≥ at when it opens (at itself if open now); null if never open within 400 days. */
  nextOpen(at: Date): Date | null;
  /**
   * When the closed period containing `at` began (the last close at or before `at`); null if open.
   * It is the same instant for every moment of one closed period, so callers use it as a
   * once-per-closed-period key. Never open in the 400 days before: the epoch, stable too.
   */
  closedSince(at: Date): Date | null;
  /** Milliseconds of open time in [from, to) (0 if to <= from). */
  businessMs(from: Date, to: Date): number;
}

/** The spec has problems; `problems` are the messages `hoursProblems` gives, for a 400. */
export class InvalidHoursError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid business hours: ${problems.join('; ')}`);
    this.name = 'InvalidHoursError';
  }
}

const DAY_MINUTES = 24 * 60;
/** How far nextOpen and closedSince look: a year and a bit covers any yearly holiday pattern. */
const SEARCH_DAYS = 400;
const ALL_DAY: Range = { start: 0, end: DAY_MINUTES };

/** Minutes from the local midnight of the day a range starts on; end > start, up to 2 days for overnight. */
interface Range {
  start: number;
  end: number;
}

/** Epoch milliseconds, start inclusive, end exclusive. */
interface Interval {
  start: number;
  end: number;
}

const RANGE = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A range, or why it is not one. */
function parseRange(text: string): Range | string {
  const m = RANGE.exec(text);
  if (!m) return 'not HH:MM-HH:MM';
  const [sh, sm, eh, em] = m.slice(1).map(Number);
  if (sh > 23 || sm > 59) return 'the start is not a time 00:00-23:59';
  if (eh > 24 || em > 59 || (eh === 24 && em > 0)) return 'the end is not a time 00:00-24:00';
  const start = sh * 60 + sm;
  const end = eh * 60 + em;
  if (start === end) return 'start and end are the same (use 00:00-24:00 for all day)';
  return { start, end: end < start ? end + DAY_MINUTES : end };
}

function isDate(text: unknown): text is string {
  return typeof text === 'string' && DATE.test(text) && DateTime.fromISO(text, { zone: 'utc' }).isValid;
}

function openDateOf(entry: string | OpenDate): OpenDate {
  return typeof entry === 'string' ? { date: entry, hours: ['00:00-24:00'] } : entry;
}

/** Human-readable problems with a spec; empty when it is valid. */
export function hoursProblems(spec: HoursSpec): string[] {
  const problems: string[] = [];
  const checkRanges = (where: string, ranges: unknown) => {
    if (!Array.isArray(ranges)) return problems.push(`${where} must be a list of "HH:MM-HH:MM" ranges`);
    ranges.forEach((text, i) => {
      const parsed = typeof text === 'string' ? parseRange(text) : 'not a string';
      if (typeof parsed === 'string') problems.push(`${where}[${i}] ${JSON.stringify(text)}: ${parsed}`);
    });
  };

  if (typeof spec.timeZone !== 'string' || !IANAZone.isValidZone(spec.timeZone)) {
    problems.push(`timeZone ${JSON.stringify(spec.timeZone)} is not an IANA time zone (e.g. "Europe/Warsaw")`);
  }
  for (const [day, ranges] of Object.entries(spec.hours ?? {})) {
    if (!WEEKDAYS.includes(day as Weekday)) problems.push(`hours.${day} is not a weekday (use ${WEEKDAYS.join(', ')})`);
    else checkRanges(`hours.${day}`, ranges);
  }
  (spec.closedDates ?? []).forEach((date, i) => {
    if (!isDate(date)) problems.push(`closedDates[${i}] ${JSON.stringify(date)} is not a date (YYYY-MM-DD)`);
  });
  const seen = new Set<string>();
  (spec.openDates ?? []).forEach((entry, i) => {
    const { date, hours } = openDateOf(entry);
    if (!isDate(date)) return problems.push(`openDates[${i}] ${JSON.stringify(date)} is not a date (YYYY-MM-DD)`);
    if (seen.has(date)) problems.push(`openDates[${i}]: ${date} is listed twice`);
    seen.add(date);
    if (typeof entry !== 'string') checkRanges(`openDates[${i}].hours`, hours);
  });
  return problems;
}

function parseAll(texts: string[]): Range[] {
  return texts.map((text) => parseRange(text) as Range);
}

/** Sorted, with overlapping and touching intervals joined: 22:00-24:00 + 00:00-06:00 is one period. */
function merge(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const next of sorted) {
    const last = merged[merged.length - 1];
    if (last && next.start <= last.end) last.end = Math.max(last.end, next.end);
    else merged.push({ ...next });
  }
  return merged;
}

/** Compiles a spec into its queries; throws InvalidHoursError when hoursProblems finds any. */
export function compileHours(spec: HoursSpec): BusinessHours {
  const problems = hoursProblems(spec);
  if (problems.length) throw new InvalidHoursError(problems);

  const zone = spec.timeZone;
  const weekly = WEEKDAYS.map((day) => parseAll(spec.hours[day] ?? []));
  const closed = new Set(spec.closedDates ?? []);
  const exceptions = new Map((spec.openDates ?? []).map((entry) => {
    const { date, hours } = openDateOf(entry);
    return [date, typeof entry === 'string' ? [ALL_DAY] : parseAll(hours)];
  }));

  // Days are civil dates (UTC midnights), so stepping through them never meets a DST gap;
  // the zone only comes in when a wall-clock time becomes an instant.
  const dayOf = (at: number) => {
    const local = DateTime.fromMillis(at, { zone });
    return DateTime.utc(local.year, local.month, local.day);
  };
  const rangesStarting = (day: DateTime): Range[] => {
    const iso = day.toISODate()!;
    return exceptions.get(iso) ?? (closed.has(iso) ? [] : weekly[day.weekday - 1]);
  };
  const instant = (day: DateTime, minutes: number) => {
    const date = day.plus({ days: Math.floor(minutes / DAY_MINUTES) });
    const minute = minutes % DAY_MINUTES;
    return DateTime.fromObject(
      { year: date.year, month: date.month, day: date.day, hour: Math.floor(minute / 60), minute: minute % 60 },
      { zone },
    ).toMillis();
  };
  /** The intervals of the ranges starting on `day` (an overnight one ends the next day). */
  const intervalsStarting = (day: DateTime): Interval[] =>
    rangesStarting(day)
      .map((r) => ({ start: instant(day, r.start), end: instant(day, r.end) }))
      .filter((i) => i.end > i.start);
  const intervalsBetween = (first: DateTime, last: DateTime): Interval[] => {
    const all: Interval[] = [];
    for (let day = first; day <= last; day = day.plus({ days: 1 })) all.push(...intervalsStarting(day));
    return merge(all);
  };
  // Anything open at an instant started on its local day or the day before (overnight ranges).
  const isOpenAt = (t: number) => intervalsBetween(dayOf(t).minus({ days: 1 }), dayOf(t)).some((i) => i.start <= t && t < i.end);

  return {
    timeZone: zone,

    isOpen: (at) => isOpenAt(at.getTime()),

    nextOpen(at) {
      const t = at.getTime();
      const first = dayOf(t).minus({ days: 1 });
      // Ranges of a later day all start after those of an earlier one, so the first day with a
      // range still ahead of (or around) `at` holds the answer.
      for (let n = 0; n <= SEARCH_DAYS + 1; n++) {
        const ahead = intervalsStarting(first.plus({ days: n })).filter((i) => i.end > t);
        if (ahead.length) return new Date(Math.max(t, Math.min(...ahead.map((i) => i.start))));
      }
      return null;
    },

    closedSince(at) {
      const t = at.getTime();
      if (isOpenAt(t)) return null;
      // The latest end at or before `at` is the close that began this period (anything reaching
      // past it would reach `at`, which is closed). Day d's ranges end after day d-2's, but the
      // day before's overnight range may end later than day d's, so look at both.
      const last = dayOf(t);
      for (let n = 0; n <= SEARCH_DAYS; n++) {
        const ends = [...intervalsStarting(last.minus({ days: n })), ...intervalsStarting(last.minus({ days: n + 1 }))]
          .map((i) => i.end)
          .filter((end) => end <= t);
        if (ends.length) return new Date(Math.max(...ends));
      }
      return new Date(0);
    },

    businessMs(from, to) {
      const [a, b] = [from.getTime(), to.getTime()];
      if (b <= a) return 0;
      let total = 0;
      for (const i of intervalsBetween(dayOf(a).minus({ days: 1 }), dayOf(b))) {
        total += Math.max(0, Math.min(b, i.end) - Math.max(a, i.start));
      }
      return total;
    },
  };
}

/** The locale if this runtime can format it, else 'en'. */
function usableLocale(locale: string): string {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([locale])[0] ?? 'en';
  } catch {
    return 'en'; // a malformed tag, which Intl rejects outright
  }
}

/**
 * `{{nextOpen}}` for an away message, in the customer's or policy's language: within the next
 * 6 local days the weekday and time ("Monday 09:00", pl "poniedziałek 09:00"); further out the
 * weekday, day and month as the locale writes them ("Monday, January 5 09:00"). Phrases like
 * "today"/"tomorrow" are left out on purpose: Intl cannot localise them with a time attached.
 * Times are 24-hour HH:mm; the time is joined with a space because locales disagree on the
 * separator Intl would put there (en none, pl a comma, de "um").
 */
export function describeNextOpen(at: Date, nextOpen: Date, timeZone: string, locale: string): string {
  const when = DateTime.fromJSDate(nextOpen, { zone: timeZone }).setLocale(usableLocale(locale));
  const now = DateTime.fromJSDate(at, { zone: timeZone });
  const civil = (d: DateTime) => DateTime.utc(d.year, d.month, d.day);
  const daysAhead = civil(when).diff(civil(now), 'days').days;
  const date = daysAhead <= 6
    ? when.toLocaleString({ weekday: 'long' })
    : when.toLocaleString({ weekday: 'long', day: 'numeric', month: 'long' });
  return `${date} ${when.toFormat('HH:mm')}`;
}

/** Replaces `{{name}}` placeholders with values; unknown placeholders stay as written. */
export function renderTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (placeholder, name: string) =>
    Object.hasOwn(values, name) ? values[name] : placeholder);
}
