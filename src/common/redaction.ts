/**
 * Redaction of personal data and secrets in log lines. Structured fields are removed by name
 * (pino's redact paths); free text is scrubbed of anything that looks like a phone number or a
 * bearer token, because an error message from a driver or vendor may quote either.
 */

/** Field names of secrets: removed from every log line, also with LOG_REDACT=false. */
export const SECRET_KEYS = ['authorization', 'cookie', 'password', 'secret', 'appSecret', 'accessToken', 'apiToken', 'apiKey', 'token', 'credentials'];

/** Field names whose values never reach a log (unless LOG_REDACT=false, then only the secrets). */
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

function pathsOf(keys: string[]): string[] {
  const paths: string[] = [];
  for (const key of keys) paths.push(key, `*.${key}`, `*.*.${key}`);
  return paths;
}

export function redactPaths(): string[] {
  return pathsOf(REDACTED_KEYS);
}

export function secretPaths(): string[] {
  return pathsOf(SECRET_KEYS);
}

// Seven or more digits, optionally with +, spaces, dashes or brackets between them — but not
// inside a longer word (a uuid or hex id is no phone number), and not an address, port or time:
// dots and colons around or between digits (127.0.0.1:5999, 12:30:00) are never part of one, and
// neither is an ISO date.
const PHONE = /(?<![\w.:-])(?!\d{4}-\d\d-\d\d)\+?\d[\d\s()-]{5,}\d(?![\w.:-])/g;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const URL_CREDENTIALS = /(\w+:\/\/)[^\s/:@]+:[^\s/@]+@/g;

/** Scrubs phone numbers, bearer tokens and URL credentials from free text. */
export function redactText(text: string): string {
  return text.replace(BEARER, '$1[redacted]').replace(URL_CREDENTIALS, '$1[redacted]@').replace(PHONE, '[phone]');
}
