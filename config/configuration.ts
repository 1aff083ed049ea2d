import * as path from 'node:path';
import { validateEnv } from './env.validation';

export type Role = 'api' | 'worker' | 'all';

/** Typed configuration, built once at boot from the validated environment. */
export interface AppConfig {
  port: number;
  host: string;
  role: Role;
  dataDir: string;
  /** Absent until the embedded database has started (then its local URL is filled in). */
  databaseUrl?: string;
  redisUrl?: string;
  /** True when no DATABASE_URL was given and PGlite serves the database. */
  embedded: boolean;
  dbPoolSize: number;
  /** Batched webhook writes in flight at once (see WebhookIngestService). */
  ingestWriters: number;
  publicUrl?: string;
  /** Express's `trust proxy`: which peers' X-Forwarded-* headers are believed (absent: none). */
  trustProxy?: number | string;
  /** EGRESS_ALLOW as given: what outbound requests may reach besides public addresses (src/common/egress.ts). */
  egressAllow: string;
  admin: { apiKey?: string };
  /** Operator API requests per minute per API key and per client address (webhooks and probes are never limited). */
  rateLimit: { perKeyPerMinute: number; perIpPerMinute: number };
  whatsapp: {
    appSecrets: string[];
    verifyToken?: string;
    accessToken?: string;
    phoneNumberId?: string;
    apiUrl: string;
    apiVersion: string;
    /** Hosts besides apiUrl's that the access token may be sent to with a media download. */
    mediaHosts: string[];
    webhookBodyLimit: number;
    /** Sends per second per business number, shared by every worker. */
    throughputPerSecond: number;
  };
  /** Keyword lists and confirmation texts; absent: the built-in ones (src/consent). */
  consent: { stopKeywords?: string[]; startKeywords?: string[]; stopConfirmation?: string; startConfirmation?: string };
  media: { dir: string; maxBytes: number };
  queue: { concurrency: number; sweepIntervalMs: number; sweepStaleMs: number; leaseMs: number };
  log: { level: string; redact: boolean };
  /** Keys for credentials at rest; `key` is filled from DATA_DIR at boot when not configured. */
  encryption: { key?: string; previousKey?: string };
  sync: { conversationIdleMinutes: number; connectorTimeoutMs: number };
  /** retentionDays absent: retention is off (messages and media are kept until erased). */
  privacy: { retentionDays?: number };
  /** The sandbox phone (src/console/sandbox*). */
  sandbox: SandboxConfig;
}

export interface SandboxConfig {
  /** SANDBOX, or its default: on in embedded mode unless NODE_ENV=production, off otherwise. */
  enabled: boolean;
  /** True when the sandbox serves the Cloud API itself (on, and WHATSAPP_API_URL not set). */
  fakeCloudApi: boolean;
  /** This process's own address (http://host:port), filled in at boot: where the sandbox posts its webhooks. */
  selfUrl?: string;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

function commaList(value: string | undefined): string[] | undefined {
  const items = value?.split(',').map((s) => s.trim()).filter(Boolean);
  return items?.length ? items : undefined;
}

/** Reads and validates the environment; throws ConfigValidationError on bad values. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const v = validateEnv(env);
  const dataDir = path.resolve(v.DATA_DIR ?? './.data');
  // A sandbox plays customers into the service: never on by default where NODE_ENV says production.
  const sandboxEnabled = v.SANDBOX === undefined ? !v.DATABASE_URL && env.NODE_ENV !== 'production' : v.SANDBOX === 'true';
  return {
    port: v.PORT ?? 3000,
    host: v.HOST ?? '0.0.0.0',
    role: v.ROLE ?? 'all',
    dataDir,
    databaseUrl: v.DATABASE_URL,
    redisUrl: v.REDIS_URL,
    embedded: !v.DATABASE_URL,
    dbPoolSize: v.DB_POOL_SIZE ?? 10,
    ingestWriters: v.INGEST_WRITERS ?? 1,
    publicUrl: v.PUBLIC_URL,
    trustProxy: v.TRUST_PROXY === undefined ? undefined : /^\d+$/.test(v.TRUST_PROXY) ? Number(v.TRUST_PROXY) : v.TRUST_PROXY,
    egressAllow: v.EGRESS_ALLOW ?? '',
    admin: { apiKey: v.ADMIN_API_KEY },
    rateLimit: { perKeyPerMinute: v.API_RATE_LIMIT_PER_MINUTE ?? 1200, perIpPerMinute: v.API_RATE_LIMIT_PER_IP_PER_MINUTE ?? 2400 },
    whatsapp: {
      appSecrets: (v.WHATSAPP_APP_SECRET ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      verifyToken: v.WHATSAPP_VERIFY_TOKEN,
      accessToken: v.WHATSAPP_ACCESS_TOKEN,
      phoneNumberId: v.WHATSAPP_PHONE_NUMBER_ID,
      apiUrl: (v.WHATSAPP_API_URL ?? 'https://graph.facebook.com').replace(/\/+$/, ''),
      apiVersion: v.WHATSAPP_API_VERSION ?? 'v23.0',
      // Meta serves media from its lookaside CDN (lookaside.fbsbx.com).
      mediaHosts: (v.WHATSAPP_MEDIA_HOSTS ?? '*.fbsbx.com,*.whatsapp.net').split(',').map((h) => h.trim()).filter(Boolean),
      webhookBodyLimit: v.WEBHOOK_BODY_LIMIT ?? 1024 * 1024,
      throughputPerSecond: v.WHATSAPP_THROUGHPUT_PER_SECOND ?? 80,
    },
    consent: {
      stopKeywords: commaList(v.CONSENT_STOP_KEYWORDS),
      startKeywords: commaList(v.CONSENT_START_KEYWORDS),
      stopConfirmation: v.CONSENT_STOP_CONFIRMATION,
      startConfirmation: v.CONSENT_START_CONFIRMATION,
    },
    media: {
      dir: path.resolve(v.MEDIA_DIR ?? path.join(dataDir, 'media')),
      maxBytes: v.MEDIA_MAX_BYTES ?? 100 * 1024 * 1024,
    },
    queue: {
      concurrency: v.WORKER_CONCURRENCY ?? 10,
      // A worker that dies is noticed when its lease (renewed every third of it while the work
      // runs) runs out and the sweeper next looks: lease + interval = 13 s at most, and a due row
      // no queue holds is found within stale + interval = 13 s. Both stay under 15 s.
      sweepIntervalMs: v.SWEEP_INTERVAL_MS ?? 3_000,
      sweepStaleMs: v.SWEEP_STALE_MS ?? 10_000,
      leaseMs: v.TASK_LEASE_MS ?? 10_000,
    },
    log: { level: v.LOG_LEVEL ?? 'info', redact: v.LOG_REDACT !== 'false' },
    encryption: { key: v.ENCRYPTION_KEY, previousKey: v.ENCRYPTION_KEY_PREVIOUS },
    sync: { conversationIdleMinutes: v.CONVERSATION_IDLE_MINUTES ?? 120, connectorTimeoutMs: v.CONNECTOR_TIMEOUT_MS ?? 15_000 },
    privacy: { retentionDays: v.RETENTION_DAYS },
    sandbox: { enabled: sandboxEnabled, fakeCloudApi: sandboxEnabled && !v.WHATSAPP_API_URL },
  };
}
