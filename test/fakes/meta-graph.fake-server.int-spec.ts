import { createHash } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import { startMetaGraphFake } from './meta-graph.fake-server';
import type { MetaGraphFake } from './meta-graph.fake-server';
import { loadSendMessageExamples, validateSendMessageBody } from './meta-graph.spec-validator';
import { describeWithMetaOpenApi } from '../setup/with-meta-openapi';

const TOKEN = 'test-token';
const PHONE_NUMBER_ID = '106540352242922';
const SEND_PATH = `/v23.0/${PHONE_NUMBER_ID}/messages`;

/** A controllable clock, so windows, rate limits and URL expiry are tested without sleeping. */
let now = Date.parse('2026-11-21T12:00:00Z');
let fake: MetaGraphFake;
let graph: AxiosInstance;
let anonymous: AxiosInstance;

const textTo = (to: string, body = 'Hello from the CRM') => ({
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to,
  type: 'text',
  text: { body },
});

const templateTo = (to: string) => ({
  messaging_product: 'whatsapp',
  to,
  type: 'template',
  template: { name: 'follow_up', language: { code: 'en_US' } },
});

const base64Sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');

beforeAll(async () => {
  fake = await startMetaGraphFake({ clock: () => now });
  const common = { baseURL: fake.url, validateStatus: () => true };
  graph = axios.create({ ...common, headers: { Authorization: `Bearer ${TOKEN}` } });
  anonymous = axios.create(common);
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  now += 60 * 60 * 1000;
});

describe('authentication', () => {
  it('answers 401 with the Graph OAuth error when the bearer token is missing', async () => {
    const res = await anonymous.post(SEND_PATH, textTo('16505551234'));
    expect(res.status).toBe(401);
    expect(res.data).toEqual({
      error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190, fbtrace_id: expect.any(String) },
    });
    expect(fake.sent).toHaveLength(0);
  });

  it('answers 401 for a wrong token, and accepts a rotated token after configure()', async () => {
    const wrong = await anonymous.post(SEND_PATH, textTo('16505551234'), { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.data.error.code).toBe(190);

    fake.configure({ accessToken: 'rotated' });
    const old = await graph.post(SEND_PATH, textTo('16505551234'));
    const rotated = await anonymous.post(SEND_PATH, textTo('16505551234'), { headers: { Authorization: 'Bearer rotated' } });
    expect([old.status, rotated.status]).toEqual([401, 200]);
  });
});

describe('POST /:version/:phoneNumberId/messages', () => {
  it('accepts a text message, answers with Meta’s shape and records it', async () => {
    const res = await graph.post(SEND_PATH, textTo('+1 (650) 555-1234'));

    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: '+1 (650) 555-1234', wa_id: '16505551234' }],
      messages: [{ id: expect.stringMatching(/^wamid\.[A-Za-z0-9+/=]+$/) }],
    });
    expect(fake.sent).toEqual([
      {
        phoneNumberId: PHONE_NUMBER_ID,
        version: 'v23.0',
        wamid: res.data.messages[0].id,
        to: '+1 (650) 555-1234',
        waId: '16505551234',
        type: 'text',
        body: textTo('+1 (650) 555-1234'),
        receivedAt: now,
      },
    ]);
    expect(fake.requests).toEqual([{ method: 'POST', path: SEND_PATH, status: 200, at: now }]);
    expect(fake.specViolations).toEqual([]);
  });

  it('gives every accepted message a distinct wamid', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i += 1) ids.add((await graph.post(SEND_PATH, textTo('16505551234'))).data.messages[0].id);
    expect(ids.size).toBe(20);
  });

  it('rejects type "text" without a text object with 131008 naming the parameter, and records nothing', async () => {
    const res = await graph.post(SEND_PATH, { messaging_product: 'whatsapp', to: '16505551234', type: 'text' });

    expect(res.status).toBe(400);
    expect(res.data.error).toMatchObject({ code: 131008, type: 'OAuthException', message: expect.stringContaining('text') });
    expect(res.data.error.fbtrace_id).toEqual(expect.any(String));
    expect(fake.sent).toHaveLength(0);
  });

  it('rejects an unknown type with code 100 naming the type', async () => {
    const res = await graph.post(SEND_PATH, { messaging_product: 'whatsapp', to: '16505551234', type: 'hologram', hologram: {} });
    expect(res.status).toBe(400);
    expect(res.data.error.code).toBe(100);
    expect(res.data.error.message).toContain('hologram');
    expect(fake.sent).toHaveLength(0);
  });

  it.each([
    ['a missing messaging_product', { to: '16505551234', type: 'text', text: { body: 'x' } }, 131008, 'messaging_product'],
    ['a messaging_product other than whatsapp', { ...textTo('16505551234'), messaging_product: 'sms' }, 100, 'messaging_product'],
    ['a missing to', { messaging_product: 'whatsapp', type: 'text', text: { body: 'x' } }, 131008, 'to'],
    ['a non-string body', { ...textTo('16505551234'), text: { body: 42 } }, 100, 'text.body'],
    ['an unknown key', { ...textTo('16505551234'), text: { body: 'x', colour: 'red' } }, 100, 'colour'],
    ['a media object with neither id nor link', { messaging_product: 'whatsapp', to: '1650', type: 'image', image: { caption: 'x' } }, 131008, 'image'],
  ])('rejects %s', async (_label, body, code, named) => {
    const res = await graph.post(SEND_PATH, body);
    expect(res.status).toBe(400);
    expect(res.data.error.code).toBe(code);
    expect(res.data.error.message).toContain(named);
    expect(fake.sent).toHaveLength(0);
  });

  it('rejects a body that is not JSON with code 100', async () => {
    const res = await graph.post(SEND_PATH, '{"messaging_product":', { headers: { 'content-type': 'application/json' }, transformRequest: [(d) => d] });
    expect(res.status).toBe(400);
    expect(res.data.error.code).toBe(100);
  });

  it('answers a mark-as-read with {success:true} and records it apart from sends', async () => {
    const res = await graph.post(SEND_PATH, {
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      typing_indicator: { type: 'text' },
    });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ success: true });
    expect(fake.sent).toHaveLength(0);
    expect(fake.reads).toEqual([
      expect.objectContaining({
        phoneNumberId: PHONE_NUMBER_ID,
        messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
        typingIndicator: true,
      }),
    ]);
  });
});

describeWithMetaOpenApi('spec violations', () => {
  it('records a send that breaks the document, naming the operation and the schema error', async () => {
    await graph.post(SEND_PATH, { messaging_product: 'whatsapp', to: '16505551234', type: 'text' });
    await graph.post(SEND_PATH, { messaging_product: 'whatsapp', to: '16505551234', type: 'hologram', hologram: {} });

    expect(fake.specViolations).toEqual([
      expect.objectContaining({ operationId: 'sendMessage', method: 'POST', path: SEND_PATH, errors: [expect.stringContaining("'text'")] }),
      expect.objectContaining({ operationId: 'sendMessage', errors: [expect.stringContaining('type must be one of')] }),
    ]);
  });
});

describeWithMetaOpenApi('the OpenAPI document’s own sendMessage examples', () => {
  const examples = loadSendMessageExamples();
  /**
   * Two examples are genuinely malformed, and the fake rejects them as Meta would:
   * one carries the placeholder `<HEADER_TYPE>` as an interactive header type, the other omits `type`
   * (which then means "text") while carrying an `interactive` object.
   */
  const malformed = ['Send Multi-Product Message', 'Send Reply to List Message'];
  const wellFormed = examples.filter((e) => !malformed.includes(e.name));
  const withRecipient = (value: Record<string, unknown>) =>
    typeof value.to === 'string' && value.to.startsWith('{{') ? { ...value, to: '16505551234' } : value;

  it('has 50 request examples, 48 of them well formed', () => {
    expect(examples).toHaveLength(50);
    expect(wellFormed).toHaveLength(48);
    expect(wellFormed.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        'Send Text Message',
        'Send Image Message by ID',
        'Send Document Message by URL',
        'Send Location Message',
        'Send Reply with Reaction Message',
        'Send Message Template Text',
        'Send typing indicator and read receipt',
      ]),
    );
  });

  it('validates every well-formed example verbatim against the schema', () => {
    const failures = wellFormed
      .map((e) => ({ name: e.name, errors: validateSendMessageBody(e.value).specErrors }))
      .filter((r) => r.errors.length > 0);
    expect(failures).toEqual([]);
  });

  it('accepts every well-formed example over HTTP (47 sends, 1 mark-as-read) without spec violations', async () => {
    const statuses: Record<string, number> = {};
    for (const example of wellFormed) {
      statuses[example.name] = (await graph.post(SEND_PATH, withRecipient(example.value))).status;
    }
    expect(Object.entries(statuses).filter(([, status]) => status !== 200)).toEqual([]);
    expect(fake.sent).toHaveLength(47);
    expect(fake.reads).toHaveLength(1);
    expect(fake.specViolations).toEqual([]);
  });

  it('rejects the two malformed examples and records them as spec violations', async () => {
    for (const example of examples.filter((e) => malformed.includes(e.name))) {
      const res = await graph.post(SEND_PATH, withRecipient(example.value));
      expect(res.status).toBe(400);
    }
    expect(fake.sent).toHaveLength(0);
    expect(fake.specViolations).toHaveLength(2);
  });
});

describe('24-hour customer-service window', () => {
  beforeEach(() => fake.configure({ enforceWindow: true }));

  it('rejects a free-form message with 131047 when the customer never wrote or wrote over 24 h ago', async () => {
    const never = await graph.post(SEND_PATH, textTo('447700900123'));
    fake.recordInbound('447700900123', new Date(now - 25 * 60 * 60 * 1000));
    const stale = await graph.post(SEND_PATH, textTo('447700900123'));

    for (const res of [never, stale]) {
      expect(res.status).toBe(400);
      expect(res.data.error).toMatchObject({ code: 131047, message: '(#131047) Re-engagement message' });
      expect(res.data.error.error_data).toEqual({ messaging_product: 'whatsapp', details: expect.stringContaining('24 hours') });
    }
    expect(fake.sent).toHaveLength(0);
  });

  it('accepts a free-form message inside the window and a template outside it', async () => {
    const template = await graph.post(SEND_PATH, templateTo('447700900123'));
    fake.recordInbound('+44 7700 900123', new Date(now - 60 * 60 * 1000));
    const text = await graph.post(SEND_PATH, textTo('447700900123'));

    expect([template.status, text.status]).toEqual([200, 200]);
    expect(fake.sent.map((m) => m.type)).toEqual(['template', 'text']);
  });

  it('is off by default, so plain tests need no inbound set-up', async () => {
    fake.reset();
    const res = await graph.post(SEND_PATH, textTo('447700900123'));
    expect(res.status).toBe(200);
  });
});

describe('rate limits', () => {
  it('rejects a second message to the same recipient within the pair limit with 131056', async () => {
    fake.configure({ pairLimit: { count: 1, perMs: 6000 } });
    const first = await graph.post(SEND_PATH, textTo('16505551234'));
    const second = await graph.post(SEND_PATH, textTo('16505551234'));
    const otherRecipient = await graph.post(SEND_PATH, textTo('16505559999'));
    now += 6001;
    const later = await graph.post(SEND_PATH, textTo('16505551234'));

    expect([first.status, second.status, otherRecipient.status, later.status]).toEqual([200, 400, 200, 200]);
    expect(second.data.error.code).toBe(131056);
    expect(fake.sent.map((m) => m.waId)).toEqual(['16505551234', '16505559999', '16505551234']);
  });

  it('answers HTTP 429 with 130429 above the per-second throughput', async () => {
    fake.configure({ throughputPerSecond: 3 });
    const burst = [];
    for (let i = 0; i < 4; i += 1) burst.push(await graph.post(SEND_PATH, textTo(`1650555000${i}`)));
    now += 1000;
    const nextSecond = await graph.post(SEND_PATH, textTo('16505550009'));

    expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(burst[3].data.error).toMatchObject({ code: 130429, message: '(#130429) Rate limit hit' });
    expect(nextSecond.status).toBe(200);
    expect(fake.sent).toHaveLength(4);
  });
});

describe('fault injection and latency', () => {
  it('fails the next n requests with the given error, then recovers', async () => {
    fake.failNext(2, { status: 500, code: 131000, title: 'Something went wrong' });
    const results = [];
    for (let i = 0; i < 3; i += 1) results.push(await graph.post(SEND_PATH, textTo('16505551234')));

    expect(results.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(results[0].data.error).toMatchObject({ code: 131000, message: '(#131000) Something went wrong' });
    expect(fake.sent).toHaveLength(1);
    expect(fake.requests.map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it('only spends a route-scoped failure on that route', async () => {
    const { id } = fake.addMedia(Buffer.from('x'), 'text/plain');
    fake.failNext(1, { status: 503, code: 2, title: 'Service temporarily unavailable', route: 'mediaInfo', retryAfterSeconds: 7 });
    const send = await graph.post(SEND_PATH, textTo('16505551234'));
    const info = await graph.get(`/v23.0/${id}`);
    const infoAgain = await graph.get(`/v23.0/${id}`);

    expect([send.status, info.status, infoAgain.status]).toEqual([200, 503, 200]);
    expect(info.headers['retry-after']).toBe('7');
  });

  it('delays answers by latencyMs', async () => {
    fake.configure({ latencyMs: 150 });
    const started = Date.now();
    const res = await graph.post(SEND_PATH, textTo('16505551234'));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('media', () => {
  const bytes = Buffer.from('not really a jpeg, but bytes are bytes \u00e9\u{1F600}');

  it('serves a media id → short-lived url → the bytes, with a matching base64 sha256', async () => {
    const added = fake.addMedia(bytes, 'image/jpeg');
    const info = await graph.get(`/v23.0/${added.id}`);

    expect(info.status).toBe(200);
    expect(info.data).toEqual({
      messaging_product: 'whatsapp',
      url: expect.stringMatching(new RegExp(`^${fake.url}/media-download/`)),
      mime_type: 'image/jpeg',
      sha256: base64Sha256(bytes),
      file_size: bytes.length,
      id: added.id,
    });
    expect(added.sha256Base64).toBe(base64Sha256(bytes));

    const download = await graph.get(info.data.url, { responseType: 'arraybuffer' });
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('image/jpeg');
    expect(base64Sha256(Buffer.from(download.data))).toBe(info.data.sha256);
  });

  it('requires the bearer token on the download url', async () => {
    const { id } = fake.addMedia(bytes, 'image/jpeg');
    const { data } = await graph.get(`/v23.0/${id}`);
    const res = await anonymous.get(data.url);
    expect(res.status).toBe(401);
    expect(res.data.error.code).toBe(190);
  });

  it('expires the download url after mediaUrlTtlMs (default 5 minutes) with a 404', async () => {
    const { id } = fake.addMedia(bytes, 'image/jpeg');
    const { data } = await graph.get(`/v23.0/${id}`);
    now += 4 * 60 * 1000;
    const stillValid = await graph.get(data.url);
    now += 60 * 1000;
    const expired = await graph.get(data.url);

    expect(stillValid.status).toBe(200);
    expect(expired.status).toBe(404);
    expect(expired.data.error).toMatchObject({ code: 100, type: 'OAuthException' });
  });

  it('answers an unknown media id like Meta: 400, code 100, "does not exist"', async () => {
    const res = await graph.get('/v23.0/1234567890123456');
    expect(res.status).toBe(400);
    expect(res.data.error).toMatchObject({ code: 100, error_subcode: 33 });
    expect(res.data.error.message).toContain("Object with ID '1234567890123456' does not exist");
  });

  it('can serve corrupted bytes so hash checks can be tested', async () => {
    const { id, sha256Base64 } = fake.addMedia(bytes, 'image/jpeg', { corruptDownload: true });
    const { data } = await graph.get(`/v23.0/${id}`);
    const download = await graph.get(data.url, { responseType: 'arraybuffer' });
    expect(data.sha256).toBe(sha256Base64);
    expect(Buffer.from(download.data)).toHaveLength(bytes.length);
    expect(base64Sha256(Buffer.from(download.data))).not.toBe(sha256Base64);
  });

  it('renders file_size as the document’s string when asked', async () => {
    fake.configure({ mediaFileSizeAs: 'string' });
    const { id } = fake.addMedia(bytes, 'image/jpeg');
    const { data } = await graph.get(`/v23.0/${id}`);
    expect(data.file_size).toBe(String(bytes.length));
  });

  it('accepts a multipart upload, then serves and deletes it', async () => {
    const form = new FormData();
    form.append('messaging_product', 'whatsapp');
    form.append('type', 'application/pdf');
    form.append('file', new Blob([bytes], { type: 'application/pdf' }), 'invoice.pdf');
    const upload = await graph.post(`/v23.0/${PHONE_NUMBER_ID}/media`, form);

    expect(upload.status).toBe(200);
    expect(upload.data).toEqual({ id: expect.stringMatching(/^\d{16}$/) });
    expect(fake.uploads).toEqual([
      expect.objectContaining({ id: upload.data.id, phoneNumberId: PHONE_NUMBER_ID, mimeType: 'application/pdf', filename: 'invoice.pdf' }),
    ]);
    expect(fake.uploads[0].bytes.equals(bytes)).toBe(true);
    expect(fake.specViolations).toEqual([]);

    const info = await graph.get(`/v23.0/${upload.data.id}`);
    expect(info.data).toMatchObject({ mime_type: 'application/pdf', sha256: base64Sha256(bytes), file_size: bytes.length });

    const deleted = await graph.delete(`/v23.0/${upload.data.id}`);
    const afterDelete = await graph.get(`/v23.0/${upload.data.id}`);
    expect(deleted.data).toEqual({ success: true });
    expect(afterDelete.status).toBe(400);
  });

  it('rejects an upload without messaging_product or without a file', async () => {
    const noProduct = new FormData();
    noProduct.append('type', 'image/png');
    noProduct.append('file', new Blob([bytes]), 'a.png');
    const noFile = new FormData();
    noFile.append('messaging_product', 'whatsapp');
    noFile.append('type', 'image/png');

    const a = await graph.post(`/v23.0/${PHONE_NUMBER_ID}/media`, noProduct);
    const b = await graph.post(`/v23.0/${PHONE_NUMBER_ID}/media`, noFile);
    expect([a.status, a.data.error.code, b.status, b.data.error.code]).toEqual([400, 131008, 400, 131008]);
    expect(a.data.error.message).toContain('messaging_product');
    expect(b.data.error.message).toContain('file');
    expect(fake.uploads).toHaveLength(0);
  });
});

describe('without Meta’s OpenAPI document (META_OPENAPI_PATH points nowhere)', () => {
  let bare: MetaGraphFake;
  let bareGraph: AxiosInstance;

  beforeAll(async () => {
    bare = await startMetaGraphFake({ specPath: '/nonexistent/business-messaging-api_v23.0.yaml' });
    bareGraph = axios.create({ baseURL: bare.url, validateStatus: () => true, headers: { Authorization: `Bearer ${TOKEN}` } });
  });

  afterAll(async () => {
    await bare.close();
  });

  beforeEach(() => bare.reset());

  it('accepts what Meta accepts and answers with Meta’s shape', async () => {
    const image = { messaging_product: 'whatsapp', to: '16505551234', type: 'image', image: { id: '1234567890123456' } };
    const reaction = { messaging_product: 'whatsapp', to: '16505551234', type: 'reaction', reaction: { message_id: 'wamid.X', emoji: '' } };
    const withTemplateParameters = {
      ...templateTo('16505551234'),
      template: { name: 'order_update', language: { code: 'en', policy: 'deterministic' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '4711' }] }] },
    };
    const statuses = [];
    for (const body of [textTo('16505551234'), { ...textTo('16505551234', 'x'.repeat(4096)), context: { message_id: 'wamid.Y' } }, templateTo('16505551234'), withTemplateParameters, image, reaction]) {
      statuses.push((await bareGraph.post(SEND_PATH, body)).status);
    }

    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(bare.sent.map((m) => m.type)).toEqual(['text', 'text', 'template', 'template', 'image', 'reaction']);
    expect(bare.specViolations).toEqual([]);
  });

  it.each([
    ['a missing messaging_product', { to: '16505551234', type: 'text', text: { body: 'x' } }, 131008, 'messaging_product'],
    ['a messaging_product other than whatsapp', { ...textTo('16505551234'), messaging_product: 'sms' }, 100, 'messaging_product'],
    ['a missing to', { messaging_product: 'whatsapp', type: 'text', text: { body: 'x' } }, 131008, 'to'],
    ['an unknown type', { messaging_product: 'whatsapp', to: '16505551234', type: 'hologram', hologram: {} }, 100, 'hologram'],
    ['type text without a text object', { messaging_product: 'whatsapp', to: '16505551234', type: 'text' }, 131008, 'text'],
    ['a text without body', { ...textTo('16505551234'), text: { preview_url: false } }, 131008, 'text.body'],
    ['an empty text body', textTo('16505551234', ''), 100, 'text.body'],
    ['a text body over 4096 characters', textTo('16505551234', 'x'.repeat(4097)), 100, '4096'],
    ['an unknown key in text', { ...textTo('16505551234'), text: { body: 'x', colour: 'red' } }, 100, 'colour'],
    ['an unknown key on the body', { ...textTo('16505551234'), priority: 'high' }, 100, 'priority'],
    ['a payload under another key than type', { messaging_product: 'whatsapp', to: '16505551234', type: 'image', text: { body: 'x' } }, 100, 'text'],
    ['a media object with neither id nor link', { messaging_product: 'whatsapp', to: '1650', type: 'image', image: { caption: 'x' } }, 131008, 'image'],
    ['a template without name', { ...templateTo('16505551234'), template: { language: { code: 'en' } } }, 131008, 'template.name'],
    ['a template without language', { ...templateTo('16505551234'), template: { name: 'follow_up' } }, 131008, 'template.language'],
    ['a template language without code', { ...templateTo('16505551234'), template: { name: 'follow_up', language: { policy: 'deterministic' } } }, 131008, 'template.language.code'],
    [
      'a template text parameter without text',
      { ...templateTo('16505551234'), template: { name: 'follow_up', language: { code: 'en' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '' }] }] } },
      131008,
      'template.components.0.parameters.0.text',
    ],
    ['a reaction without message_id', { messaging_product: 'whatsapp', to: '1650', type: 'reaction', reaction: { emoji: '👍' } }, 131008, 'reaction.message_id'],
  ])('rejects %s like Meta, records nothing and no spec violation', async (_label, body, code, named) => {
    const res = await bareGraph.post(SEND_PATH, body);
    expect(res.status).toBe(400);
    expect(res.data.error).toMatchObject({ code, type: 'OAuthException', message: expect.stringContaining(named) });
    expect(res.data.error.fbtrace_id).toEqual(expect.any(String));
    expect(bare.sent).toHaveLength(0);
    expect(bare.specViolations).toEqual([]);
  });

  it('still enforces the window, media uploads and the bearer token', async () => {
    bare.configure({ enforceWindow: true });
    const outside = await bareGraph.post(SEND_PATH, textTo('16505551234'));
    const form = new FormData();
    form.append('messaging_product', 'whatsapp');
    form.append('type', 'image/png');
    form.append('file', new Blob([Buffer.from('png')], { type: 'image/png' }), 'a.png');
    const upload = await bareGraph.post(`/v23.0/${PHONE_NUMBER_ID}/media`, form);
    const anonymousSend = await axios.post(`${bare.url}${SEND_PATH}`, textTo('16505551234'), { validateStatus: () => true });

    expect([outside.status, outside.data.error.code]).toEqual([400, 131047]);
    expect(upload.status).toBe(200);
    expect([anonymousSend.status, anonymousSend.data.error.code]).toEqual([401, 190]);
    expect(bare.specViolations).toEqual([]);
  });
});

describe('reset()', () => {
  it('clears records and media and restores the start options', async () => {
    fake.configure({ throughputPerSecond: 0 });
    const { id } = fake.addMedia(Buffer.from('x'), 'text/plain');
    await graph.post(SEND_PATH, textTo('16505551234'));

    fake.reset();

    expect([fake.sent.length, fake.requests.length, fake.specViolations.length]).toEqual([0, 0, 0]);
    expect(fake.getMedia(id)).toBeUndefined();
    const res = await graph.post(SEND_PATH, textTo('16505551234'));
    expect(res.status).toBe(200);
  });
});
