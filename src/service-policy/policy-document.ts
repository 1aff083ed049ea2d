import type { HoursSpec, OpenDate, Weekday } from './hours';
import { hoursProblems } from './hours';

/**
 * The customer-service policy of one business number (`phoneNumberId`, or `default` for every
 * number without one of its own), as an admin PUTs it. Validated here, by one pure function, so
 * the API answers every problem at once and the worker can trust what it reads back.
 */

/** A text per language (`{ "en": "…", "pl": "…" }`), or one text for everyone. */
export type LocalisedText = string | Record<string, string>;

export type TicketPriority = 'low' | 'normal' | 'high' | 'urgent';

/** What a route asks of a helpdesk ticket; each connector maps it to its own fields. */
export interface TicketFields {
  group?: string;
  priority?: TicketPriority;
  tags?: string[];
  assignee?: string;
}

export interface RouteDefinition {
  /** Only these connections receive the conversation's further messages; absent: every connection. */
  connections?: string[];
  ticket?: TicketFields;
}

/** Picks a route for a new conversation; the first rule whose every condition holds wins. */
export interface RoutingRule {
  route: string;
  /** Any of these words (or phrases) in the customer's first message. */
  keywords?: string[];
  /** The business number the customer wrote to. */
  phoneNumberIds?: string[];
  /** Whether the number was open when they wrote. */
  hours?: 'open' | 'closed';
}

export interface TriageOption {
  /** What the customer types ("1"). */
  key: string;
  /** What the menu shows ("Order status"); typing it picks the option too. */
  label: string;
  route: string;
  /** More words that pick this option ("refund", "zwrot"). */
  keywords?: string[];
}

export interface TriagePolicy {
  /** The question above the menu ("How can we help?"). */
  prompt: LocalisedText;
  options: TriageOption[];
  /** Words that skip to a person at any moment (defaults: DEFAULT_HUMAN_KEYWORDS). */
  humanKeywords?: string[];
  /** The route of a customer who asks for a person (default: defaultRoute). */
  humanRoute?: string;
  /** A customer who has not answered after this many minutes goes to the default route (default 10). */
  timeoutMinutes?: number;
  /** The list button's label, when the menu goes as a list ("Choose"). */
  buttonLabel?: LocalisedText;
}

export interface ServicePolicy extends HoursSpec {
  /** BCP 47 language of the policy's texts and of `{{nextOpen}}` (default `en`). */
  language?: string;
  /** The language of customers by their number's country (`{ "PL": "pl" }`), for texts given per language. */
  languages?: Record<string, string>;
  /** Sent once per closed period per conversation to a customer writing while closed; `{{nextOpen}}` is replaced. */
  awayMessage?: LocalisedText;
  /** Sent for the first message of a new conversation during open hours. */
  greetingMessage?: LocalisedText;
  triage?: TriagePolicy;
  routing?: Record<string, RouteDefinition>;
  rules?: RoutingRule[];
  /** The route of a conversation nothing else routed (a triage time-out, a human request without humanRoute). */
  defaultRoute?: string;
}

/** Multilingual words for "a person, please"; matched as whole words, case and accents ignored. */
export const DEFAULT_HUMAN_KEYWORDS = [
  'agent', 'human', 'person', 'operator', 'representative', // en
  'konsultant', 'człowiek', 'konsultanta', // pl
  'mensch', 'mitarbeiter', 'berater', // de
  'humano', 'asesor', 'agente', 'persona', // es, pt
  'humain', 'conseiller', // fr
  'operatore', // it
  'medewerker', // nl
];

export const DEFAULT_TRIAGE_TIMEOUT_MINUTES = 10;

const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const PRIORITIES: TicketPriority[] = ['low', 'normal', 'high', 'urgent'];
const TOP_LEVEL = new Set(['timeZone', 'hours', 'closedDates', 'openDates', 'language', 'languages', 'awayMessage', 'greetingMessage', 'triage', 'routing', 'rules', 'defaultRoute']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TEXT = 1024;

export type PolicyCheck = { policy: ServicePolicy; problems: [] } | { policy?: undefined; problems: string[] };

/**
 * Checks a policy document; `knownConnections` are the ids a route may name. Returns the policy
 * (only the known fields, copied) or every problem found, each naming its path.
 */
export function checkPolicy(input: unknown, knownConnections: ReadonlySet<string>): PolicyCheck {
  const problems: string[] = [];
  const p = (path: string, message: string) => problems.push(`${path} ${message}`);
  if (!isObject(input)) return { problems: ['the policy must be a JSON object'] };
  for (const key of Object.keys(input)) if (!TOP_LEVEL.has(key)) p(key, 'is not a field of the policy');

  const timeZone = input.timeZone;
  if (typeof timeZone !== 'string') p('timeZone', 'must be an IANA time zone such as Europe/Warsaw');
  const hours = input.hours;
  if (!isObject(hours)) p('hours', 'must be an object of weekdays, e.g. { "mon": ["09:00-17:00"] }');
  else for (const day of Object.keys(hours)) if (!(WEEKDAYS as string[]).includes(day)) p(`hours.${day}`, `is not a weekday (${WEEKDAYS.join(', ')})`);
  if (isObject(hours)) for (const day of WEEKDAYS) if (hours[day] !== undefined && !isStringArray(hours[day])) p(`hours.${day}`, 'must be a list of ranges such as "09:00-17:00"');
  if (input.closedDates !== undefined && !isStringArray(input.closedDates)) p('closedDates', 'must be a list of dates (YYYY-MM-DD)');
  if (input.openDates !== undefined && !(Array.isArray(input.openDates) && input.openDates.every((d) => typeof d === 'string' || (isObject(d) && typeof d.date === 'string' && isStringArray(d.hours))))) {
    p('openDates', 'must be a list of dates (YYYY-MM-DD) or { "date", "hours": [ranges] }');
  }
  if (problems.length === 0) {
    const spec: HoursSpec = { timeZone: timeZone as string, hours: hours as HoursSpec['hours'], closedDates: input.closedDates as string[] | undefined, openDates: input.openDates as (string | OpenDate)[] | undefined };
    problems.push(...hoursProblems(spec));
  }

  if (input.language !== undefined && !isLanguage(input.language)) p('language', 'must be a language code such as en or pt-BR');
  if (input.languages !== undefined) {
    if (!isObject(input.languages)) p('languages', 'must map country codes to languages, e.g. { "PL": "pl" }');
    else for (const [country, language] of Object.entries(input.languages)) if (!/^[A-Z]{2}$/.test(country) || !isLanguage(language)) p(`languages.${country}`, 'must map a two-letter country code to a language code');
  }
  checkText(input.awayMessage, 'awayMessage', p);
  checkText(input.greetingMessage, 'greetingMessage', p);

  const routing = input.routing;
  const routes = new Set<string>();
  if (routing !== undefined) {
    if (!isObject(routing)) p('routing', 'must map route names to { "connections"?, "ticket"? }');
    else {
      for (const [name, def] of Object.entries(routing)) {
        routes.add(name);
        const at = `routing.${name}`;
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) p(at, 'is not a route name (letters, digits, _ . -, up to 64)');
        if (!isObject(def)) {
          p(at, 'must be an object');
          continue;
        }
        for (const key of Object.keys(def)) if (key !== 'connections' && key !== 'ticket') p(`${at}.${key}`, 'is not a field of a route');
        if (def.connections !== undefined) {
          if (!isStringArray(def.connections) || def.connections.length === 0) p(`${at}.connections`, 'must be a non-empty list of connection ids');
          else for (const id of def.connections) if (!UUID.test(id) || !knownConnections.has(id)) p(`${at}.connections`, `names ${id}, which is not a connection`);
        }
        if (def.ticket !== undefined) checkTicket(def.ticket, `${at}.ticket`, p);
      }
    }
  }
  const needRoute = (route: unknown, at: string) => {
    if (typeof route !== 'string' || route === '') p(at, 'must name a route');
    else if (!routes.has(route)) p(at, `names the route ${route}, which routing does not define`);
  };
  if (input.defaultRoute !== undefined) needRoute(input.defaultRoute, 'defaultRoute');

  if (input.rules !== undefined) {
    if (!Array.isArray(input.rules)) p('rules', 'must be a list of { "route", "keywords"?, "phoneNumberIds"?, "hours"? }');
    else
      input.rules.forEach((rule: unknown, i) => {
        const at = `rules[${i}]`;
        if (!isObject(rule)) return p(at, 'must be an object');
        needRoute(rule.route, `${at}.route`);
        if (rule.keywords !== undefined && (!isStringArray(rule.keywords) || rule.keywords.some((k) => normaliseWords(k) === ''))) p(`${at}.keywords`, 'must be a list of words');
        if (rule.phoneNumberIds !== undefined && !isStringArray(rule.phoneNumberIds)) p(`${at}.phoneNumberIds`, 'must be a list of phone number ids');
        if (rule.hours !== undefined && rule.hours !== 'open' && rule.hours !== 'closed') p(`${at}.hours`, 'must be "open" or "closed"');
        if (rule.keywords === undefined && rule.phoneNumberIds === undefined && rule.hours === undefined) p(at, 'needs at least one condition (keywords, phoneNumberIds, hours)');
      });
  }

  const triage = input.triage;
  if (triage !== undefined && triage !== null) {
    if (!isObject(triage)) p('triage', 'must be an object { "prompt", "options", "humanKeywords"? }');
    else {
      checkText(triage.prompt, 'triage.prompt', p, true);
      if (!Array.isArray(triage.options) || triage.options.length === 0 || triage.options.length > 10) p('triage.options', 'must list 1 to 10 options');
      else {
        const keys = new Set<string>();
        triage.options.forEach((o: unknown, i) => {
          const at = `triage.options[${i}]`;
          if (!isObject(o)) return p(at, 'must be { "key", "label", "route" }');
          if (typeof o.key !== 'string' || !/^[A-Za-z0-9]{1,8}$/.test(o.key)) p(`${at}.key`, 'must be 1 to 8 letters or digits');
          else if (keys.has(o.key.toLowerCase())) p(`${at}.key`, `repeats ${o.key}`);
          else keys.add(o.key.toLowerCase());
          if (typeof o.label !== 'string' || o.label.trim() === '' || o.label.length > 60) p(`${at}.label`, 'must be a text of up to 60 characters');
          needRoute(o.route, `${at}.route`);
          if (o.keywords !== undefined && !isStringArray(o.keywords)) p(`${at}.keywords`, 'must be a list of words');
        });
      }
      if (triage.humanKeywords !== undefined && (!isStringArray(triage.humanKeywords) || triage.humanKeywords.some((k) => normaliseWords(k) === ''))) p('triage.humanKeywords', 'must be a list of words');
      if (triage.humanRoute !== undefined) needRoute(triage.humanRoute, 'triage.humanRoute');
      if (triage.timeoutMinutes !== undefined && !(Number.isInteger(triage.timeoutMinutes) && (triage.timeoutMinutes as number) >= 1 && (triage.timeoutMinutes as number) <= 1440)) {
        p('triage.timeoutMinutes', 'must be a whole number of minutes from 1 to 1440');
      }
      if (triage.buttonLabel !== undefined) checkText(triage.buttonLabel, 'triage.buttonLabel', p);
      if (triage.humanRoute === undefined && input.defaultRoute === undefined) p('triage', 'needs humanRoute or defaultRoute: where a customer who asks for a person, or does not answer, goes');
      for (const key of Object.keys(triage)) if (!['prompt', 'options', 'humanKeywords', 'humanRoute', 'timeoutMinutes', 'buttonLabel'].includes(key)) p(`triage.${key}`, 'is not a field of triage');
    }
  }

  if (problems.length) return { problems };
  return { policy: structuredClone(input) as unknown as ServicePolicy, problems: [] };
}

function checkTicket(ticket: unknown, at: string, p: (path: string, message: string) => void): void {
  if (!isObject(ticket)) return p(at, 'must be { "group"?, "priority"?, "tags"?, "assignee"? }');
  for (const key of Object.keys(ticket)) if (!['group', 'priority', 'tags', 'assignee'].includes(key)) p(`${at}.${key}`, 'is not a ticket field (group, priority, tags, assignee)');
  if (ticket.group !== undefined && (typeof ticket.group !== 'string' || ticket.group.trim() === '')) p(`${at}.group`, "must be the group's name or id");
  if (ticket.assignee !== undefined && (typeof ticket.assignee !== 'string' || ticket.assignee.trim() === '')) p(`${at}.assignee`, "must be the agent's email or id");
  if (ticket.priority !== undefined && !PRIORITIES.includes(ticket.priority as TicketPriority)) p(`${at}.priority`, `must be one of ${PRIORITIES.join(', ')}`);
  if (ticket.tags !== undefined && (!isStringArray(ticket.tags) || ticket.tags.some((t) => !/^[\p{L}\p{N}_:./-]{1,80}$/u.test(t)))) p(`${at}.tags`, 'must be a list of tags (no spaces)');
}

function checkText(value: unknown, at: string, p: (path: string, message: string) => void, required = false): void {
  if (value === undefined && !required) return;
  const ok = (t: unknown) => typeof t === 'string' && t.trim() !== '' && t.length <= MAX_TEXT;
  if (typeof value === 'string') {
    if (!ok(value)) p(at, `must be a text of 1 to ${MAX_TEXT} characters`);
  } else if (isObject(value) && Object.keys(value).length > 0) {
    for (const [language, text] of Object.entries(value)) if (!isLanguage(language) || !ok(text)) p(`${at}.${language}`, `must map a language code to a text of 1 to ${MAX_TEXT} characters`);
  } else p(at, 'must be a text, or texts per language ({ "en": "…", "pl": "…" })');
}

/** The text for a language: that language, its base (pt for pt-BR), the policy's, else the first given. */
export function pickText(text: LocalisedText, language: string, fallback: string): string {
  if (typeof text === 'string') return text;
  const base = (l: string) => l.split(/[-_]/)[0].toLowerCase();
  const entries = Object.entries(text);
  const find = (l: string) => text[l] ?? entries.find(([k]) => base(k) === base(l))?.[1];
  return find(language) ?? find(fallback) ?? entries[0][1];
}

/** Lower case, accents off, punctuation to spaces, single spaces: how keywords and answers compare. */
export function normaliseWords(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ł/g, 'l')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isLanguage(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(value);
}
