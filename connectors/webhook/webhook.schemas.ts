/**
 * The JSON Schemas (draft 2020-12) of every event body, with an example each: published in
 * schemas/*.schema.json beside this file and in the OpenAPI document's `webhooks` section
 * (ConnectorDefinition.events). test/webhook.mapper.spec.ts checks that the mapper's bodies and
 * the examples match them and that the files are up to date.
 */
import type { PublishedEvent } from '../_sdk/contract';
import type { EventType, WebhookEvent } from './webhook.types';

type Schema = Record<string, unknown>;

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const SCHEMA_BASE = 'https://threadbridge.dev/schemas/webhook';

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const time = (description: string): Schema => str(description, { format: 'date-time' });
const uuid = (description: string): Schema => str(description, { format: 'uuid' });
const object = (properties: Record<string, Schema>, required: string[] = Object.keys(properties), extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
});
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });

const media = object(
  {
    url: str('Where threadbridge serves the file (absent while it is not stored)', { format: 'uri' }),
    mimeType: str('MIME type as WhatsApp gave it'),
    filename: str('File name, for documents'),
    sizeBytes: { type: 'integer', minimum: 0 },
    sha256: str("WhatsApp's hash of the file"),
    unavailableReason: str('Why the file is not available, when it is not'),
  },
  [],
);

const contact = object(
  {
    id: uuid("threadbridge's contact id"),
    waId: str('WhatsApp id: digits only', { pattern: '^[0-9]{5,20}$' }),
    e164: str('Phone number in E.164', { pattern: '^\\+[0-9]{5,20}$' }),
    name: nullable(str('WhatsApp profile name')),
    externalId: str('Your id of this contact, once you answered {"contactId": …}'),
  },
  ['id', 'waId', 'e164', 'name'],
);

const contactRef = object(
  { id: uuid("threadbridge's contact id"), externalId: str('Your id of this contact, once you answered one') },
  [],
  { minProperties: 1 },
);

const direction = { type: 'string', enum: ['inbound', 'outbound'] };

const messageData = object({
  conversationId: uuid("threadbridge's conversation id: name it in reply.created"),
  businessNumber: str('The business phone number the customer wrote to'),
  contact,
  message: object({
    id: uuid("threadbridge's message id"),
    wamid: str("WhatsApp's message id"),
    direction,
    type: str("WhatsApp's message type: text, image, audio, video, document, sticker, location, contacts, interactive, button, reaction, order, …"),
    text: str('The text, the caption, or a rendering of a location, contact card or order'),
    author: nullable(str('Who wrote an outbound message (an agent, or the system); null for inbound')),
    media: nullable(media),
    timestamp: time('When WhatsApp says the message was sent'),
  }),
});

const dataOf: Record<EventType, Schema> = {
  'message.received': messageData,
  'message.sent': messageData,
  'message.status': object({
    replyId: str('The replyId of your reply.created'),
    conversationId: nullable(str('The conversation the reply was for')),
    state: { type: 'string', enum: ['sent', 'delivered', 'read', 'failed', 'refused'], description: 'sent/delivered/read/failed: WhatsApp; refused: threadbridge did not send it (consent, 24-hour window)' },
    detail: nullable(str('What happened, in words an agent understands (given for failed and refused)')),
    at: time('When it happened'),
  }),
  'conversation.opened': object({
    conversationId: uuid("threadbridge's conversation id: name it in reply.created"),
    businessNumber: str('The business phone number the customer wrote to'),
    openedAt: time('When the conversation opened'),
    contact,
  }),
  'conversation.closed': object({
    conversationId: uuid("threadbridge's conversation id"),
    businessNumber: str('The business phone number'),
    openedAt: time('When the conversation opened'),
    closedAt: time('When it closed'),
    contact,
    transcript: object({
      text: str('The whole conversation as plain text, one line per message'),
      entries: {
        type: 'array',
        items: object({ timestamp: time('When WhatsApp says it was sent'), direction, author: str('Customer name, agent, or system'), text: str('The text or a rendering'), media: nullable(media) }),
      },
    }),
  }),
  'contact.erased': object({
    contact: object(
      { id: uuid("threadbridge's contact id"), externalId: str('Your id of this contact, once you answered one'), waId: str('WhatsApp id', { pattern: '^[0-9]{5,20}$' }), e164: str('E.164', { pattern: '^\\+[0-9]{5,20}$' }) },
      ['id', 'waId', 'e164'],
    ),
  }),
  'consent.changed': object({
    contact: contactRef,
    scope: { type: 'string', enum: ['marketing', 'transactional'] },
    optedIn: { type: 'boolean' },
    changedAt: time('When the customer changed it'),
    source: str('What changed it, e.g. keyword:STOP, api'),
  }),
  'connection.test': object({ message: { const: 'threadbridge is checking this endpoint' } }),
};

const SUMMARIES: Record<EventType, { summary: string; description: string }> = {
  'message.received': { summary: 'A customer wrote on WhatsApp', description: 'One per inbound message, in order per conversation.' },
  'message.sent': { summary: 'The business wrote to a customer on WhatsApp', description: 'One per outbound message (agents in other systems, templates, auto-replies). A reply you sent through reply.created is not echoed back to you.' },
  'message.status': { summary: 'What became of your reply.created', description: 'sent, delivered, read or failed as WhatsApp reports it, or refused when threadbridge did not send it; only to the connection the reply came from.' },
  'conversation.opened': { summary: 'A conversation opened', description: 'Once per conversation, before its first message.' },
  'conversation.closed': { summary: 'A conversation closed, with its transcript', description: 'After its last message event.' },
  'contact.erased': { summary: 'Forget this customer', description: 'A right-to-be-forgotten request: delete what you hold of the contact. Your 2xx is the receipt.' },
  'consent.changed': { summary: "A customer's consent changed", description: 'Opt-in or opt-out for marketing or transactional messages (e.g. the customer wrote STOP).' },
  'connection.test': { summary: 'threadbridge checks the endpoint', description: 'Sent when the connection is created or its credentials change: answer 2xx.' },
};

/** The JSON Schema of `type`'s body. */
export function eventSchema(type: EventType): Schema {
  return {
    $schema: DIALECT,
    $id: `${SCHEMA_BASE}/${type}.schema.json`,
    title: type,
    description: SUMMARIES[type].summary,
    ...object({
      type: { const: type },
      timestamp: time('When the event happened (the webhook-timestamp header says when this attempt was sent)'),
      data: dataOf[type],
    }),
  };
}

const CONTACT_EXAMPLE = { id: '6f1c2b9e-3a0d-4c7e-9b1a-2d5e8f0a1b2c', waId: '48601234567', e164: '+48601234567', name: 'Anna Nowak' };
const CONVERSATION = '0b8e4a52-7c1d-4f3e-a6b9-5d2c1e0f9a87';

/** An example body of every event type. */
export const EVENT_EXAMPLES: { [T in EventType]: WebhookEvent<T> } = {
  'message.received': {
    type: 'message.received',
    timestamp: '2026-12-07T09:15:02.000Z',
    data: {
      conversationId: CONVERSATION,
      businessNumber: '+1 555 010 0000',
      contact: CONTACT_EXAMPLE,
      message: {
        id: 'c3d9a1f0-5b2e-4e8a-9c7d-1f0e2d3c4b5a',
        wamid: 'wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQzQTdCRjM0',
        direction: 'inbound',
        type: 'image',
        text: 'Is this the right part?',
        author: null,
        media: { url: 'https://threadbridge.example.com/media/3f2a9c?token=k7Qx2Lm9', mimeType: 'image/jpeg', sizeBytes: 48213, sha256: 'q8Yq1vKj0x3W8mJt5h0C2b9ZfS4d7N1rL6uE3aP0o2k=' },
        timestamp: '2026-12-07T09:15:02.000Z',
      },
    },
  },
  'message.sent': {
    type: 'message.sent',
    timestamp: '2026-12-07T09:17:40.000Z',
    data: {
      conversationId: CONVERSATION,
      businessNumber: '+1 555 010 0000',
      contact: { ...CONTACT_EXAMPLE, externalId: 'crm-contact-8812' },
      message: { id: 'a7e2c4d6-1b3f-4a5c-8e9d-0f1a2b3c4d5e', wamid: 'wamid.HBgLNDg2MDEyMzQ1NjcVAgARGBI5QTFC', direction: 'outbound', type: 'text', text: 'Yes, that is the one.', author: 'Agent Smith', media: null, timestamp: '2026-12-07T09:17:40.000Z' },
    },
  },
  'message.status': {
    type: 'message.status',
    timestamp: '2026-12-07T09:17:43.000Z',
    data: { replyId: 'reply-20261207-0042', conversationId: CONVERSATION, state: 'delivered', detail: null, at: '2026-12-07T09:17:43.000Z' },
  },
  'conversation.opened': {
    type: 'conversation.opened',
    timestamp: '2026-12-07T09:15:02.000Z',
    data: { conversationId: CONVERSATION, businessNumber: '+1 555 010 0000', openedAt: '2026-12-07T09:15:02.000Z', contact: CONTACT_EXAMPLE },
  },
  'conversation.closed': {
    type: 'conversation.closed',
    timestamp: '2026-12-08T09:17:40.000Z',
    data: {
      conversationId: CONVERSATION,
      businessNumber: '+1 555 010 0000',
      openedAt: '2026-12-07T09:15:02.000Z',
      closedAt: '2026-12-08T09:17:40.000Z',
      contact: CONTACT_EXAMPLE,
      transcript: {
        text: '[2026-12-07T09:15:02.000Z] Anna Nowak: Is this the right part? (image)\n[2026-12-07T09:17:40.000Z] Agent Smith: Yes, that is the one.',
        entries: [
          { timestamp: '2026-12-07T09:15:02.000Z', direction: 'inbound', author: 'Anna Nowak', text: 'Is this the right part?', media: { url: 'https://threadbridge.example.com/media/3f2a9c?token=k7Qx2Lm9', mimeType: 'image/jpeg' } },
          { timestamp: '2026-12-07T09:17:40.000Z', direction: 'outbound', author: 'Agent Smith', text: 'Yes, that is the one.', media: null },
        ],
      },
    },
  },
  'contact.erased': {
    type: 'contact.erased',
    timestamp: '2026-12-09T10:00:00.000Z',
    data: { contact: { id: CONTACT_EXAMPLE.id, externalId: 'crm-contact-8812', waId: CONTACT_EXAMPLE.waId, e164: CONTACT_EXAMPLE.e164 } },
  },
  'consent.changed': {
    type: 'consent.changed',
    timestamp: '2026-12-07T10:02:11.000Z',
    data: { contact: { id: CONTACT_EXAMPLE.id }, scope: 'marketing', optedIn: false, changedAt: '2026-12-07T10:02:11.000Z', source: 'keyword:STOP' },
  },
  'connection.test': { type: 'connection.test', timestamp: '2026-12-07T09:00:00.000Z', data: { message: 'threadbridge is checking this endpoint' } },
};

const HEADERS = {
  'webhook-id': 'The event id, the same on every attempt: drop an id you have processed already',
  'webhook-timestamp': 'When this attempt was sent (Unix seconds): refuse it when far from your clock',
  'webhook-signature': 'v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"> with the key of the connection secret (whsec_<base64 key>)',
};

/** Every event, as ConnectorDefinition.events publishes it. */
export const PUBLISHED_EVENTS: readonly PublishedEvent[] = (Object.keys(SUMMARIES) as EventType[]).map((type) => ({
  type,
  summary: SUMMARIES[type].summary,
  description: SUMMARIES[type].description,
  schema: eventSchema(type),
  example: EVENT_EXAMPLES[type] as unknown as Record<string, unknown>,
  headers: HEADERS,
}));

/** The schema of the body the receiver posts back (reply.created). */
export const REPLY_CREATED_SCHEMA: Schema = {
  $schema: DIALECT,
  $id: `${SCHEMA_BASE}/reply.created.schema.json`,
  title: 'reply.created',
  description: 'An agent reply for a WhatsApp customer, posted to POST /webhooks/connections/{id} and signed like the events',
  ...object(
    {
      type: { const: 'reply.created' },
      timestamp: time('When the agent wrote it'),
      data: object(
        {
          replyId: str('Your id of the reply: the idempotency key (a repeat is accepted and ignored)', { minLength: 1, maxLength: 200 }),
          conversationId: str('The conversationId of the events', { minLength: 1, maxLength: 200 }),
          text: str('What the customer gets', { minLength: 1, maxLength: 4096 }),
          author: str("The agent's name", { minLength: 1, maxLength: 200 }),
        },
        ['replyId', 'conversationId', 'text', 'author'],
        { additionalProperties: true },
      ),
    },
    ['type', 'data'],
    { additionalProperties: true },
  ),
};

export const REPLY_CREATED_EXAMPLE = {
  type: 'reply.created',
  timestamp: '2026-12-07T09:17:38.000Z',
  data: { replyId: 'reply-20261207-0042', conversationId: CONVERSATION, text: 'Yes, that is the one.', author: 'Agent Smith' },
};
