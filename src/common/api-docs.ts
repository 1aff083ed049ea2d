import { applyDecorators } from '@nestjs/common';
import type { PublishedEvent } from '../../connectors/_sdk/contract';
import { ApiDefaultResponse, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

/**
 * The body of every error answer: what Nest's HttpExceptions, the ValidationPipe, the exception
 * filters (src/common/exception.filter.ts and each module's *-exception.filter.ts), the body
 * parsers and the webhook receiver write. `message` is a list when the ValidationPipe names each
 * field it refused.
 */
export class ErrorResponse {
  @ApiProperty({ type: 'integer', example: 404 })
  statusCode: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'What went wrong, for a person; one line per refused field for an invalid body',
    example: 'no connection with this id',
  })
  message: string | string[];

  @ApiPropertyOptional({ type: String, description: "The status's reason phrase", example: 'Not Found' })
  error?: string;

  @ApiPropertyOptional({ type: [String], description: 'Invalid connection input: one line per field problem' })
  problems?: string[];
}

/** What each error status means when an operation has nothing more precise to say. */
const DEFAULT_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (each refused field named)',
  401: 'Missing, unknown or revoked API key',
  403: "The key's role lacks the permission",
  404: 'Not found',
  409: 'Conflict',
  413: 'Body too large',
  429: 'Too many requests: wait Retry-After seconds',
  502: 'A vendor could not be reached',
  503: 'Temporarily unavailable (the database cannot be reached): retry after Retry-After seconds',
};

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } };

/**
 * The error answers an operation (or every operation of a controller) may give, each with the
 * ErrorResponse body: a status alone takes its usual description, `{ 404: 'No such …' }` says more.
 * 429 and 503 declare their Retry-After header.
 */
export function ApiErrors(...errors: (number | Record<number, string>)[]): MethodDecorator & ClassDecorator {
  const described = new Map<number, string>();
  for (const entry of errors) {
    if (typeof entry === 'number') described.set(entry, DEFAULT_DESCRIPTIONS[entry] ?? 'Error');
    else for (const [status, description] of Object.entries(entry)) described.set(Number(status), description);
  }
  return applyDecorators(
    ...[...described].map(([status, description]) =>
      ApiResponse({ status, description, type: ErrorResponse, ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}) }),
    ),
  );
}

/** Any error an operation does not list (500 internal error, and the like): the same body. */
export function ApiOtherErrors(): MethodDecorator & ClassDecorator {
  return ApiDefaultResponse({ description: 'Any other error (e.g. 500 internal error)', type: ErrorResponse });
}

/**
 * An OpenAPI 3.0 document as 3.1 (which has the `webhooks` section): 3.0's `nullable: true`
 * becomes JSON Schema's own null type, the only keyword that changed meaning between them in
 * what @nestjs/swagger writes.
 */
export function asOpenApi31<T extends object>(document: T): T & { openapi: string } {
  const convert = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(convert);
    if (!node || typeof node !== 'object') return node;
    const { nullable, ...rest } = node as Record<string, unknown>;
    const out = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, convert(value)]));
    if (nullable !== true) return out;
    // A composed or referenced schema (`allOf: [$ref]` beside a type) admits null only around it.
    if (['$ref', 'allOf', 'anyOf', 'oneOf'].some((key) => key in out)) return { anyOf: [out, { type: 'null' }] };
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] };
    return { anyOf: [out, { type: 'null' }] };
  };
  return { ...(convert(document) as T), openapi: '3.1.0' };
}

/**
 * The `webhooks` section (OpenAPI 3.1) for the events connectors send: one POST each, keyed
 * `<connector id>/<event type>`, its body the event's JSON Schema with its example. A receiver's
 * 2xx is success (what other answers mean is the connector's README).
 */
export function webhooksSection(connectors: { id: string; name: string; events: readonly PublishedEvent[] }[]): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const connector of connectors) {
    for (const event of connector.events) {
      const { $schema: _dialect, ...schema } = event.schema;
      section[`${connector.id}/${event.type}`] = {
        post: {
          operationId: `${connector.id}_${event.type.replace(/\W/g, '_')}`,
          tags: [`${connector.name} events`],
          summary: event.summary,
          description: event.description,
          parameters: Object.entries(event.headers ?? {}).map(([name, description]) => ({ name, in: 'header', required: true, description, schema: { type: 'string' } })),
          requestBody: { required: true, content: { 'application/json': { schema, example: event.example } } },
          responses: { '200': { description: 'Received (any 2xx)' } },
        },
      };
    }
  }
  return section;
}
