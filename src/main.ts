// First: when tracing is on, its instrumentations must be in place before http, pg and ioredis load.
import { telemetry } from './telemetry';
import { ConfigValidationError } from '../config/env.validation';
import { describeService, startService } from './bootstrap';

/**
 * How long a stop may take before the process exits anyway. Stopping closes HTTP, the workers and
 * the pools; a dependency that does not answer (Redis down, a hung vendor call) must not keep the
 * process alive: what is in flight stays in the outbox and is taken over after the lease.
 */
const STOP_DEADLINE_MS = 6_000;

async function main(): Promise<void> {
  try {
    const service = await startService(process.env);
    console.log(describeService(service));
    console.log(`  tracing:   ${telemetry ? `OTLP traces to ${telemetry.endpoint}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT to export traces)'}`);
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) {
        // A second Ctrl-C means now.
        service.logger.warn({ signal }, 'second signal while stopping; exiting now');
        process.exit(1);
      }
      stopping = true;
      service.logger.info({ signal }, 'shutting down');
      const deadline = setTimeout(() => {
        service.logger.warn({ afterMs: STOP_DEADLINE_MS }, 'stopping took too long (a dependency does not answer); exiting anyway');
        process.exit(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      await service.stop().catch((error: unknown) => service.logger.error({ err: error }, 'error while stopping'));
      // The last spans (this stop's among them) are exported within the same deadline.
      await telemetry?.shutdown().catch((error: unknown) => service.logger.warn({ err: error }, 'could not export the last traces'));
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error('threadbridge failed to start:', error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

void main();
