/**
 * The only error a connector may throw. `kind` is all the core looks at to decide what
 * happens next (see src/connections/retry-policy.ts); vendor details stay in `vendorStatus`/`cause`.
 */
export type ConnectorErrorKind =
  | 'auth' // credentials rejected: the connection is marked needs_reauth and its work waits
  | 'rate_limited' // vendor said slow down: nothing is sent to this connection before retryAfterMs
  | 'transient' // 5xx, timeouts, resets: retried with full-jitter backoff
  | 'not_found' // a remote object we linked to is gone: the link is dropped and the object re-created
  | 'invalid_request' // our payload was refused: dead letter, needs a human or a code fix
  | 'conflict' // the object exists already: look it up and link it
  | 'disabled' // the remote side asked not to be called any more (a receiver's 410 Gone): the connection is disabled, its work kept
  | 'permanent'; // anything else that retrying cannot fix: dead letter

export const CONNECTOR_ERROR_KINDS: readonly ConnectorErrorKind[] = [
  'auth',
  'rate_limited',
  'transient',
  'not_found',
  'invalid_request',
  'conflict',
  'disabled',
  'permanent',
];

export interface ConnectorErrorOptions {
  /** For rate_limited: how long the vendor asked us to wait (from Retry-After or its body). */
  retryAfterMs?: number;
  /** The vendor's HTTP status or error code, for operators. Never a secret. */
  vendorStatus?: number | string;
  cause?: unknown;
}

export class ConnectorError extends Error {
  readonly kind: ConnectorErrorKind;
  readonly retryAfterMs?: number;
  readonly vendorStatus?: number | string;

  constructor(kind: ConnectorErrorKind, message: string, options: ConnectorErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'ConnectorError';
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
    this.vendorStatus = options.vendorStatus;
  }

  static is(value: unknown): value is ConnectorError {
    return value instanceof ConnectorError;
  }
}

/**
 * Parses an HTTP Retry-After header (seconds or an HTTP date) into milliseconds.
 * Returns undefined when absent or unreadable so callers can fall back to their own delay.
 */
export function parseRetryAfter(value: string | string[] | null | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Maps an HTTP status with no better information to an error kind. */
export function kindForHttpStatus(status: number): ConnectorErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 408 || status >= 500) return 'transient';
  if (status >= 400) return 'invalid_request';
  return 'permanent';
}

/**
 * Error codes of network failures worth retrying, in the spellings of node, undici and axios.
 * A connector's transport layer answers `transient` for them.
 */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Whether `code` names a network failure worth retrying. */
export function isTransientNetworkCode(code: unknown): code is string {
  return typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code);
}

/** The errno-style code of a failed request, on the error or on its cause (where undici puts it). */
export function networkErrorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Hides anything that looks like a phone number (vendors echo invalid values in their messages), shortened to `maxLength`. */
export function redactPhoneNumbers(text: string, maxLength = 300): string {
  return text.replace(/\+?\d[\d\s().-]{5,}\d/g, '[redacted]').slice(0, maxLength);
}
