import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Request validation for the fake Meta Graph server, driven by Meta's own OpenAPI document
 * (facebook/openapi `business-messaging-api_v23.0.yaml`, MIT, copied to ../shared/specs/meta/).
 *
 * The published `sendMessage` schema cannot be used verbatim: compiled as-is it rejects all 50 of the
 * document's own request examples. We therefore apply a small, listed set of repairs before compiling
 * (see `SPEC_REPAIRS`). Each repair either fixes a JSON-Schema construction error or aligns the
 * schema with what Meta's examples and documentation show the live API accepting. Everything else in
 * the schema is enforced as published.
 */

/** Where the OpenAPI document lives: `../shared/specs/meta/…` relative to the repository root (the cwd). */
export const DEFAULT_META_SPEC_PATH = path.resolve(
  process.cwd(),
  '../shared/specs/meta/business-messaging-api_v23.0.yaml',
);

/** The repairs applied to the published schema before compiling, in plain words (for reports and docs). */
export const SPEC_REPAIRS: readonly string[] = [
  'Message variants: `allOf[BaseMessageProperties, {additionalProperties:false,…}]` is merged into one object ' +
    'schema; as published, additionalProperties in the second branch rejects messaging_product, to, etc.',
  'BaseMessageProperties: `recipient_type` is optional (Meta defaults it to "individual"; 8 of the examples omit it).',
  'A missing `type` means "text", as Meta documents; the body is validated as a text message.',
  'LanguageObject: `policy` is optional (Meta defaults it to "deterministic"; most template examples omit it).',
  'TemplateComponent: `index` may be an integer or a string 0-9 (the published pattern `^[2-6, 11-14]$` is a ' +
    'broken character class), and `sub_type` accepts the documented values in either case plus `flow`.',
  'LocationMessage: latitude/longitude may be numbers (every location example sends numbers).',
  'InteractiveObject: `order_details` and `order_status` are valid types with a `name` + `parameters` action, ' +
    'as in the order examples.',
  'Media `link` uses `format: url`, which JSON Schema does not define; any string is accepted.',
];

/** One problem with a send request, in the terms the fake answers with. */
export interface SendMessageProblem {
  /** Graph error code: 131008 for a missing required parameter, 100 for anything else. */
  code: 100 | 131008;
  /** Dotted parameter path, e.g. `text`, `template.language.code`. */
  param: string;
  /** Human-readable description naming the parameter, used as the Graph error message. */
  message: string;
}

/** Result of validating a `POST /{phone-number-id}/messages` body. */
export interface SendMessageValidation {
  /** `message` for a send, `read` for a mark-as-read / typing-indicator request. */
  kind: 'message' | 'read';
  /** The effective message type (`text` when the body has none). Undefined for `read`. */
  type?: string;
  /** Problems that make the fake reject the request; the first one is what it answers with. */
  problems: SendMessageProblem[];
  /** Violations of the (repaired) OpenAPI schema, formatted as `<path> <message>`. */
  specErrors: string[];
}

/** A request example from the OpenAPI document. */
export interface SpecExample {
  name: string;
  value: Record<string, unknown>;
}

type JsonObject = Record<string, any>;

interface CompiledSpec {
  doc: JsonObject;
  ajv: Ajv;
  /** message type → validator of the full send body for that type */
  byType: Map<string, ValidateFunction>;
  uploadFields: ValidateFunction;
}

const compiledByPath = new Map<string, CompiledSpec>();

const SEND_PATH = '/{Version}/{Phone-Number-ID}/messages';
const UPLOAD_PATH = '/{Version}/{Phone-Number-ID}/media';

function refName(ref: string): string {
  return ref.split('/').pop() as string;
}

/** Applies `SPEC_REPAIRS` to a deep copy of `components.schemas`. */
function repairSchemas(original: JsonObject): JsonObject {
  const schemas: JsonObject = structuredClone(original);
  const deref = (schema: JsonObject): JsonObject => (schema.$ref ? schemas[refName(schema.$ref)] : schema);

  schemas.BaseMessageProperties.required = schemas.BaseMessageProperties.required.filter(
    (name: string) => name !== 'recipient_type',
  );

  for (const ref of Object.values<string>(schemas.Message.discriminator.mapping)) {
    const name = refName(ref);
    const merged: JsonObject = { type: 'object', properties: {}, required: [], additionalProperties: false };
    for (const part of (schemas[name].allOf as JsonObject[]).map(deref)) {
      Object.assign(merged.properties, part.properties);
      merged.required.push(...(part.required ?? []));
    }
    merged.required = [...new Set(merged.required)];
    schemas[name] = merged;
  }

  schemas.LanguageObject.required = ['code'];

  const component = schemas.TemplateComponent.properties;
  component.index = { type: ['integer', 'string'], pattern: '^[0-9]$', minimum: 0, maximum: 9 };
  const subTypes = ['quick_reply', 'url', 'catalog', 'flow', 'copy_code', 'mpm', 'voice_call'];
  component.sub_type = { type: 'string', enum: [...subTypes, ...subTypes.map((s) => s.toUpperCase())] };

  const location = schemas.LocationMessage.properties.location.properties;
  location.latitude = { type: ['number', 'string'] };
  location.longitude = { type: ['number', 'string'] };

  schemas.InteractiveObject.properties.type.enum.push('order_details', 'order_status');
  schemas.ActionObject.oneOf.push({
    required: ['name', 'parameters'],
    properties: { name: { type: 'string', enum: ['review_and_pay', 'review_order'] }, parameters: { type: 'object' } },
  });
  return schemas;
}

function compile(specPath: string): CompiledSpec {
  const cached = compiledByPath.get(specPath);
  if (cached) return cached;

  const doc: JsonObject = parse(readFileSync(specPath, 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('url', true);
  ajv.addSchema({ components: { ...doc.components, schemas: repairSchemas(doc.components.schemas) } }, 'meta');

  const mapping: Record<string, string> = doc.components.schemas.Message.discriminator.mapping;
  const byType = new Map<string, ValidateFunction>();
  for (const [type, ref] of Object.entries(mapping)) byType.set(type, ajv.compile({ $ref: `meta${ref}` }));

  const uploadSchema = doc.paths[UPLOAD_PATH].post.requestBody.content['multipart/form-data'].schema;
  const compiled: CompiledSpec = { doc, ajv, byType, uploadFields: ajv.compile(uploadSchema) };
  compiledByPath.set(specPath, compiled);
  return compiled;
}

function dotted(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (child) parts.push(child);
  return parts.join('.');
}

function formatAjvError(error: ErrorObject): string {
  return `${error.instancePath || '/'} ${error.message ?? error.keyword}`;
}

/**
 * Turns ajv errors into the one problem the fake answers with. Missing required parameters become
 * 131008; a failed `oneOf` (e.g. a media object with neither `id` nor `link`) is summarised rather than
 * reported branch by branch; anything else is a 100 "Invalid parameter".
 */
function toProblem(errors: ErrorObject[]): SendMessageProblem {
  const outsideOneOf = errors.filter((e) => !e.schemaPath.includes('/oneOf/'));
  const missing = outsideOneOf.find((e) => e.keyword === 'required');
  if (missing) {
    const param = dotted(missing.instancePath, String(missing.params.missingProperty));
    return { code: 131008, param, message: `(#131008) The parameter ${param} is required.` };
  }
  const oneOf = errors.find((e) => e.keyword === 'oneOf');
  if (oneOf) {
    const param = dotted(oneOf.instancePath) || 'body';
    const alternatives = errors
      .filter((e) => e.keyword === 'required' && e.instancePath === oneOf.instancePath)
      .map((e) => String(e.params.missingProperty));
    if (alternatives.length > 0) {
      return {
        code: 131008,
        param,
        message: `(#131008) The parameter ${param} requires one of: ${[...new Set(alternatives)].join(', ')}.`,
      };
    }
    return { code: 100, param, message: `(#100) Invalid parameter: ${param} does not match any allowed shape.` };
  }
  const first = outsideOneOf[0] ?? errors[0];
  if (first.keyword === 'additionalProperties') {
    const key = String(first.params.additionalProperty);
    const on = dotted(first.instancePath) || 'body';
    return { code: 100, param: dotted(first.instancePath, key), message: `(#100) Unexpected key "${key}" on param "${on}".` };
  }
  const param = dotted(first.instancePath) || 'body';
  return { code: 100, param, message: `(#100) Invalid parameter: ${param} ${first.message ?? first.keyword}.` };
}

function missingParam(param: string): SendMessageProblem {
  return { code: 131008, param, message: `(#131008) The parameter ${param} is required.` };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The mark-as-read / typing-indicator request shares the send endpoint but has no schema in the
 * document (only an example), so it is checked by hand.
 */
function validateReadReceipt(body: JsonObject): SendMessageValidation {
  const problems: SendMessageProblem[] = [];
  if (body.messaging_product !== 'whatsapp') {
    problems.push(
      body.messaging_product === undefined
        ? missingParam('messaging_product')
        : { code: 100, param: 'messaging_product', message: '(#100) Invalid parameter: messaging_product must be "whatsapp".' },
    );
  }
  if (typeof body.message_id !== 'string' || body.message_id === '') problems.push(missingParam('message_id'));
  const typing = body.typing_indicator;
  if (typing !== undefined && !(isObject(typing) && typing.type === 'text')) {
    problems.push({
      code: 100,
      param: 'typing_indicator.type',
      message: '(#100) Invalid parameter: typing_indicator.type must be "text".',
    });
  }
  return { kind: 'read', problems, specErrors: [] };
}

/**
 * Validates a `POST /{version}/{phone-number-id}/messages` body the way the fake (and, as far as the
 * document tells us, Meta) does: first the checks the schema cannot express, then the repaired schema.
 * @param body the parsed JSON body
 * @param specPath optional path to the OpenAPI document (defaults to `DEFAULT_META_SPEC_PATH`)
 */
export function validateSendMessageBody(body: unknown, specPath = DEFAULT_META_SPEC_PATH): SendMessageValidation {
  if (!isObject(body)) {
    const problem: SendMessageProblem = { code: 100, param: 'body', message: '(#100) The request body must be a JSON object.' };
    return { kind: 'message', problems: [problem], specErrors: ['/ must be object'] };
  }
  if (body.status === 'read') return validateReadReceipt(body);

  const { byType } = compile(specPath);
  // Meta documents `type` as optional with "text" as the default.
  const type: unknown = body.type === undefined ? 'text' : body.type;
  const effective: JsonObject = { ...body, type };
  const problems: SendMessageProblem[] = [];

  if (body.messaging_product === undefined) problems.push(missingParam('messaging_product'));
  else if (body.messaging_product !== 'whatsapp') {
    problems.push({ code: 100, param: 'messaging_product', message: '(#100) Invalid parameter: messaging_product must be "whatsapp".' });
  }
  if (body.to === undefined || body.to === '') problems.push(missingParam('to'));
  else if (typeof body.to === 'string' && (body.recipient_type ?? 'individual') === 'individual' && !/\d/.test(body.to)) {
    problems.push({ code: 100, param: 'to', message: '(#100) Invalid parameter: to must be a phone number or wa_id.' });
  }

  const validate = typeof type === 'string' ? byType.get(type) : undefined;
  if (!validate) {
    const allowed = [...byType.keys()].join(', ');
    problems.push({ code: 100, param: 'type', message: `(#100) Param type must be one of {${allowed}}; got "${String(type)}".` });
    return { kind: 'message', type: String(type), problems, specErrors: [`/type must be one of ${allowed}`] };
  }
  const messageType = type as string;
  if (effective[messageType] === undefined) problems.push(missingParam(messageType));

  const specErrors: string[] = [];
  if (!validate(effective)) {
    const errors = validate.errors ?? [];
    specErrors.push(...errors.map(formatAjvError));
    if (problems.length === 0) problems.push(toProblem(errors));
  }
  return { kind: 'message', type: messageType, problems, specErrors };
}

/**
 * Validates the non-file fields of a media upload against the document's multipart schema
 * (the file part is represented by a placeholder string). Returns spec errors, empty when valid.
 */
export function validateUploadFields(fields: Record<string, string>, specPath = DEFAULT_META_SPEC_PATH): string[] {
  const { uploadFields } = compile(specPath);
  return uploadFields(fields) ? [] : (uploadFields.errors ?? []).map(formatAjvError);
}

/** The `sendMessage` request examples from the OpenAPI document, in document order. */
export function loadSendMessageExamples(specPath = DEFAULT_META_SPEC_PATH): SpecExample[] {
  const examples: Record<string, { value: Record<string, unknown> }> =
    compile(specPath).doc.paths[SEND_PATH].post.requestBody.content['application/json'].examples;
  return Object.entries(examples).map(([name, example]) => ({ name, value: example.value }));
}

/** The incoming-webhook payload examples from the OpenAPI document (`POST /whatsapp/webhooks`). */
export function loadWebhookExamples(specPath = DEFAULT_META_SPEC_PATH): SpecExample[] {
  const examples: Record<string, { value: Record<string, unknown> }> =
    compile(specPath).doc.paths['/whatsapp/webhooks'].post.requestBody.content['application/json'].examples;
  return Object.entries(examples).map(([name, example]) => ({ name, value: example.value }));
}

/**
 * Validates any value against a named schema of the document's `components.schemas` (after the
 * repairs above), e.g. `specSchemaErrors('StatusMessageValue', value)`. Returns errors, empty when valid.
 */
export function specSchemaErrors(schemaName: string, value: unknown, specPath = DEFAULT_META_SPEC_PATH): string[] {
  const { ajv } = compile(specPath);
  const ref = `meta#/components/schemas/${schemaName}`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  return validate(value) ? [] : (validate.errors ?? []).map(formatAjvError);
}
