import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/**
 * The policy document for the API docs (the rules that check it are policy-document.ts; this
 * describes the same fields for people and client generators).
 */
const ranges: SchemaObject = { type: 'array', items: { type: 'string', pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$' }, description: 'e.g. "09:00-17:00"; "00:00-24:00" all day; "22:00-02:00" overnight' };
const localised: SchemaObject = { oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: { type: 'string' } }], description: 'A text, or texts per language' };
const days = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ranges]));

export const SERVICE_POLICY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['timeZone', 'hours'],
  properties: {
    timeZone: { type: 'string', description: 'IANA time zone, e.g. Europe/Warsaw' },
    hours: { type: 'object', properties: days, additionalProperties: false },
    closedDates: { type: 'array', items: { type: 'string', format: 'date' }, description: 'Holidays (local dates)' },
    openDates: { type: 'array', items: { oneOf: [{ type: 'string', format: 'date' }, { type: 'object', properties: { date: { type: 'string', format: 'date' }, hours: ranges } }] } },
    language: { type: 'string', description: 'Language of the texts and of {{nextOpen}} (default en)' },
    languages: { type: 'object', additionalProperties: { type: 'string' }, description: 'Customer language by their number\'s country, e.g. { "PL": "pl" }' },
    awayMessage: { ...localised, description: 'Sent once per closed period per conversation; {{nextOpen}} becomes e.g. "Monday 09:00"' },
    greetingMessage: { ...localised, description: "Sent for a new conversation's first message during open hours" },
    triage: {
      type: 'object',
      required: ['prompt', 'options'],
      properties: {
        prompt: localised,
        options: { type: 'array', maxItems: 10, items: { type: 'object', required: ['key', 'label', 'route'], properties: { key: { type: 'string' }, label: { type: 'string' }, route: { type: 'string' }, keywords: { type: 'array', items: { type: 'string' } } } } },
        humanKeywords: { type: 'array', items: { type: 'string' } },
        humanRoute: { type: 'string' },
        timeoutMinutes: { type: 'integer', minimum: 1, maximum: 1440 },
        buttonLabel: localised,
      },
    },
    routing: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          connections: { type: 'array', items: { type: 'string', format: 'uuid' } },
          ticket: { type: 'object', properties: { group: { type: 'string' }, priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'] }, tags: { type: 'array', items: { type: 'string' } }, assignee: { type: 'string' } } },
        },
      },
    },
    rules: { type: 'array', items: { type: 'object', required: ['route'], properties: { route: { type: 'string' }, keywords: { type: 'array', items: { type: 'string' } }, phoneNumberIds: { type: 'array', items: { type: 'string' } }, hours: { type: 'string', enum: ['open', 'closed'] } } } },
    defaultRoute: { type: 'string' },
  },
};

export const SERVICE_POLICY_EXAMPLE = {
  timeZone: 'Europe/Warsaw',
  hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-15:00'], sat: [], sun: [] },
  closedDates: ['2026-12-24', '2026-12-25', '2026-12-26'],
  language: 'en',
  languages: { PL: 'pl' },
  awayMessage: { en: 'Thanks for your message! We are closed now and reply from {{nextOpen}}.', pl: 'Dziękujemy! Odpowiemy od {{nextOpen}}.' },
  greetingMessage: 'Hi! Please tell us your order number if you have one.',
  triage: {
    prompt: 'How can we help? Reply with a number:',
    options: [
      { key: '1', label: 'Order status', route: 'orders' },
      { key: '2', label: 'Returns', route: 'returns', keywords: ['refund', 'zwrot'] },
      { key: '3', label: 'Sales', route: 'sales' },
    ],
    timeoutMinutes: 10,
  },
  routing: {
    orders: { ticket: { group: 'Orders', tags: ['orders'] } },
    returns: { ticket: { group: 'Returns', priority: 'high', tags: ['returns'] } },
    sales: { ticket: { group: 'Sales', tags: ['sales'] } },
    support: { ticket: { group: 'Support' } },
  },
  rules: [{ route: 'sales', keywords: ['price', 'offer'] }],
  defaultRoute: 'support',
};
