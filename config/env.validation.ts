import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, MinLength, validateSync } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
const urlOptions = { require_tld: false, require_protocol: true } as const;

/**
 * Every environment variable threadbridge reads. Validated once at boot: a bad or missing value
 * stops the process with a message that names the variable (see validateEnv).
 */
export class EnvironmentVariables {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT?: number;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  HOST?: string;

  /** Postgres connection string. Absent: an embedded PGlite database under DATA_DIR. */
  @IsOptional() @Transform(emptyToUndefined) @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  /** Redis connection string. Absent: the outbox table itself is the queue. */
  @IsOptional() @Transform(emptyToUndefined) @Matches(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  DATA_DIR?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsIn(['api', 'worker', 'all'])
  ROLE?: 'api' | 'worker' | 'all';

  @IsOptional() @Transform(emptyToUndefined) @IsString() @MinLength(16, { message: 'must be at least 16 characters' })
  ADMIN_API_KEY?: string;

  /** One secret, or two comma-separated during a rotation. */
  @IsOptional() @Transform(emptyToUndefined) @IsString()
  WHATSAPP_APP_SECRET?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  WHATSAPP_VERIFY_TOKEN?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  WHATSAPP_ACCESS_TOKEN?: string;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^\d+$/, { message: 'must be the numeric phone number id from Meta' })
  WHATSAPP_PHONE_NUMBER_ID?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsUrl(urlOptions)
  WHATSAPP_API_URL?: string;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^v\d+\.\d+$/, { message: 'must look like v23.0' })
  WHATSAPP_API_VERSION?: string;

  /** Messages per second one business number may send (Meta's default 80; 1,000 once upgraded; 20 for coexistence numbers). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(10000)
  WHATSAPP_THROUGHPUT_PER_SECOND?: number;

  /** Comma-separated words that opt a customer out of marketing; replaces the built-in multilingual list. */
  @IsOptional() @Transform(emptyToUndefined) @IsString() @Matches(/[^\s,]/, { message: 'must name at least one keyword' })
  CONSENT_STOP_KEYWORDS?: string;

  /** Comma-separated words that opt a customer back in to marketing; replaces the built-in list. */
  @IsOptional() @Transform(emptyToUndefined) @IsString() @Matches(/[^\s,]/, { message: 'must name at least one keyword' })
  CONSENT_START_KEYWORDS?: string;

  /** The reply to a stop keyword. */
  @IsOptional() @Transform(emptyToUndefined) @IsString() @MaxLength(4096)
  CONSENT_STOP_CONFIRMATION?: string;

  /** The reply to a start keyword. */
  @IsOptional() @Transform(emptyToUndefined) @IsString() @MaxLength(4096)
  CONSENT_START_CONFIRMATION?: string;

  /** Operator API requests per minute per API key (default 1200); over it: 429 with Retry-After. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1)
  API_RATE_LIMIT_PER_MINUTE?: number;

  /** Operator API requests per minute per client address, whatever the key (default 2400). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1)
  API_RATE_LIMIT_PER_IP_PER_MINUTE?: number;

  /** Largest webhook body accepted, in bytes (default 1 MB). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  WEBHOOK_BODY_LIMIT?: number;

  /** Largest media file downloaded from WhatsApp, in bytes (default 100 MB, WhatsApp's own maximum). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1)
  MEDIA_MAX_BYTES?: number;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  MEDIA_DIR?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(200)
  DB_POOL_SIZE?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(50)
  INGEST_WRITERS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(500)
  WORKER_CONCURRENCY?: number;

  /** How often the sweeper looks for outbox rows that no queue holds (ms). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(50)
  SWEEP_INTERVAL_MS?: number;

  /** How long a due row may wait before the sweeper re-enqueues it (ms). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  SWEEP_STALE_MS?: number;

  /** 32-byte key (64 hex chars or base64) encrypting connection credentials at rest. */
  @IsOptional() @Transform(emptyToUndefined) @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=?|[A-Za-z0-9_-]{43})$/, { message: 'must be 32 bytes as 64 hex characters or base64' })
  ENCRYPTION_KEY?: string;

  /** The previous ENCRYPTION_KEY during a rotation: credentials still encrypted with it are readable. */
  @IsOptional() @Transform(emptyToUndefined) @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=?|[A-Za-z0-9_-]{43})$/, { message: 'must be 32 bytes as 64 hex characters or base64' })
  ENCRYPTION_KEY_PREVIOUS?: string;

  /** A conversation with no message for this long is closed and its transcript sent (minutes). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1)
  CONVERSATION_IDLE_MINUTES?: number;

  /** Timeout of one request to a CRM/helpdesk (ms). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100)
  CONNECTOR_TIMEOUT_MS?: number;

  /**
   * How long a task's claim (or a connection's drain) lasts without renewal before another worker
   * may take it over (ms). A heartbeat renews it every third of this while the work runs, so it
   * need not cover a slow CRM call; it bounds how long a dead worker's work waits.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000)
  TASK_LEASE_MS?: number;

  /** Messages and media older than this many days are removed by the retention job. Absent: kept until erased. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1)
  RETENTION_DAYS?: number;

  @IsOptional() @Transform(emptyToUndefined) @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  /** Set to 'false' only on a development machine: shows phone numbers and message bodies in logs. */
  @IsOptional() @Transform(emptyToUndefined) @IsIn(['true', 'false'])
  LOG_REDACT?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString() @MaxLength(200)
  PUBLIC_URL?: string;

  /**
   * Which peers may set X-Forwarded-For/-Proto (Express's `trust proxy`): a hop count, or
   * comma-separated addresses, CIDRs and the names loopback, linklocal, uniquelocal.
   */
  @IsOptional() @Transform(emptyToUndefined) @Matches(/^(\d+|(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)(\s*,\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?))*)$/, {
    message: 'must be a hop count, or comma-separated addresses/CIDRs/loopback/linklocal/uniquelocal',
  })
  TRUST_PROXY?: string;

  /**
   * Destinations outbound requests may reach although they are not public addresses:
   * comma-separated `host:port` entries and CIDRs (e.g. a local fake in a test). Empty: public only.
   */
  @IsOptional() @Transform(emptyToUndefined) @IsString() @MaxLength(4000)
  EGRESS_ALLOW?: string;

  /**
   * The sandbox phone (/console/sandbox) and its built-in fake Cloud API. Default: on in embedded
   * mode (no DATABASE_URL) unless NODE_ENV=production, off otherwise; 'true' turns it on anywhere.
   */
  @IsOptional() @Transform(emptyToUndefined) @IsIn(['true', 'false'])
  SANDBOX?: 'true' | 'false';

  /** Hosts besides WHATSAPP_API_URL's that may receive the Meta token with a media download (`*.` for subdomains). */
  @IsOptional() @Transform(emptyToUndefined) @IsString() @MaxLength(1000)
  WHATSAPP_MEDIA_HOSTS?: string;
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

/** Validates the environment; throws ConfigValidationError naming every bad variable. */
export function validateEnv(env: Record<string, string | undefined>): EnvironmentVariables {
  const vars = plainToInstance(EnvironmentVariables, env, { enableImplicitConversion: false });
  const errors = validateSync(vars, { skipMissingProperties: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    const problems = errors.map((e) => {
      const shown = /SECRET|TOKEN|KEY|PASSWORD|URL/.test(e.property) ? '(value hidden)' : JSON.stringify(env[e.property]);
      return `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')} (got ${shown})`;
    });
    throw new ConfigValidationError(problems);
  }
  return vars;
}
