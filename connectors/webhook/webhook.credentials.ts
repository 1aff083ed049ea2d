import 'reflect-metadata';
import { IsInt, IsOptional, IsString, Max, Min, registerDecorator, type ValidationOptions } from 'class-validator';
import { randomBytes } from 'node:crypto';

/** Standard Webhooks: a symmetric secret is 24 to 64 random bytes, shown as `whsec_` + base64. */
const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = { min: 24, max: 64, generated: 32 };
/** Hosts a plain-http URL may name: a receiver on this machine (development, tests). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A new signing secret: 32 random bytes in the Standard Webhooks form. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES.generated).toString('base64');
}

/** Whether `value` is a `whsec_` secret whose key is 24–64 bytes of canonical base64. */
export function isWebhookSecret(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith(SECRET_PREFIX)) return false;
  const encoded = value.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return false;
  const bytes = Buffer.from(encoded, 'base64').length;
  return bytes >= SECRET_BYTES.min && bytes <= SECRET_BYTES.max;
}

/** An https URL, or http to this machine only: events carry customers' messages. */
export function isReceiverUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    if (url.username || url.password) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  } catch {
    return false;
  }
}

function Satisfies(check: (value: unknown) => boolean, message: string, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: `webhook_${String(propertyName)}`,
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message, ...options },
      validator: { validate: check },
    });
}

/**
 * Credentials of one webhook connection (encrypted at rest by the core): where events go and the
 * secret both sides sign with. Leave `secret` out when creating the connection and threadbridge
 * generates one, shown once in the answer.
 */
export class WebhookCredentialsDto {
  /** The receiver's endpoint. https (plain http only to 127.0.0.1/localhost); no user:password in it. */
  @IsString()
  @Satisfies(isReceiverUrl, 'url must be an https URL (http only for 127.0.0.1/localhost) without user:password')
  url!: string;

  /** `whsec_` + base64 of 24–64 random bytes (Standard Webhooks' symmetric secret). */
  @IsString()
  @Satisfies(isWebhookSecret, 'secret must be whsec_ followed by the base64 of 24 to 64 random bytes; leave it out to have one generated')
  secret!: string;
}

/** Settings of a webhook connection (not secret). */
export class WebhookSettingsDto {
  /** Deliveries per second this receiver takes, across every worker (default 10). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  requestsPerSecond?: number;
}
