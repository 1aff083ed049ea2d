import { DateTime } from 'luxon';
import type { BusinessHours } from './hours';

/**
 * The response-time report: how fast people answered and closed conversations, per day, business
 * number, route or connection. Pure: the rows come from SQL elsewhere, one per conversation.
 *
 * Definitions (all durations in seconds, possibly fractional):
 * - **First response time (FRT)** = firstResponseAt − start, where start = handoffAt ?? openedAt:
 *   the clock starts when triage hands over to a human, or at the customer's first message when no
 *   triage ran. An agent who answered during triage (before the handoff) counts as 0, never below.
 *   Business FRT = open time of the number's business hours between start and firstResponseAt.
 * - **Resolution time** = resolvedAt − openedAt, closed conversations only; business likewise.
 * - **Median**: the middle value, the mean of the two middle ones for an even count. **p90**:
 *   nearest rank, the value at rank ceil(0.9 × n) of the sorted values (1-based). Empty: null.
 * - **Answered within 1 h** = conversations answered with FRT ≤ 3600 s ÷ (answered conversations +
 *   unanswered ones whose start is at least 1 h before asOf). An unanswered conversation younger
 *   than that could still make it, so it is not counted yet. Business: the same with business FRT
 *   and at least 1 h of business time between start and asOf. Null when nothing is counted.
 * - **Replies per conversation**: mean and median of human replies (agents and API) over all of
 *   the group's conversations, unanswered ones included.
 * - **Business figures** use each conversation's own number's hours; conversations whose number
 *   has none are left out of them, and a group where no conversation has hours reports null.
 * - **Triage** counts conversations: `shown` saw the menu; `chosen` per route picked by option or
 *   keyword; `askedForHuman` by the step before their first 'human' ('start' when it came first);
 *   `timedOut` timed out; `droppedOff` were closed unanswered after triage, by their last step.
 *   A step is named by its route for 'option:<route>' and 'keyword:<route>', else by itself.
 */

export interface ReportConversation {
  id: string;
  phoneNumberId: string;
  route: string | null;
  /** The connection whose agent answered first (null: unanswered or answered through the API). */
  connectionId: string | null;
  /** The customer's first message of the conversation. */
  openedAt: Date;
  /** When triage handed over to a human (null: no triage ran). */
  handoffAt: Date | null;
  /** The first human agent reply (auto-replies never count). */
  firstResponseAt: Date | null;
  /** When it closed. */
  resolvedAt: Date | null;
  /** Replies by people (agents/API) in it. */
  humanReplies: number;
  /** Steps, in order: 'menu', 'option:<route>', 'keyword:<route>', 'human', 'timeout'. */
  triagePath: string[];
}

export type ReportGroupBy = 'day' | 'number' | 'route' | 'connection';

export interface ReportOptions {
  groupBy: ReportGroupBy;
  /** Business hours for a business number (its policy, else the default policy), or null when none is set. */
  hoursFor(phoneNumberId: string): BusinessHours | null;
  /** Time zone for groupBy=day (the default policy's, else 'UTC'). */
  timeZone: string;
  /** The report's end (min(to, now)): an unanswered conversation counts against "answered within 1 h" only once its hour has passed by then. */
  asOf: Date;
}

export interface Percentiles {
  median: number | null;
  p90: number | null;
}

export interface TriageFigures {
  shown: number;
  chosen: Record<string, number>;
  askedForHuman: Record<string, number>;
  timedOut: number;
  droppedOff: Record<string, number>;
}

export interface ServiceReportGroup {
  /** YYYY-MM-DD (day), phone number id (number), route or connection id ('none' when unset). */
  key: string;
  conversations: number;
  /** With a first human response. */
  answered: number;
  /** Closed. */
  resolved: number;
  firstResponse: { calendar: Percentiles; business: Percentiles | null };
  resolution: { calendar: Percentiles; business: Percentiles | null };
  /** Shares 0–1. */
  answeredWithin1h: { calendar: number | null; business: number | null };
  repliesPerConversation: { mean: number; median: number };
  triage: TriageFigures;
}

const HOUR_S = 3600;

/** The middle value (mean of the two middle ones for an even count); null when empty. */
export function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest rank: the value at rank ceil(0.9 × n) of the sorted values (1-based); null when empty. */
export function p90(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.9 * sorted.length) - 1];
}

/** Whether a conversation counts for "answered within 1 h", and if so whether it made it. */
type Verdict = 'within' | 'late' | 'too-early';

/** One conversation's figures; business ones are null when its number has no hours. */
interface Measures {
  row: ReportConversation;
  hasHours: boolean;
  frt: number | null;
  businessFrt: number | null;
  resolution: number | null;
  businessResolution: number | null;
  within1h: Verdict;
  businessWithin1h: Verdict | null;
}

const seconds = (ms: number) => Math.max(0, ms) / 1000;

function verdict(responseS: number | null, elapsedS: number): Verdict {
  if (responseS !== null) return responseS <= HOUR_S ? 'within' : 'late';
  return elapsedS >= HOUR_S ? 'late' : 'too-early';
}

function measure(row: ReportConversation, options: ReportOptions): Measures {
  const hours = options.hoursFor(row.phoneNumberId);
  const start = row.handoffAt ?? row.openedAt;
  const { firstResponseAt: answered, resolvedAt: resolved } = row;
  const frt = answered ? seconds(answered.getTime() - start.getTime()) : null;
  const businessFrt = answered && hours ? seconds(hours.businessMs(start, answered)) : null;
  return {
    row,
    hasHours: hours !== null,
    frt,
    businessFrt,
    resolution: resolved ? seconds(resolved.getTime() - row.openedAt.getTime()) : null,
    businessResolution: resolved && hours ? seconds(hours.businessMs(row.openedAt, resolved)) : null,
    within1h: verdict(frt, seconds(options.asOf.getTime() - start.getTime())),
    businessWithin1h: hours ? verdict(businessFrt, seconds(hours.businessMs(start, options.asOf))) : null,
  };
}

function groupKey(row: ReportConversation, options: ReportOptions): string {
  switch (options.groupBy) {
    case 'day': return DateTime.fromJSDate(row.openedAt, { zone: options.timeZone }).toISODate()!;
    case 'number': return row.phoneNumberId;
    case 'route': return row.route ?? 'none';
    case 'connection': return row.connectionId ?? 'none';
  }
}

const present = (values: (number | null)[]) => values.filter((v): v is number => v !== null);
const percentiles = (values: number[]): Percentiles => ({ median: median(values), p90: p90(values) });

function share(verdicts: (Verdict | null)[]): number | null {
  const counted = verdicts.filter((v) => v === 'within' || v === 'late');
  return counted.length ? counted.filter((v) => v === 'within').length / counted.length : null;
}

/** 'option:sales' and 'keyword:sales' are the route 'sales'; other steps are their own name. */
function stepName(step: string): string {
  const choice = /^(?:option|keyword):(.*)$/.exec(step);
  return choice ? choice[1] : step;
}

function chosenRoute(step: string): string | null {
  return /^(?:option|keyword):/.test(step) ? stepName(step) : null;
}

function triageFigures(rows: ReportConversation[]): TriageFigures {
  const figures: TriageFigures = { shown: 0, chosen: {}, askedForHuman: {}, timedOut: 0, droppedOff: {} };
  const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);
  for (const { triagePath: path, firstResponseAt, resolvedAt } of rows) {
    if (path.includes('menu')) figures.shown++;
    if (path.includes('timeout')) figures.timedOut++;
    const routes = new Set(path.map(chosenRoute).filter((route): route is string => route !== null));
    for (const route of routes) bump(figures.chosen, route);
    const human = path.indexOf('human');
    if (human >= 0) bump(figures.askedForHuman, human === 0 ? 'start' : stepName(path[human - 1]));
    if (resolvedAt && !firstResponseAt && path.length) bump(figures.droppedOff, stepName(path[path.length - 1]));
  }
  return figures;
}

function summarise(key: string, group: Measures[]): ServiceReportGroup {
  const rows = group.map((m) => m.row);
  const withHours = group.filter((m) => m.hasHours);
  const replies = rows.map((r) => r.humanReplies);
  return {
    key,
    conversations: group.length,
    answered: present(group.map((m) => m.frt)).length,
    resolved: present(group.map((m) => m.resolution)).length,
    firstResponse: {
      calendar: percentiles(present(group.map((m) => m.frt))),
      business: withHours.length ? percentiles(present(withHours.map((m) => m.businessFrt))) : null,
    },
    resolution: {
      calendar: percentiles(present(group.map((m) => m.resolution))),
      business: withHours.length ? percentiles(present(withHours.map((m) => m.businessResolution))) : null,
    },
    answeredWithin1h: {
      calendar: share(group.map((m) => m.within1h)),
      business: share(group.map((m) => m.businessWithin1h)),
    },
    repliesPerConversation: { mean: replies.reduce((a, b) => a + b, 0) / replies.length, median: median(replies)! },
    triage: triageFigures(rows),
  };
}

/** The report's groups, sorted by key; a group exists only where there are conversations. */
export function serviceReport(rows: ReportConversation[], options: ReportOptions): ServiceReportGroup[] {
  const groups = new Map<string, Measures[]>();
  for (const row of rows) {
    const key = groupKey(row, options);
    const group = groups.get(key) ?? [];
    group.push(measure(row, options));
    groups.set(key, group);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, group]) => summarise(key, group));
}
