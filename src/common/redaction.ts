/**
 * Redaction of personal data and secrets in log lines. Structured fields are removed by name
 * (pino's redact paths); free text is scrubbed of anything that looks like a phone number or a
 * bearer token, because an error message from a driver or vendor may quote either.
 */

/** Field names whose values never reach a log. */
export const REDACTED_KEYS = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'appSecret',
  'accessToken',
  'apiToken',
  'apiKey',
  'token',
  'credentials',
  'body',
  'text',
  'caption',
  'phone',
  'e164',
  'waId',
  'wa_id',
  'from',
  'to',
  'recipientId',
  'recipient_id',
  'profileName',
  'name',
];

export function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of REDACTED_KEYS) paths.push(key, `*.${key}`, `*.*.${key}`);
  return paths;
}

// Seven or more digits, optionally with +, spaces, dots, dashes or brackets between them — but not
// inside a longer word (a uuid or hex id is no phone number).
const PHONE = /(?<![\w-])\+?\d[\d\s().-]{5,}\d(?![\w-])/g;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const URL_CREDENTIALS = /(\w+:\/\/)[^\s/:@]+:[^\s/@]+@/g;

/** Scrubs phone numbers, bearer tokens and URL credentials from free text. */
export function redactText(text: string): string {
  return text.replace(BEARER, '$1[redacted]').replace(URL_CREDENTIALS, '$1[redacted]@').replace(PHONE, '[phone]');
}
