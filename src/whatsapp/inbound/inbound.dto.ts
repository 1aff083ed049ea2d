/**
 * class-validator DTOs for the parts of a WhatsApp Cloud API webhook the parser relies on.
 * They check only what routing and storage need; everything else Meta sends is kept as it came
 * (no whitelist), so new fields and new message types pass through untouched.
 * Shapes: FBOAS `WebhookPayload`, `Entry`, `Change`, `Metadata`, `BaseMessageProperties_1`, `Statuses`.
 */
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  Equals,
  IsArray,
  IsDefined,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import type { Json } from './json-readers';

/** Unix seconds as Meta sends them: a string of digits. Ten digits last until the year 2286. */
const UNIX_SECONDS = /^\d{1,10}$/;
const UNIX_SECONDS_MESSAGE = '$property must be a string of unix seconds';

export class WebhookEnvelopeDto {
  @Equals('whatsapp_business_account')
  object: 'whatsapp_business_account';

  /** Each entry is checked on its own (WebhookEntryDto) so one bad entry spares the others. */
  @IsArray()
  entry: unknown[];
}

export class WebhookEntryDto {
  /** The WhatsApp Business Account id. */
  @IsNotEmpty()
  @IsString()
  id: string;

  @IsArray()
  changes: unknown[];
}

export class WebhookChangeDto {
  @IsNotEmpty()
  @IsString()
  field: string;

  @IsDefined()
  value: unknown;
}

export class WebhookMetadataDto {
  @IsNotEmpty()
  @IsString()
  phone_number_id: string;

  @IsOptional()
  @IsString()
  display_phone_number?: string;
}

/** `value` of a `field: "messages"` change: messages, statuses or errors (any of them). */
export class MessagesValueDto {
  /** Messages are routed by phone_number_id, so a value without it cannot be used at all. */
  @IsObject()
  @ValidateNested()
  @Type(() => WebhookMetadataDto)
  metadata: WebhookMetadataDto;

  @IsOptional()
  @IsArray()
  contacts?: unknown[];

  @IsOptional()
  @IsArray()
  messages?: unknown[];

  @IsOptional()
  @IsArray()
  statuses?: unknown[];

  @IsOptional()
  @IsArray()
  errors?: unknown[];
}

/** Fields every inbound message has, whatever its type. */
export class InboundMessageDto {
  /** The customer's wa_id (digits). */
  @IsNotEmpty()
  @IsString()
  from: string;

  /** The wamid. */
  @IsNotEmpty()
  @IsString()
  id: string;

  @Matches(UNIX_SECONDS, { message: UNIX_SECONDS_MESSAGE })
  timestamp: string;

  /** Not an enum: unknown future types are kept. */
  @IsNotEmpty()
  @IsString()
  type: string;
}

export class InboundStatusDto {
  /** wamid of the message we sent. */
  @IsNotEmpty()
  @IsString()
  id: string;

  /** Not an enum: Meta adds values (e.g. "played"), and consumers ignore what they do not know. */
  @IsNotEmpty()
  @IsString()
  status: string;

  @Matches(UNIX_SECONDS, { message: UNIX_SECONDS_MESSAGE })
  timestamp: string;

  @IsNotEmpty()
  @IsString()
  recipient_id: string;
}

export type Validated<T> = { ok: true; value: T & Json } | { ok: false; reason: string };

/**
 * Validates one plain object against a DTO. On success `value` is the caller's own object (not a
 * copy), typed by the DTO: nothing is transformed or stripped, and quarantine records and
 * `content` must hold exactly what Meta sent. `path` names the object inside the body (e.g.
 * `entry[0].changes[1].value.messages[2]`) so reasons read
 * `entry[0].changes[1].value.messages[2]: id must be a string`. Only the first failing check of
 * each field is reported; decorators run bottom-up, so `@IsString()` sits below `@IsNotEmpty()`
 * and a missing field reads "must be a string" rather than "should not be empty".
 */
export function validateDto<T extends object>(cls: new () => T, plain: unknown, path: string): Validated<T> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, reason: `${path || 'body'}: must be a JSON object` };
  }
  const errors = validateSync(toInstance(cls, plain as object), { whitelist: false, forbidUnknownValues: true, stopAtFirstError: true });
  if (errors.length === 0) return { ok: true, value: plain as T & Json };

  const byPath = new Map<string, string[]>();
  collectMessages(errors, path, byPath);
  return { ok: false, reason: [...byPath].map(([at, messages]) => (at ? `${at}: ` : '') + messages.join(', ')).join('; ') };
}

/** DTO fields that hold another DTO (declared with @ValidateNested + @Type). */
const NESTED = new Map<new () => object, [string, new () => object][]>([[MessagesValueDto, [['metadata', WebhookMetadataDto]]]]);

/**
 * A DTO instance over the caller's object for class-validator, copying one level only: this runs
 * for every entry, change, message and status of every webhook, and class-transformer's
 * plainToInstance would copy each whole subtree again (the webhook's hot path; bench:ingest).
 */
function toInstance<T extends object>(cls: new () => T, plain: object): T {
  const instance = Object.assign(new cls(), plain) as Record<string, unknown>;
  for (const [key, nested] of NESTED.get(cls) ?? []) {
    const value = instance[key];
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) instance[key] = Object.assign(new nested(), value);
  }
  return instance as T;
}

function collectMessages(errors: ValidationError[], path: string, byPath: Map<string, string[]>): void {
  for (const error of errors) {
    const messages = Object.values(error.constraints ?? {});
    if (messages.length > 0) byPath.set(path, [...(byPath.get(path) ?? []), ...messages]);
    const childPath = /^\d+$/.test(error.property) ? `${path}[${error.property}]` : path ? `${path}.${error.property}` : error.property;
    collectMessages(error.children ?? [], childPath, byPath);
  }
}
