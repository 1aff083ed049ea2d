import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import axios from 'axios';
import { randomBytes } from 'node:crypto';
import { type HubspotFake, startHubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { aTextMessageWebhook } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { allowFakes, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true });
const auth = { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } };
const TOKEN = `pat-na1-${randomBytes(8).toString('hex')}`;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ERROR_RESPONSE = '#/components/schemas/ErrorResponse';
/** Error answers with a body of their own: a refused reply says why and what to do. */
const OWN_ERROR_BODIES: Record<string, string> = {
  'POST /api/v1/conversations/{id}/replies 422': '#/components/schemas/ReplyRefusedDto',
  'POST /api/v1/contacts/{id}/messages 422': '#/components/schemas/ReplyRefusedDto',
};

interface MediaType {
  schema?: { $ref?: string; type?: string };
}
interface ResponseObject {
  description?: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId?: string;
  responses: Record<string, ResponseObject>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

// ajv-formats is CommonJS: under ESM its function is the module's default (or that default's default).
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/** Every operation of the document as `METHOD /path`. */
function operations(doc: OpenApiDocument): { name: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
  );
}

/** Every `$ref` anywhere in the document. */
function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, found));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string') found.push(v);
      else refsIn(v, found);
    }
  }
  return found;
}

function resolve(doc: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), doc);
}

/**
 * The document's schemas as JSON Schema for the spot checks, and strict: an object schema with
 * listed properties accepts no other, so a field the API returns but the docs omit fails too.
 * OpenAPI 3.0's `nullable` (beside a type, or around an allOf of a $ref) becomes "null or that".
 */
function strict(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strict);
  if (!value || typeof value !== 'object') return value;
  const { nullable, ...rest } = value as Record<string, unknown>;
  const out = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, strict(s)])) : strict(v)]));
  if ('properties' in out && !('additionalProperties' in out)) out.additionalProperties = false;
  return nullable === true ? { anyOf: [{ type: 'null' }, out] } : out;
}

describe('the OpenAPI document at /docs-json', () => {
  let database: TestDatabase;
  let hubspot: HubspotFake;
  let service: TestService;
  let doc: OpenApiDocument;
  let ajv: Ajv;

  /** The validator of the body `name` of the document declares for `METHOD /path` and status. */
  const declared = (operation: string, status: number): ValidateFunction => {
    const [method, path] = operation.split(' ');
    const schema = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${operation} declares no JSON body for ${status}`);
    return ajv.compile({ $ref: `docs${schema.$ref ?? ''}` });
  };
  const expectBodyMatches = (operation: string, status: number, body: unknown) => {
    const validate = declared(operation, status);
    const valid = validate(body);
    expect({ operation, status, errors: valid ? null : validate.errors }).toEqual({ operation, status, errors: null });
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    hubspot = await startHubspotFake({ accessTokens: [TOKEN], rateLimit: false });
    service = await startTestService({ DATABASE_URL: database.url, ROLE: 'api', EGRESS_ALLOW: allowFakes(hubspot) });
    const res = await http.get(`${service.url}/docs-json`);
    expect(res.status).toBe(200);
    doc = res.data;
    ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'docs', components: strict(doc.components) as object });
  });

  afterAll(async () => {
    await service?.stop();
    await hubspot?.close();
    await database?.drop();
  });

  it('describes the operator API and the webhooks', () => {
    const names = operations(doc).map((o) => o.name);
    expect(names.length).toBeGreaterThanOrEqual(31);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /api/v1/connections',
        'POST /api/v1/contacts/{id}/messages',
        'POST /webhooks/whatsapp',
        'GET /webhooks/whatsapp',
        'POST /webhooks/connections/{id}',
      ]),
    );
    expect(new Set(operations(doc).map((o) => o.op.operationId)).size).toBe(names.length);
  });

  it('gives every operation a success answer with a schema, or an explicit 204 without a body', () => {
    const without = operations(doc)
      .filter(({ op }) => {
        const success = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
        if (success.length === 0) return true;
        return !success.every(([status, r]) => (status === '204' ? !r.content : Object.values(r.content ?? {}).some((m) => m.schema)));
      })
      .map((o) => o.name);
    expect(without).toEqual([]);
  });

  it('declares the ErrorResponse body for every error answer', () => {
    const wrong: string[] = [];
    for (const { name, op } of operations(doc)) {
      const errors = Object.entries(op.responses).filter(([status]) => status === 'default' || Number(status) >= 400);
      if (errors.length === 0) wrong.push(`${name}: no error answers`);
      for (const [status, response] of errors) {
        const ref = response.content?.['application/json']?.schema?.$ref;
        const expected = OWN_ERROR_BODIES[`${name} ${status}`] ?? ERROR_RESPONSE;
        if (ref !== expected) wrong.push(`${name} ${status}: ${ref ?? 'no schema'}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(doc.components.schemas.ErrorResponse).toMatchObject({ required: expect.arrayContaining(['statusCode', 'message']) });
  });

  it('is OpenAPI 3.1 and publishes the events connectors send as webhooks, each with its schema and an example', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(JSON.stringify(doc)).not.toContain('"nullable"');
    const webhooks = (doc as unknown as { webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: object; example: unknown }> } } }> }).webhooks;
    expect(Object.keys(webhooks)).toEqual(expect.arrayContaining(['webhook/message.received', 'webhook/message.sent', 'webhook/message.status', 'webhook/conversation.opened', 'webhook/conversation.closed', 'webhook/contact.erased', 'webhook/consent.changed']));
    for (const [name, item] of Object.entries(webhooks)) {
      const { schema, example } = item.post.requestBody.content['application/json'];
      const validate = ajv.compile(schema);
      expect({ name, errors: validate(example) ? null : validate.errors }).toEqual({ name, errors: null });
    }
  });

  it('resolves every $ref', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter((ref) => resolve(doc, ref) === undefined)).toEqual([]);
  });

  it('names the pagination envelopes once per item type', () => {
    const schemas = doc.components.schemas;
    expect(schemas.ConnectionList).toMatchObject({ required: ['data'], properties: { data: { type: 'array', items: { $ref: '#/components/schemas/ConnectionDto' } } } });
    expect(schemas.ContactPage).toMatchObject({
      required: expect.arrayContaining(['data', 'nextCursor']),
      properties: { data: { items: { $ref: '#/components/schemas/ContactDto' } }, nextCursor: { type: expect.arrayContaining(['null']) } },
    });
    const lists = doc.paths['/api/v1/contacts'].get.responses['200'].content?.['application/json'].schema?.$ref;
    expect(lists).toBe('#/components/schemas/ContactPage');
  });

  describe('real answers match their declared schemas (no undeclared field either)', () => {
    it('connections: created, listed, one, and an unknown one', async () => {
      const created = await http.post(`${service.url}/api/v1/connections`, { connectorId: 'hubspot', name: 'docs', credentials: { accessToken: TOKEN, baseUrl: hubspot.url } }, auth);
      expect(created.status).toBe(201);
      expectBodyMatches('POST /api/v1/connections', 201, created.data);

      const list = await http.get(`${service.url}/api/v1/connections`, auth);
      expect(list.status).toBe(200);
      expect(list.data.data).toHaveLength(1);
      expectBodyMatches('GET /api/v1/connections', 200, list.data);

      const one = await http.get(`${service.url}/api/v1/connections/${created.data.id}`, auth);
      expectBodyMatches('GET /api/v1/connections/{id}', 200, one.data);

      const missing = await http.get(`${service.url}/api/v1/connections/00000000-0000-4000-8000-000000000000`, auth);
      expect(missing.status).toBe(404);
      expectBodyMatches('GET /api/v1/connections/{id}', 404, missing.data);
    });

    it('a webhook delivery, then the contact, conversation and message it stored', async () => {
      const webhook = `${service.url}/webhooks/whatsapp`;
      const stored = await postMetaWebhook(webhook, aTextMessageWebhook({ text: 'hello docs' }), TEST_APP_SECRET);
      expect(stored.status).toBe(200);
      expectBodyMatches('POST /webhooks/whatsapp', 200, stored.body);
      const unsigned = await postMetaWebhook(webhook, aTextMessageWebhook(), TEST_APP_SECRET, { signature: 'sha256=00' });
      expect(unsigned.status).toBe(401);
      expectBodyMatches('POST /webhooks/whatsapp', 401, unsigned.body);

      const contacts = await http.get(`${service.url}/api/v1/contacts`, auth);
      expect(contacts.data.data).toHaveLength(1);
      expectBodyMatches('GET /api/v1/contacts', 200, contacts.data);
      const conversations = await http.get(`${service.url}/api/v1/conversations`, auth);
      expectBodyMatches('GET /api/v1/conversations', 200, conversations.data);
      const messages = await http.get(`${service.url}/api/v1/conversations/${conversations.data.data[0].id}/messages`, auth);
      expect(messages.data.data[0]).toMatchObject({ body: 'hello docs' });
      expectBodyMatches('GET /api/v1/conversations/{id}/messages', 200, messages.data);
      const exported = await http.get(`${service.url}/api/v1/contacts/${contacts.data.data[0].id}/export`, auth);
      expect(exported.status).toBe(200);
      expectBodyMatches('GET /api/v1/contacts/{id}/export', 200, exported.data);
    });

    it('API keys, and refusals: an invalid body (one message per field), no key', async () => {
      const created = await http.post(`${service.url}/api/v1/api-keys`, { name: 'docs key', role: 'auditor' }, auth);
      expect(created.status).toBe(201);
      expectBodyMatches('POST /api/v1/api-keys', 201, created.data);
      const list = await http.get(`${service.url}/api/v1/api-keys`, auth);
      expectBodyMatches('GET /api/v1/api-keys', 200, list.data);

      const invalid = await http.post(`${service.url}/api/v1/api-keys`, { name: '', role: 'auditor', extra: 1 }, auth);
      expect(invalid.status).toBe(400);
      expect(Array.isArray(invalid.data.message)).toBe(true);
      expectBodyMatches('POST /api/v1/api-keys', 400, invalid.data);
      const anonymous = await http.get(`${service.url}/api/v1/api-keys`);
      expect(anonymous.status).toBe(401);
      expectBodyMatches('GET /api/v1/api-keys', 401, anonymous.data);
    });
  });
});
