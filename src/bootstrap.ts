import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { type AppConfig, loadConfig } from '../config/configuration';
import { ConfigValidationError } from '../config/env.validation';
import { AppModule } from './app.module';
import { TaskQueue } from './tasks/task-queue';
import { configureApp } from './http-pipeline';
import { EgressPolicy } from './common/egress';
import { createLogger, PinoNestLogger } from './common/logger';
import { type DataDirLock, lockDataDir } from './database/data-dir-lock';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './database/embedded-postgres';
import { prepareSandbox } from './console/sandbox.setup';

export interface RunningService {
  app: NestExpressApplication;
  config: AppConfig;
  logger: Logger;
  /** http://host:port the service listens on. */
  url: string;
  embedded?: EmbeddedPostgres;
  /** Notes for the start-up banner: what was generated or is missing. */
  notes: string[];
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Skip app.listen (tests that only need the Nest context). */
  listen?: boolean;
}

/** Reads a secret from DATA_DIR, creating it on first start. */
function persistentSecret(dataDir: string, file: string, make = () => randomBytes(24).toString('base64url')): { value: string; created: boolean; path: string } {
  const full = path.join(dataDir, file);
  if (fs.existsSync(full)) return { value: fs.readFileSync(full, 'utf8').trim(), created: false, path: full };
  fs.mkdirSync(dataDir, { recursive: true });
  const value = make();
  fs.writeFileSync(full, `${value}\n`, { mode: 0o600 });
  return { value, created: true, path: full };
}

/**
 * Starts threadbridge: validates the environment, starts the embedded database when no
 * DATABASE_URL is given, boots Nest (migrations run at start) and listens. Used by main.ts, the
 * end-to-end tests, the demo and the benchmarks, so they all run the same code path.
 */
export async function startService(env: Record<string, string | undefined> = process.env, options: StartOptions = {}): Promise<RunningService> {
  const config = loadConfig(env);
  // Before the egress policy and the Cloud API client read the configuration (see sandbox.setup.ts).
  const sandboxNotes = await prepareSandbox(config, (file) => persistentSecret(config.dataDir, file));
  let egress: EgressPolicy;
  try {
    egress = new EgressPolicy(config.egressAllow);
  } catch (error) {
    throw new ConfigValidationError([(error as Error).message]);
  }
  const logger = options.logger ?? createLogger(config.log);
  const notes: string[] = [...sandboxNotes];

  let embedded: EmbeddedPostgres | undefined;
  let dataDirLock: DataDirLock | undefined;
  if (config.embedded) {
    // One process per embedded database: a second one on the same DATA_DIR refuses to start.
    dataDirLock = lockDataDir(config.dataDir);
    // PGlite serves one backend session; the pool may still open several sockets to it.
    embedded = await startEmbeddedPostgres(config.dataDir, config.dbPoolSize + 2).catch((error: unknown) => {
      dataDirLock?.release();
      throw error;
    });
    config.databaseUrl = embedded.url;
    config.role = 'all'; // one process owns the embedded database: it serves and works
    notes.push(`embedded database ${embedded.created ? 'created' : 'opened'} at ${embedded.dataPath}`);
  }
  if (!config.admin.apiKey) {
    const key = persistentSecret(config.dataDir, 'admin-api-key');
    config.admin.apiKey = key.value;
    notes.push(`ADMIN_API_KEY not set: ${key.created ? 'generated one into' : 'using the one in'} ${key.path}`);
  }

  if (!config.encryption.key) {
    const key = persistentSecret(config.dataDir, 'encryption-key', () => randomBytes(32).toString('hex'));
    config.encryption.key = key.value;
    notes.push(
      `ENCRYPTION_KEY not set: ${key.created ? 'generated one into' : 'using the one in'} ${key.path}` +
        (config.embedded ? '' : ' — set ENCRYPTION_KEY so every process shares it'),
    );
  }

  let app: NestExpressApplication | undefined;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger, env, egress), {
      bodyParser: false,
      logger: new PinoNestLogger(logger),
    });
    configureApp(app, config, logger);
    if (options.listen === false) await app.init();
    else await app.listen(config.port, config.host);
  } catch (error) {
    // A failed start must not leave a pool, queue workers or the embedded database running.
    await app?.close().catch(() => undefined);
    await egress.close();
    await embedded?.stop();
    dataDirLock?.release();
    throw error;
  }
  const started = app;
  const redisAnswers = () => Promise.race([started.get(TaskQueue).isHealthy(), new Promise<boolean>((r) => setTimeout(() => r(false), 1500).unref())]);
  if (config.redisUrl && !(await redisAnswers())) {
    notes.push(`WARNING: Redis at REDIS_URL does not answer: work waits in the outbox and runs once it does (the sweeper enqueues it)`);
  }
  const address = options.listen === false ? undefined : started.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const bound = typeof address === 'object' && address ? address.address : config.host;
  // Every interface: the URL names loopback (what works from this machine); the banner says both.
  const everywhere = bound === '0.0.0.0' || bound === '::';
  const host = everywhere ? '127.0.0.1' : bound.includes(':') ? `[${bound}]` : bound;
  if (everywhere) notes.push(`listening on every interface (${bound}:${port}); set HOST=127.0.0.1 behind a proxy on this machine`);
  let stopped = false;
  return {
    app: started,
    config,
    logger,
    url: `http://${host}:${port}`,
    embedded,
    notes,
    async stop() {
      if (stopped) return;
      stopped = true;
      await started.close();
      await egress.close();
      await embedded?.stop();
      dataDirLock?.release();
    },
  };
}

/** The start-up banner: where it listens, its mode, and what is configured or missing. */
export function describeService(s: RunningService): string {
  const c = s.config;
  const mark = (ok: boolean) => (ok ? 'configured' : 'MISSING');
  const lines = [
    `threadbridge listening on ${s.url}  (API docs: ${s.url}/docs)`,
    `  mode:      ${c.embedded ? 'embedded (PGlite database, outbox table as the queue)' : 'production (Postgres' + (c.redisUrl ? ' + Redis/BullMQ)' : ', outbox table as the queue)')}`,
    `  role:      ${c.role}`,
    `  data dir:  ${c.dataDir}`,
    `  webhook:   ${s.url}/webhooks/whatsapp`,
    ...(c.role !== 'worker' ? [`  console:   ${s.url}/console${c.sandbox.enabled ? `  (try it first: the sandbox phone at ${s.url}/console/sandbox)` : ''}`] : []),
    `  WHATSAPP_APP_SECRET      ${mark(c.whatsapp.appSecrets.length > 0)}${c.whatsapp.appSecrets.length > 1 ? ' (2 secrets: rotation)' : ''}${c.whatsapp.appSecrets.length === 0 ? ' — every webhook POST will get 401' : ''}`,
    `  WHATSAPP_VERIFY_TOKEN    ${mark(Boolean(c.whatsapp.verifyToken))}${c.whatsapp.verifyToken ? '' : ' — Meta cannot verify the callback URL'}`,
    `  WHATSAPP_ACCESS_TOKEN    ${mark(Boolean(c.whatsapp.accessToken))}${c.whatsapp.accessToken ? '' : ' — media cannot be downloaded'}`,
    `  WHATSAPP_PHONE_NUMBER_ID ${mark(Boolean(c.whatsapp.phoneNumberId))}`,
    `  WhatsApp API             ${c.whatsapp.apiUrl}/${c.whatsapp.apiVersion}`,
    ...s.notes.map((n) => `  note: ${n}`),
  ];
  return lines.join('\n');
}
