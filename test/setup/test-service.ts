import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { type RunningService, startService } from '../../src/bootstrap';
import { createLogger } from '../../src/common/logger';

export { allowFakes } from './test-env';

export const TEST_APP_SECRET = 'test-app-secret';
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789';
export const TEST_VERIFY_TOKEN = 'test-verify-token';

export interface TestService extends RunningService {
  db: DataSource;
}

export function tempDir(prefix = 'threadbridge-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Boots the real service (same bootstrap as `npm start`) on a random port with test settings.
 * Pass DATABASE_URL/REDIS_URL for the production drivers, or leave them out for embedded mode.
 * `logDestination` receives the service's log lines (at `logLevel`, default debug) for tests that
 * read them.
 */
export async function startTestService(
  env: Record<string, string | undefined>,
  options: { logDestination?: DestinationStream; logLevel?: string } = {},
): Promise<TestService> {
  const service = await startService(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: tempDir(),
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      WHATSAPP_APP_SECRET: TEST_APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
      WHATSAPP_ACCESS_TOKEN: 'test-token',
      WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
      SWEEP_INTERVAL_MS: '200',
      SWEEP_STALE_MS: '300',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
    },
    {
      logger: createLogger({
        level: options.logDestination ? (options.logLevel ?? 'debug') : (process.env.TEST_LOG_LEVEL ?? 'silent'),
        redact: true,
        destination: options.logDestination,
      }),
    },
  );
  return Object.assign(service, { db: service.app.get(DataSource) });
}

/** Polls until `check` returns a truthy value, or fails after `timeoutMs` with `what`. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A log destination for startTestService that collects each JSON log line, for tests that read logs. */
export function captureLogs(): { sink: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(...String(chunk).trim().split('\n').map((l) => JSON.parse(l))), done()) });
  return { sink, lines };
}
