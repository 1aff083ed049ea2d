/**
 * What a Pipedrive connection is configured with. Credentials are secret (encrypted at rest by the
 * core); settings are not. The core validates plain JSON against these classes and keeps the
 * initialisers below for absent keys, so `{}` is a complete set of settings.
 */
import 'reflect-metadata';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import type { ConsentScope } from '../_sdk/contract';

export const PIPEDRIVE_DEFAULT_BASE_URL = 'https://api.pipedrive.com';

export class PipedriveCredentials {
  /** The personal API token of the Pipedrive user threadbridge writes as (Personal preferences → API). */
  @IsString()
  @IsNotEmpty()
  apiToken!: string;

  /**
   * The API origin without a path: https://api.pipedrive.com (default) or the company's own
   * https://<company>.pipedrive.com; tests and demos point it at a local fake.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  baseUrl?: string;
}

/**
 * The smallest daily token budget an account has: 30,000 base tokens × plan multiplier (Lite 1)
 * × seats (1). Pipedrive shares it between every app and user of the account.
 */
export const PIPEDRIVE_MIN_DAILY_TOKENS = 30_000;

export class PipedriveSettings {
  /**
   * Sales pipeline from chats: a new conversation opens a lead for the person (or joins the open
   * lead of the customer's last conversation within `leadReuseHours`), its messages are noted on
   * the lead too, and its transcript lands there on close. Off: notes on the person only.
   */
  @IsBoolean()
  leads = true;

  /** Lead title. Placeholders: {{name}}, {{phone}}, {{waId}}, {{businessNumber}}, {{date}}. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  leadTitleTemplate = 'WhatsApp: {{name}} ({{phone}})';

  /** A conversation opened within this many hours of the open lead's last activity joins that lead. */
  @IsInt()
  @Min(0)
  @Max(24 * 90)
  leadReuseHours = 24;

  /** Owner of the leads threadbridge opens (a Pipedrive user id). Default: the API token's user. */
  @IsOptional()
  @IsInt()
  @Min(1)
  leadOwnerId?: number;

  /** Labels of the leads threadbridge opens (lead label uuids, Leads → Labels). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsUUID('all', { each: true })
  leadLabelIds?: string[];

  /**
   * Messages closer together than this share one note, and the core waits until a chat has been
   * quiet this long (at most 30 s) before handing its burst over: a note costs tokens and clutters
   * the person's history less when a burst of lines is one note.
   */
  @IsInt()
  @Min(0)
  @Max(10 * 60_000)
  noteBurstMs = 10_000;

  /**
   * Photos, voice notes and documents uploaded into Pipedrive (the Files tab of the person and the
   * lead/deal, 10 tokens each) besides the link in the note. Off: the note links to the file
   * threadbridge stores (which is removed by retention and erasure, a Pipedrive copy is not).
   */
  @IsBoolean()
  uploadMedia = false;

  /** IANA time zone of the WhatsApp times written into notes. */
  @IsString()
  @Matches(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/)
  timeZone = 'UTC';

  /**
   * The key of a person field (a custom field's 40-character key, Settings → Data fields) that
   * mirrors the customer's WhatsApp consent. Absent: consent is not written to Pipedrive.
   */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_]{1,64}$/, { message: 'consentField must be a person field key (e.g. the 40-character key of a custom field)' })
  consentField?: string;

  /** Which consent scope the field mirrors; changes of the other scope are not written. */
  @IsIn(['marketing', 'transactional'])
  consentScope: ConsentScope = 'marketing';

  /** Written into `consentField` when the customer opted in (text, or a single-option field's option id). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  consentOptedInValue?: string;

  /** Written into `consentField` when the customer opted out. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  consentOptedOutValue?: string;

  /**
   * The account's daily token budget that threadbridge may spend (Pipedrive: 30,000 × plan
   * multiplier × seats, shared with every other app and user). Default: the smallest account's.
   */
  @IsInt()
  @Min(1_000)
  @Max(100_000_000)
  dailyTokens = PIPEDRIVE_MIN_DAILY_TOKENS;
}

/** The API origin of the credentials, without a trailing slash. */
export function pipedriveOrigin(credentials: Pick<PipedriveCredentials, 'baseUrl'>): string {
  return String(credentials.baseUrl ?? PIPEDRIVE_DEFAULT_BASE_URL).replace(/\/+$/, '');
}

/** Settings with every default applied, whatever the core hands over (a DTO instance or partial JSON). */
export function resolvePipedriveSettings(settings: Partial<PipedriveSettings> | undefined): PipedriveSettings {
  const given = Object.entries(settings ?? {}).filter(([, value]) => value !== undefined);
  return Object.assign(new PipedriveSettings(), Object.fromEntries(given));
}
