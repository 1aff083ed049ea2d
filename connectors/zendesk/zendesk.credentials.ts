import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  Allow,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { ConnectorError } from '../_sdk/errors';
import type { ZendeskPriority } from './zendesk.types';

/** Accepts an absolute http(s) URL given as a string or a URL object (tests pass a fake's URL). */
function IsHttpUrl(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isHttpUrl',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be an absolute http(s) URL`, ...options },
      validator: {
        validate(value: unknown): boolean {
          if (!(typeof value === 'string' || value instanceof URL)) return false;
          try {
            const url = new URL(String(value));
            return url.protocol === 'http:' || url.protocol === 'https:';
          } catch {
            return false;
          }
        },
      },
    });
}

/**
 * Credentials of one Zendesk connection (encrypted at rest by the core). Authentication is an
 * API token: HTTP Basic `{email}/token:{apiToken}`.
 */
export class ZendeskCredentialsDto {
  /** `acme` for https://acme.zendesk.com. Required unless baseUrl is given. */
  @ValidateIf((o: ZendeskCredentialsDto) => o.baseUrl === undefined || o.subdomain !== undefined)
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/i, { message: 'subdomain must be the account name, e.g. "acme" for acme.zendesk.com' })
  subdomain?: string;

  /** Email of the Zendesk user the API token belongs to (an agent or admin). */
  @IsEmail({ require_tld: false })
  email!: string;

  @IsString()
  @IsNotEmpty()
  apiToken!: string;

  /**
   * Overrides the subdomain: the account's origin without `/api/v2`, e.g. a fake server's
   * http://127.0.0.1:PORT or a host-mapped Zendesk domain.
   */
  @IsOptional()
  @IsHttpUrl()
  baseUrl?: string | URL;

  /** Signing secret of the Zendesk webhook that reports agent replies. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  webhookSecret?: string;

  /**
   * Id of the API token's own user, to ignore comments it wrote (no echo). Learned by
   * verifyCredentials() when absent; store it here to make echo suppression independent of that.
   */
  @IsOptional()
  @IsString()
  @Matches(/^\d+$/)
  apiUserId?: string;
}

export class ZendeskCustomFieldDto {
  @IsInt()
  id!: number;

  /** Any JSON value the field accepts (string, number, boolean, list of option tags). */
  @Allow()
  value!: unknown;
}

export const ZENDESK_PRIORITIES: readonly ZendeskPriority[] = ['low', 'normal', 'high', 'urgent'];

/** Settings of one Zendesk connection (not secret). Every field has a default. */
export class ZendeskSettingsDto {
  /** Ticket subject. Placeholders: {{name}}, {{phone}}, {{waId}}, {{businessNumber}}. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(250)
  subjectTemplate?: string;

  /** Tags on every ticket threadbridge opens (the reply trigger filters on the first one). */
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @Matches(/^[^\s,]+$/, { each: true, message: 'tags cannot contain spaces or commas' })
  tags?: string[];

  @IsOptional()
  @IsInt()
  @Min(1)
  groupId?: number;

  @IsOptional()
  @IsIn(ZENDESK_PRIORITIES as ZendeskPriority[])
  priority?: ZendeskPriority;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ZendeskCustomFieldDto)
  customFields?: ZendeskCustomFieldDto[];

  /** A customer who writes again within this many hours of the ticket's last update reopens it. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(24 * 365)
  reopenWithinHours?: number;

  /** Messages of one direction closer together than this share one comment (saves ticket updates). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10 * 60_000)
  commentCoalesceMs?: number;

  /** IANA time zone for the HH:MM:SS stamps in comments. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/)
  timeZone?: string;

  /**
   * Also add a short internal note when WhatsApp delivers an agent's reply. Off by default: a
   * note per delivered reply doubles the ticket's updates (Zendesk allows about 30 per ticket in
   * 10 minutes) and clutters it; failed and refused replies are always noted.
   */
  @IsOptional()
  @IsBoolean()
  reportDelivered?: boolean;
}

/** Settings with every default applied. */
export type ResolvedZendeskSettings = Required<Omit<ZendeskSettingsDto, 'groupId' | 'priority' | 'customFields'>> &
  Pick<ZendeskSettingsDto, 'groupId' | 'priority' | 'customFields'>;

export const DEFAULT_ZENDESK_SETTINGS = {
  subjectTemplate: 'WhatsApp: {{name}} ({{phone}})',
  tags: ['whatsapp'],
  reopenWithinHours: 24,
  commentCoalesceMs: 2000,
  timeZone: 'UTC',
  reportDelivered: false,
} as const;

/** Applies defaults to settings the core may hand over as plain, partial JSON. */
export function resolveZendeskSettings(settings: Partial<ZendeskSettingsDto> | undefined): ResolvedZendeskSettings {
  const s = settings ?? {};
  return {
    subjectTemplate: s.subjectTemplate ?? DEFAULT_ZENDESK_SETTINGS.subjectTemplate,
    tags: s.tags ? [...s.tags] : [...DEFAULT_ZENDESK_SETTINGS.tags],
    reopenWithinHours: s.reopenWithinHours ?? DEFAULT_ZENDESK_SETTINGS.reopenWithinHours,
    commentCoalesceMs: s.commentCoalesceMs ?? DEFAULT_ZENDESK_SETTINGS.commentCoalesceMs,
    timeZone: s.timeZone ?? DEFAULT_ZENDESK_SETTINGS.timeZone,
    reportDelivered: s.reportDelivered ?? DEFAULT_ZENDESK_SETTINGS.reportDelivered,
    groupId: s.groupId,
    priority: s.priority,
    customFields: s.customFields,
  };
}

/** The API root for the credentials: `<baseUrl or https://{subdomain}.zendesk.com>/api/v2`. */
export function zendeskApiRoot(credentials: Pick<ZendeskCredentialsDto, 'baseUrl' | 'subdomain'>): string {
  return `${zendeskOrigin(credentials)}/api/v2`;
}

/** The account's origin, for API calls and for links agents open (`/agent/tickets/{id}`). */
export function zendeskOrigin(credentials: Pick<ZendeskCredentialsDto, 'baseUrl' | 'subdomain'>): string {
  if (credentials.baseUrl !== undefined) return String(credentials.baseUrl).replace(/\/+$/, '').replace(/\/api\/v2$/, '');
  if (!credentials.subdomain) throw new ConnectorError('invalid_request', 'Zendesk credentials need a subdomain or a baseUrl');
  return `https://${credentials.subdomain}.zendesk.com`;
}
