import { existsSync, readFileSync } from 'node:fs';
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { META_OPENAPI_PATH, MetaOpenApiMissingError } from './meta-openapi';

/**
 * Request validation for the fake Meta Graph server, in two layers:
 *  - the fake's own checks of what a send must contain (`metaSendChecks`), written from Meta's
 *    documentation and error codes. They always run, so the fake behaves like Meta even where the
 *    OpenAPI document is not available;
 *  - Meta's own OpenAPI document (facebook/openapi `business-messaging-api_v23.0.yaml`, MIT, read from
 *    META_OPENAPI_PATH, see meta-openapi.ts), when it is there. Without it, spec validation is off:
 *    `specErrors` stay empty and only the own checks answer.
 *
 * The published `sendMessage` schema cannot be used verbatim: compiled as-is it rejects all 50 of the
 * document's own request examples. We therefore apply a small, listed set of repairs before compiling
 * (see `SPEC_REPAIRS`). Each repair either fixes a JSON-Schema construction error or aligns the
 * schema with what Meta's examples and documentation show the live API accepting. Everything else in
 * the schema is enforced as published.
 */

/** Where the OpenAPI document is read from unless a caller names another file (META_OPENAPI_PATH). */
export const DEFAULT_META_SPEC_PATH = META_OPENAPI_PATH;

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

/** The compiled document, or undefined when it is not there (spec validation off). */
function compileIfPresent(specPath: string): CompiledSpec | undefined {
  const cached = compiledByPath.get(specPath);
  if (cached) return cached;
  return existsSync(specPath) ? compile(specPath) : undefined;
}

/** The compiled document, for the readers that cannot work without it. */
function compileRequired(specPath: string): CompiledSpec {
  const compiled = compileIfPresent(specPath);
  if (!compiled) throw new MetaOpenApiMissingError(specPath);
  return compiled;
}

function compile(specPath: string): CompiledSpec {

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

/** The message types Meta's send endpoint takes (the document's `Message` discriminator lists the same 11). */
export const MESSAGE_TYPES = [
  'text',
  'audio',
  'document',
  'image',
  'location',
  'video',
  'sticker',
  'reaction',
  'interactive',
  'template',
  'contacts',
] as const;

const MEDIA_TYPES = new Set(['audio', 'document', 'image', 'video', 'sticker']);
/** Top-level keys of a send besides the one named by `type` (BaseMessageProperties). */
const BASE_KEYS = new Set(['messaging_product', 'recipient_type', 'to', 'type', 'context']);
/** Meta's limit for `text.body`, in characters. */
export const MAX_TEXT_BODY = 4096;

function invalidParam(param: string, why: string): SendMessageProblem {
  return { code: 100, param, message: `(#100) Invalid parameter: ${param} ${why}.` };
}

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/** What the object under `type` must contain, per type: Meta's rules, as its documentation and errors state them. */
function payloadChecks(type: string, payload: unknown): SendMessageProblem[] {
  if (payload === undefined) return [missingParam(type)];
  if (type === 'contacts') {
    return Array.isArray(payload) && payload.length > 0 ? [] : [invalidParam('contacts', 'must be a non-empty array')];
  }
  if (!isObject(payload)) return [invalidParam(type, 'must be an object')];

  if (type === 'text') {
    const unexpected = Object.keys(payload).find((key) => key !== 'body' && key !== 'preview_url');
    if (unexpected) return [{ code: 100, param: `text.${unexpected}`, message: `(#100) Unexpected key "${unexpected}" on param "text".` }];
    if (payload.body === undefined) return [missingParam('text.body')];
    if (!isNonEmptyString(payload.body)) return [invalidParam('text.body', 'must be a non-empty string')];
    // Meta counts characters (UTF-16 code units, as JavaScript does), not bytes.
    if (payload.body.length > MAX_TEXT_BODY) return [invalidParam('text.body', `must be at most ${MAX_TEXT_BODY} characters long`)];
    return [];
  }
  if (MEDIA_TYPES.has(type)) {
    if (payload.id === undefined && payload.link === undefined) {
      return [{ code: 131008, param: type, message: `(#131008) The parameter ${type} requires one of: id, link.` }];
    }
    if (payload.id !== undefined && payload.link !== undefined) return [invalidParam(type, 'takes either id or link, not both')];
    const ref = payload.id ?? payload.link;
    return isNonEmptyString(ref) ? [] : [invalidParam(`${type}.${payload.id !== undefined ? 'id' : 'link'}`, 'must be a non-empty string')];
  }
  if (type === 'template') return templateChecks(payload);
  if (type === 'location') {
    const missing = ['latitude', 'longitude'].find((key) => payload[key] === undefined);
    return missing ? [missingParam(`location.${missing}`)] : [];
  }
  if (type === 'reaction') {
    if (!isNonEmptyString(payload.message_id)) return [missingParam('reaction.message_id')];
    // An empty emoji is how a reaction is removed, so only its presence is required.
    return typeof payload.emoji === 'string' ? [] : [missingParam('reaction.emoji')];
  }
  if (type === 'interactive') {
    const missing = ['type', 'action'].find((key) => payload[key] === undefined);
    return missing ? [missingParam(`interactive.${missing}`)] : [];
  }
  return [];
}

function templateChecks(template: JsonObject): SendMessageProblem[] {
  if (template.name === undefined) return [missingParam('template.name')];
  if (!isNonEmptyString(template.name)) return [invalidParam('template.name', 'must be a non-empty string')];
  if (template.language === undefined) return [missingParam('template.language')];
  if (!isObject(template.language)) return [invalidParam('template.language', 'must be an object')];
  if (template.language.code === undefined) return [missingParam('template.language.code')];
  if (!isNonEmptyString(template.language.code)) return [invalidParam('template.language.code', 'must be a non-empty string')];
  if (template.components === undefined) return [];
  if (!Array.isArray(template.components)) return [invalidParam('template.components', 'must be an array')];
  for (const [c, component] of template.components.entries()) {
    if (!isObject(component) || component.type === undefined) return [missingParam(`template.components.${c}.type`)];
    const parameters: unknown = component.parameters;
    if (parameters === undefined) continue;
    if (!Array.isArray(parameters)) return [invalidParam(`template.components.${c}.parameters`, 'must be an array')];
    for (const [p, parameter] of parameters.entries()) {
      const param = `template.components.${c}.parameters.${p}`;
      if (!isObject(parameter) || parameter.type === undefined) return [missingParam(`${param}.type`)];
      // Meta answers 131008 "Parameter of type text is missing text value" for an absent or empty text.
      // Only presence is checked: the document's own examples send YAML booleans there and are accepted.
      if (parameter.type === 'text' && (parameter.text ?? '') === '') return [missingParam(`${param}.text`)];
    }
  }
  return [];
}

/**
 * The fake's own checks of a send body, with or without the OpenAPI document: the envelope
 * (messaging_product, to, recipient_type, type, no unknown keys) and what the object under `type`
 * must contain (text.body and its length, a media id or link, template name and language…), each
 * answered with Meta's codes: 131008 for a missing parameter, 100 for an invalid one. The first
 * problem is what the fake answers with.
 * @param type the effective type (`text` when the body has none)
 */
export function metaSendChecks(body: JsonObject, type: unknown): SendMessageProblem[] {
  const problems: SendMessageProblem[] = [];
  if (body.messaging_product === undefined) problems.push(missingParam('messaging_product'));
  else if (body.messaging_product !== 'whatsapp') {
    problems.push({ code: 100, param: 'messaging_product', message: '(#100) Invalid parameter: messaging_product must be "whatsapp".' });
  }
  if (body.to === undefined || body.to === '') problems.push(missingParam('to'));
  else if (typeof body.to !== 'string') problems.push(invalidParam('to', 'must be a string'));
  else if ((body.recipient_type ?? 'individual') === 'individual' && !/\d/.test(body.to)) {
    problems.push({ code: 100, param: 'to', message: '(#100) Invalid parameter: to must be a phone number or wa_id.' });
  }
  if (body.recipient_type !== undefined && body.recipient_type !== 'individual' && body.recipient_type !== 'group') {
    problems.push(invalidParam('recipient_type', 'must be one of {individual, group}'));
  }
  if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) {
    problems.push({ code: 100, param: 'type', message: `(#100) Param type must be one of {${MESSAGE_TYPES.join(', ')}}; got "${String(type)}".` });
    return problems;
  }
  const unexpected = Object.keys(body).find((key) => !BASE_KEYS.has(key) && key !== type);
  if (unexpected) problems.push({ code: 100, param: unexpected, message: `(#100) Unexpected key "${unexpected}" on param "body".` });
  problems.push(...payloadChecks(type, body[type]));
  return problems;
}

/**
 * Validates a `POST /{version}/{phone-number-id}/messages` body the way the fake (and, as far as we
 * know, Meta) does: first the fake's own checks (`metaSendChecks`), then, when the OpenAPI document
 * is there, the repaired schema. Without the document `specErrors` is always empty.
 * @param body the parsed JSON body
 * @param specPath optional path to the OpenAPI document (defaults to `DEFAULT_META_SPEC_PATH`)
 */
export function validateSendMessageBody(body: unknown, specPath = DEFAULT_META_SPEC_PATH): SendMessageValidation {
  if (!isObject(body)) {
    const problem: SendMessageProblem = { code: 100, param: 'body', message: '(#100) The request body must be a JSON object.' };
    return { kind: 'message', problems: [problem], specErrors: ['/ must be object'] };
  }
  if (body.status === 'read') return validateReadReceipt(body);

  // Meta documents `type` as optional with "text" as the default.
  const type: unknown = body.type === undefined ? 'text' : body.type;
  const problems = metaSendChecks(body, type);
  const spec = compileIfPresent(specPath);
  const validate = typeof type === 'string' ? spec?.byType.get(type) : undefined;
  if (!spec || !validate) {
    const specErrors = spec ? [`/type must be one of ${[...spec.byType.keys()].join(', ')}`] : [];
    return { kind: 'message', type: String(type), problems, specErrors };
  }

  const specErrors: string[] = [];
  if (!validate({ ...body, type })) {
    const errors = validate.errors ?? [];
    specErrors.push(...errors.map(formatAjvError));
    if (problems.length === 0) problems.push(toProblem(errors));
  }
  return { kind: 'message', type: type as string, problems, specErrors };
}

/**
 * Validates the non-file fields of a media upload against the document's multipart schema
 * (the file part is represented by a placeholder string). Returns spec errors, empty when valid or
 * when the document is not there (the fake checks the fields Meta requires itself).
 */
export function validateUploadFields(fields: Record<string, string>, specPath = DEFAULT_META_SPEC_PATH): string[] {
  const spec = compileIfPresent(specPath);
  if (!spec) return [];
  return spec.uploadFields(fields) ? [] : (spec.uploadFields.errors ?? []).map(formatAjvError);
}

/** Whether sends are also checked against the OpenAPI document (it is at `specPath`). */
export function specValidationEnabled(specPath = DEFAULT_META_SPEC_PATH): boolean {
  return compiledByPath.has(specPath) || existsSync(specPath);
}

/** The `sendMessage` request examples from the OpenAPI document, in document order. Throws without the document. */
export function loadSendMessageExamples(specPath = DEFAULT_META_SPEC_PATH): SpecExample[] {
  const examples: Record<string, { value: Record<string, unknown> }> =
    compileRequired(specPath).doc.paths[SEND_PATH].post.requestBody.content['application/json'].examples;
  return Object.entries(examples).map(([name, example]) => ({ name, value: example.value }));
}

/** The incoming-webhook payload examples from the OpenAPI document (`POST /whatsapp/webhooks`). Throws without it. */
export function loadWebhookExamples(specPath = DEFAULT_META_SPEC_PATH): SpecExample[] {
  const examples: Record<string, { value: Record<string, unknown> }> =
    compileRequired(specPath).doc.paths['/whatsapp/webhooks'].post.requestBody.content['application/json'].examples;
  return Object.entries(examples).map(([name, example]) => ({ name, value: example.value }));
}

/**
 * Validates any value against a named schema of the document's `components.schemas` (after the
 * repairs above), e.g. `specSchemaErrors('StatusMessageValue', value)`. Returns errors, empty when valid.
 */
export function specSchemaErrors(schemaName: string, value: unknown, specPath = DEFAULT_META_SPEC_PATH): string[] {
  const { ajv } = compileRequired(specPath);
  const ref = `meta#/components/schemas/${schemaName}`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  return validate(value) ? [] : (validate.errors ?? []).map(formatAjvError);
}
