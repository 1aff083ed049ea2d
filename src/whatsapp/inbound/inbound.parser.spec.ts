import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { META_OPENAPI_PATH } from '../../../test/fakes/meta-openapi';
import { describeWithMetaOpenApi } from '../../../test/setup/with-meta-openapi';
import { MalformedWebhookError, parseWhatsAppWebhook } from './inbound.parser';
import type { InboundMessage, InboundStatus, ParsedWebhook, ParseProblem } from './inbound.types';
import { renderMessageText } from './message-text';

// ESM Jest has no __dirname; the test path locates the fixtures.
const HERE = path.dirname(expect.getState().testPath as string);
const FIXTURES = path.join(HERE, 'fixtures');

type Json = Record<string, unknown>;

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every example of the webhook request body in Meta's OpenAPI document, by name (local $refs followed). */
function loadSpecWebhookExamples(): Map<string, unknown> {
  const doc: unknown = parseYaml(readFileSync(META_OPENAPI_PATH, 'utf8'));
  const pointer = (ref: string): unknown =>
    ref
      .slice(2)
      .split('/')
      .map((token) => decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, key) => (isJson(node) ? node[key] : undefined), doc);
  const deref = (node: unknown): Json => {
    for (let hops = 0; isJson(node) && typeof node.$ref === 'string'; hops++) {
      if (!node.$ref.startsWith('#/') || hops > 20) throw new Error(`cannot follow $ref ${node.$ref}`);
      node = pointer(node.$ref);
    }
    if (!isJson(node)) throw new Error('expected an object in the spec');
    return node;
  };

  const paths = deref(deref(doc).paths);
  const requestBody = deref(deref(deref(paths['/whatsapp/webhooks']).post).requestBody);
  const examples = new Map<string, unknown>();
  for (const mediaType of Object.values(deref(requestBody.content))) {
    for (const [name, example] of Object.entries(deref(deref(mediaType).examples ?? {}))) {
      examples.set(name, deref(example).value);
    }
  }
  return examples;
}

function loadFixture(name: string): unknown {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
}

/** The raw messages of a body, in order. */
function rawMessagesOf(body: unknown): Json[] {
  const entries = (body as { entry: { changes: { field: string; value: { messages?: Json[] } }[] }[] }).entry;
  return entries.flatMap((e) => e.changes.filter((c) => c.field === 'messages').flatMap((c) => c.value.messages ?? []));
}

/** What every parsed message carries over from its raw message, whatever the type. */
function expectCommonFields(parsed: ParsedWebhook, body: unknown): void {
  const rawById = new Map(rawMessagesOf(body).map((raw) => [raw.id, raw]));
  for (const m of parsed.messages) {
    const raw = rawById.get(m.wamid) ?? {};
    expect(m).toMatchObject({
      waId: raw.from,
      type: raw.type,
      content: raw[raw.type as string],
      timestamp: new Date(Number(raw.timestamp) * 1000),
    });
  }
}

interface SpecExpectation {
  /** Fields of the single message, when the example carries one. */
  message?: Partial<InboundMessage>;
  /** renderMessageText() of that message. */
  text?: string;
  ignored?: number;
}

const SHEENA = { waId: '16505551234', profileName: 'Sheena Nelson', phoneNumberId: '106540352242922', displayPhoneNumber: '15550783881' };

const SPEC_EXPECTATIONS: Record<string, SpecExpectation> = {
  'Text Message': {
    message: { ...SHEENA, wabaId: '419561257915477', type: 'text', body: 'Does it come in another color?', context: undefined },
    text: 'Does it come in another color?',
  },
  'Text Message with Context (Product Inquiry)': {
    message: {
      ...SHEENA,
      wabaId: '102290129340398',
      type: 'text',
      body: 'Is this still available?',
      context: {
        replyTo: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA',
        from: '15550783881',
        forwarded: false,
        frequentlyForwarded: false,
        referredProduct: { catalogId: '194836987003835', productRetailerId: 'di9ozbzfi4' },
      },
    },
    text: 'Is this still available?',
  },
  'Text Message from Click to WhatsApp Ad': {
    message: {
      ...SHEENA,
      type: 'text',
      body: 'Hello! Can I get more info on this?',
      referral: expect.objectContaining({
        source_type: 'ad',
        source_id: '120226305854810726',
        headline: 'Chat with us',
        welcome_message: { text: 'Hi there! Let us know how we can help!' },
      }) as Record<string, unknown>,
    },
    text: 'Hello! Can I get more info on this?',
  },
  'Reaction Message': {
    message: { ...SHEENA, type: 'reaction', body: '👍' },
    text: '[Reacted 👍 to a message]',
  },
  'Image Message': {
    message: {
      ...SHEENA,
      type: 'image',
      body: 'Taj Mahal',
      media: { id: '1003383421387256', mimeType: 'image/jpeg', sha256: 'SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=', caption: 'Taj Mahal' },
    },
    text: '[Image] Taj Mahal',
  },
  'Location Message': {
    message: { ...SHEENA, type: 'location', body: undefined, media: undefined },
    text: '[Location] Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301 (37.44221496582, -122.16165924072) https://maps.google.com/?q=37.44221496582,-122.16165924072',
  },
  'Contact Sharing Message': {
    // value.contacts is the sender's profile; message.contacts is the shared card.
    message: { ...SHEENA, type: 'contacts', body: undefined },
    text: '[Shared contact] Lucía Gómez +1 (983) 555-2319',
  },
  'Unsupported Message': {
    message: {
      ...SHEENA,
      type: 'unsupported',
      content: undefined,
      errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', details: 'Message type is currently not supported.' }],
    },
    text: '[Unsupported message: Message type unknown]',
  },
  'Button Message': {
    message: {
      ...SHEENA,
      type: 'button',
      body: 'Unsubscribe',
      context: { replyTo: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJFNjk2OTMwNEZCQjhGMzUyQUYA', from: '15550783881', forwarded: false, frequentlyForwarded: false },
    },
    text: '[Button: Unsubscribe]',
  },
  'Interactive List Reply Message': {
    message: { ...SHEENA, type: 'interactive', body: 'Priority Mail Express' },
    text: '[Selected: Priority Mail Express]',
  },
  'Interactive Button Reply Message': {
    message: { ...SHEENA, type: 'interactive', body: 'Cancel' },
    text: '[Selected: Cancel]',
  },
  'Order Message': {
    message: { ...SHEENA, type: 'order', body: undefined },
    text: '[Order] 2 × di9ozbzfi4 (30.00 USD), 1 × nqryix03ez (25.00 USD); total 85.00 USD',
  },
  'System Message': {
    // A system message comes without value.contacts: the customer is still `from`.
    message: {
      waId: '16505551234',
      profileName: undefined,
      type: 'system',
      body: 'User Sheena Nelson changed from 16505551234 to 12195555358',
      content: { body: 'User Sheena Nelson changed from 16505551234 to 12195555358', wa_id: '12195555358', type: 'user_changed_number' },
    },
    text: 'User Sheena Nelson changed from 16505551234 to 12195555358',
  },
  // Group notifications arrive on other fields: counted, not stored.
  'Group Create Message': { ignored: 1 },
  'Group Settings Update': { ignored: 1 },
  'Group Remove Participants': { ignored: 1 },
};


describeWithMetaOpenApi('parseWhatsAppWebhook over the examples in Meta’s OpenAPI document', () => {
  const examples = loadSpecWebhookExamples();

  it('finds all of the official webhook examples', () => {
    expect(examples.size).toBeGreaterThanOrEqual(16);
    expect([...examples.keys()].sort()).toEqual(Object.keys(SPEC_EXPECTATIONS).sort());
  });

  it.each([...examples.entries()])('%s', (name, body) => {
    const expected = SPEC_EXPECTATIONS[name];
    const parsed = parseWhatsAppWebhook(body);

    expect(parsed.problems).toEqual([]);
    expect(parsed.statuses).toEqual([]);
    expect(parsed.ignored).toBe(expected.ignored ?? 0);
    expect(parsed.messages).toMatchObject(expected.message ? [expected.message] : []);
    expect(parsed.messages.map(renderMessageText)).toEqual(expected.text ? [expected.text] : []);
    expectCommonFields(parsed, body);
  });
});

/** What must come out of each of our fixtures (arrays are matched whole, objects partially). */
interface FixtureExpectation {
  messages?: Partial<InboundMessage>[];
  /** renderMessageText() of each message. */
  texts?: string[];
  statuses?: Partial<InboundStatus>[];
  problems?: ParseProblem[];
  ignored?: number;
}

const SHEENA_VIA_TEST_NUMBER = { waId: '16505551234', profileName: 'Sheena Nelson', phoneNumberId: '106540352242922', wabaId: '102290129340398' };
const noContext = { forwarded: false, frequentlyForwarded: false };

const FIXTURE_EXPECTATIONS: Record<string, FixtureExpectation> = {
  'video.json': {
    messages: [
      {
        ...SHEENA_VIA_TEST_NUMBER,
        type: 'video',
        body: 'Unboxing the order',
        media: { id: '1286542079562113', mimeType: 'video/mp4', sha256: 'o6Ib3v3xv3w2vYF0vFzY2Yy2qOVgGzL8yQW9kZ0pM1s=', caption: 'Unboxing the order' },
      },
    ],
    texts: ['[Video] Unboxing the order'],
  },
  'sticker-animated.json': {
    messages: [{ ...SHEENA_VIA_TEST_NUMBER, type: 'sticker', body: undefined, media: { id: '2153428451729860', mimeType: 'image/webp', animated: true } }],
    texts: ['[Animated sticker]'],
  },
  'audio-voice.json': {
    messages: [{ type: 'audio', body: undefined, media: { id: '1074573417713245', mimeType: 'audio/ogg; codecs=opus', voice: true } }],
    texts: ['[Voice note]'],
  },
  'document.json': {
    messages: [
      {
        type: 'document',
        body: 'Here is the signed copy',
        media: { id: '1907283726512490', filename: 'invoice-2025-118.pdf', mimeType: 'application/pdf', caption: 'Here is the signed copy' },
      },
    ],
    texts: ['[Document: invoice-2025-118.pdf] Here is the signed copy'],
  },
  'contacts-card.json': {
    messages: [{ ...SHEENA_VIA_TEST_NUMBER, type: 'contacts', body: undefined, media: undefined }],
    texts: ['[Shared contacts] Dr. Barbara J. Johnson +1 (415) 555-0829 +1 (650) 555-1234; Kenji +819012345678'],
  },
  'interactive-replies.json': {
    messages: [
      { type: 'interactive', body: 'Yes, deliver', context: { ...noContext, from: '15550783881', replyTo: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJFRUVFRUVFRUVFRUVFRUVFRTEA' } },
      { type: 'interactive', body: 'Tuesday morning', context: { ...noContext, from: '15550783881', replyTo: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJFRUVFRUVFRUVFRUVFRUVFRTIA' } },
      { type: 'interactive', body: undefined, context: { ...noContext, from: '15550783881', replyTo: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJFRUVFRUVFRUVFRUVFRUVFRTMA' } },
    ],
    texts: ['[Selected: Yes, deliver]', '[Selected: Tuesday morning]', '[Submitted a form]'],
  },
  'order-with-note.json': {
    messages: [{ type: 'order', body: 'Please gift-wrap the candles' }],
    texts: ['[Order] 2 × candle-lavender (12.50 USD), 1 × gift-box (4.99 USD); total 29.99 USD Please gift-wrap the candles'],
  },
  'reaction-removed.json': {
    messages: [{ type: 'reaction', body: '' }],
    texts: ['[Removed a reaction]'],
  },
  'forwarded.json': {
    messages: [
      { type: 'text', context: { forwarded: true, frequentlyForwarded: false, replyTo: undefined, from: undefined, referredProduct: undefined } },
      { type: 'image', context: { forwarded: true, frequentlyForwarded: true, replyTo: undefined, from: undefined, referredProduct: undefined } },
    ],
    texts: ['↪ Forwarded: See what my friend sent me', '↪ Forwarded: [Image] 50% off everything today only!!!'],
  },
  'referral-video-ad.json': {
    messages: [
      {
        waId: '447700900123',
        profileName: 'Oliver Smith',
        type: 'text',
        body: 'Hi, is the free shipping offer still on?',
        referral: { source_type: 'ad', media_type: 'video', source_id: '120213845721090555', video_url: 'https://video.xx.fbcdn.net/v/t42.1790-2/ad.mp4' },
      },
    ],
    texts: ['Hi, is the free shipping offer still on?'],
  },
  'system-user-changed-number.json': {
    messages: [{ type: 'system', waId: '5511987654321', profileName: undefined, body: 'User João Silva changed from 5511987654321 to 5511912345678' }],
    texts: ['User João Silva changed from 5511987654321 to 5511912345678'],
  },
  'status-failed.json': {
    statuses: [
      {
        wamid: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1QjM0RUZBMkM2QjM0QjU1RjcA',
        status: 'failed',
        timestamp: new Date('2025-06-18T18:56:52Z'),
        recipientId: '16505551234',
        phoneNumberId: '106540352242922',
        errors: [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', details: 'Message Undeliverable.' }],
        pricingCategory: undefined,
        conversationId: undefined,
      },
      {
        status: 'failed',
        recipientId: '447700900123',
        errors: [
          {
            code: 131047,
            title: 'Re-engagement message',
            message: 'Re-engagement message',
            details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
          },
        ],
      },
    ],
  },
  'batch.json': {
    messages: [
      { wabaId: '102290129340398', phoneNumberId: '106540352242922', waId: '16505551234', profileName: 'Sheena Nelson', type: 'text' },
      { wabaId: '102290129340398', phoneNumberId: '106540352242922', waId: '447700900123', profileName: 'Oliver Smith', type: 'text' },
      {
        wabaId: '102290129340398',
        phoneNumberId: '106540352242922',
        waId: '16505551234',
        type: 'image',
        body: undefined,
        media: { id: '1003383421387299' },
        context: { ...noContext, from: '15550783881' },
      },
      { wabaId: '230340450560670', phoneNumberId: '110200300400500', displayPhoneNumber: '15550001111', waId: '5215512345678', profileName: 'Ana Pérez', type: 'location' },
    ],
    texts: [
      'Hi, I ordered yesterday',
      'Do you ship to the UK?',
      '[Image]',
      '[Location] Zócalo, Plaza de la Constitución, Centro, CDMX (19.4326, -99.1332) https://maps.google.com/?q=19.4326,-99.1332',
    ],
    statuses: [
      { status: 'sent', phoneNumberId: '106540352242922', recipientId: '16505551234', pricingCategory: 'service', conversationId: '6ceb9d929c1e9d5b3f2a2e7f8c2a3a1b', errors: [] },
      { status: 'delivered', phoneNumberId: '106540352242922', recipientId: '16505551234', pricingCategory: 'service', conversationId: '6ceb9d929c1e9d5b3f2a2e7f8c2a3a1b', errors: [] },
      { status: 'read', phoneNumberId: '110200300400500', recipientId: '5215512345678', pricingCategory: undefined, conversationId: undefined, errors: [] },
    ],
  },
  'unknown-type.json': {
    messages: [
      {
        type: 'poll_vote',
        body: undefined,
        content: { poll_message_id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJDQ0NDQ0NDQ0NDQ0NDQ0NDQ0MA', selected_options: ['Tuesday'] },
      },
    ],
    texts: ['[poll_vote message]'],
  },
  'missing-id.json': {
    messages: [{ body: 'first' }, { body: 'third' }],
    texts: ['first', 'third'],
    problems: [
      {
        reason: 'entry[0].changes[0].value.messages[1]: id must be a string',
        fragment: { from: '16505551234', timestamp: '1750282001', type: 'text', text: { body: 'second, no id' } },
      },
    ],
  },
  'errors-only.json': {
    problems: [
      {
        reason: 'meta error notification: entry[0].changes[0].value.errors[0]: 131000 Something went wrong (Message failed to send due to an unknown error.)',
        fragment: { code: 131000, title: 'Something went wrong' },
      },
    ],
  },
  'non-messages-fields.json': { ignored: 3 },
};

describe('parseWhatsAppWebhook over our fixtures', () => {
  it('has an expectation for every fixture file', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(Object.keys(FIXTURE_EXPECTATIONS).sort());
  });

  it.each(Object.entries(FIXTURE_EXPECTATIONS))('%s', (file, expected) => {
    const body = loadFixture(file);
    const parsed = parseWhatsAppWebhook(body);

    expect(parsed).toMatchObject({
      messages: expected.messages ?? [],
      statuses: expected.statuses ?? [],
      problems: expected.problems ?? [],
      ignored: expected.ignored ?? 0,
    });
    expect(parsed.messages.map(renderMessageText)).toEqual(expected.texts ?? []);
    expectCommonFields(parsed, body);
  });
});

describe('parseWhatsAppWebhook on damaged input', () => {
  const textMessage = (overrides: Json): Json => ({
    from: '16505551234',
    id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZGRkZGRkZGRkZGRkZGRkYwMQA=',
    timestamp: '1750290000',
    type: 'text',
    text: { body: 'hello' },
    ...overrides,
  });
  const envelope = (value: unknown, extraEntries: unknown[] = []): Json => ({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value }] }, ...extraEntries],
  });
  const valueWith = (fields: Json): Json => ({
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
    ...fields,
  });

  it.each<[string, unknown, RegExp]>([
    ['null', null, /body: must be a JSON object/],
    ['an array', [{ object: 'whatsapp_business_account', entry: [] }], /body: must be a JSON object/],
    ['a number', 42, /body: must be a JSON object/],
    ['text that is not JSON', '{"object": "whatsapp_business_account", "entry": [', /body is not JSON/],
    ['another product’s webhook', { object: 'page', entry: [] }, /object must be equal to whatsapp_business_account/],
    ['no object field', { entry: [] }, /object must be equal to whatsapp_business_account/],
    ['no entry', { object: 'whatsapp_business_account' }, /entry must be an array/],
    ['entry as an object', { object: 'whatsapp_business_account', entry: { id: '1', changes: [] } }, /entry must be an array/],
  ])('rejects %s with MalformedWebhookError', (_name, body, reason) => {
    expect(() => parseWhatsAppWebhook(body)).toThrow(MalformedWebhookError);
    expect(() => parseWhatsAppWebhook(body)).toThrow(reason);
  });

  it('parses the raw bytes the signature check holds', () => {
    const body = loadFixture('video.json');
    const fromBytes = parseWhatsAppWebhook(Buffer.from(JSON.stringify(body)));
    expect(fromBytes).toEqual(parseWhatsAppWebhook(body));
    expect(fromBytes.messages).toHaveLength(1);
  });

  it('accepts an empty entry list', () => {
    expect(parseWhatsAppWebhook({ object: 'whatsapp_business_account', entry: [] })).toEqual({
      messages: [],
      statuses: [],
      problems: [],
      ignored: 0,
    });
  });

  it.each<[string, Json, string]>([
    ['a timestamp with letters', { timestamp: '17502a0000' }, 'timestamp must be a string of unix seconds'],
    ['a timestamp in milliseconds', { timestamp: '1750290000000' }, 'timestamp must be a string of unix seconds'],
    ['a numeric timestamp', { timestamp: 1750290000 }, 'timestamp must be a string'],
    ['no from', { from: undefined }, 'from must be a string'],
    ['no type', { type: undefined }, 'type must be a string'],
    ['an id that is a number', { id: 12345 }, 'id must be a string'],
  ])('quarantines a message with %s and keeps its neighbours', (_name, overrides, reason) => {
    const bad = textMessage(overrides);
    const body = envelope(valueWith({ messages: [textMessage({ id: 'wamid.good1' }), bad, textMessage({ id: 'wamid.good2' })] }));

    const parsed = parseWhatsAppWebhook(body);

    expect(parsed.messages.map((m) => m.wamid)).toEqual(['wamid.good1', 'wamid.good2']);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0].fragment).toBe(bad);
    expect(parsed.problems[0].reason).toMatch(/^entry\[0\]\.changes\[0\]\.value\.messages\[1\]: /);
    expect(parsed.problems[0].reason).toContain(reason);
  });

  it('names where the item sits in the POST and every field that is wrong', () => {
    const bad = { from: '16505551234', type: 'text', text: { body: 'hi' } };
    const body: Json = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            { field: 'account_update', value: {} },
            { field: 'messages', value: valueWith({ messages: [textMessage({ id: 'wamid.a' }), textMessage({ id: 'wamid.b' }), bad] }) },
          ],
        },
      ],
    };

    expect(parseWhatsAppWebhook(body).problems).toEqual([
      { reason: 'entry[0].changes[1].value.messages[2]: id must be a string, timestamp must be a string of unix seconds', fragment: bad },
    ]);
  });

  it('quarantines a message that is not an object', () => {
    const parsed = parseWhatsAppWebhook(envelope(valueWith({ messages: [null, textMessage({})] })));
    expect(parsed.messages).toHaveLength(1);
    expect(parsed.problems).toEqual([{ reason: 'entry[0].changes[0].value.messages[0]: must be a JSON object', fragment: null }]);
  });

  it('quarantines a status without recipient_id and keeps the others', () => {
    const good = { id: 'wamid.out1', status: 'read', timestamp: '1750290001', recipient_id: '16505551234' };
    const bad = { id: 'wamid.out2', status: 'delivered', timestamp: '1750290002' };
    const parsed = parseWhatsAppWebhook(envelope(valueWith({ statuses: [good, bad] })));

    expect(parsed.statuses.map((s) => s.wamid)).toEqual(['wamid.out1']);
    expect(parsed.problems).toEqual([
      { reason: 'entry[0].changes[0].value.statuses[1]: recipient_id must be a string', fragment: bad },
    ]);
  });

  it('quarantines a messages change without phone_number_id, since its messages cannot be routed', () => {
    const value = { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881' }, messages: [textMessage({})] };
    const parsed = parseWhatsAppWebhook(envelope(value));

    expect(parsed.messages).toEqual([]);
    expect(parsed.problems).toEqual([
      {
        reason: 'entry[0].changes[0].value.metadata: phone_number_id must be a string',
        fragment: value,
      },
    ]);
  });

  it('quarantines a broken entry and a broken change but keeps the rest of the POST', () => {
    const body = envelope(valueWith({ messages: [textMessage({})] }), [
      { id: '230340450560670' },
      { id: '230340450560670', changes: [{ value: {} }, { field: 'messages', value: valueWith({ messages: [textMessage({ id: 'wamid.other' })] }) }] },
    ]);
    const parsed = parseWhatsAppWebhook(body);

    expect(parsed.messages.map((m) => [m.wabaId, m.wamid])).toEqual([
      ['102290129340398', 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZGRkZGRkZGRkZGRkZGRkYwMQA='],
      ['230340450560670', 'wamid.other'],
    ]);
    expect(parsed.problems.map((p) => p.reason)).toEqual([
      'entry[1]: changes must be an array',
      'entry[2].changes[0]: field must be a string',
    ]);
  });

  it('takes the profile name of the matching contact, else of the only contact', () => {
    const contacts = [
      { profile: { name: 'Ana' }, wa_id: '5215511111111' },
      { profile: { name: 'Bruno' }, wa_id: '5215522222222' },
    ];
    const matched = parseWhatsAppWebhook(envelope(valueWith({ contacts, messages: [textMessage({ from: '5215522222222' })] })));
    const ambiguous = parseWhatsAppWebhook(envelope(valueWith({ contacts, messages: [textMessage({ from: '5215533333333' })] })));
    const onlyOne = parseWhatsAppWebhook(
      envelope(valueWith({ contacts: [{ profile: { name: 'Carla' }, wa_id: '5215544444444' }], messages: [textMessage({ from: '525544444444' })] })),
    );

    expect(matched.messages[0].profileName).toBe('Bruno');
    expect(ambiguous.messages[0].profileName).toBeUndefined();
    expect(onlyOne.messages[0]).toMatchObject({ waId: '525544444444', profileName: 'Carla' });
  });

  it('maps lenient error objects without losing the failure', () => {
    const status = { id: 'wamid.out3', status: 'failed', timestamp: '1750290003', recipient_id: '16505551234', errors: [{ code: '131049', message: 'Marketing limit' }] };
    const parsed = parseWhatsAppWebhook(envelope(valueWith({ statuses: [status] })));
    expect(parsed.statuses[0].errors).toEqual([{ code: 131049, title: 'Marketing limit', message: 'Marketing limit', details: undefined }]);
  });
});
