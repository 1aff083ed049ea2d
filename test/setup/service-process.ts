/**
 * Runs threadbridge in its own process (same bootstrap as `npm start`) and tells the parent its
 * URL: for benchmarks (the service's RSS alone), for tests that kill a worker outright, and for
 * tracing, whose instrumentations patch modules as they load (not possible inside Jest's module
 * registry). Compiled by `npm test`'s set-up; run from dist/test/setup/service-process.js.
 */
// First, as in src/main.ts: tracing (when configured) starts before http, pg and ioredis load.
import { telemetry } from '../../src/telemetry';
import { startService } from '../../src/bootstrap';

/** What the parent is told once the service listens. */
export interface ServiceProcessReady {
  url: string;
  /** Whether tracing started, and whether any OpenTelemetry SDK or instrumentation code is loaded. */
  tracing: { started: boolean; sdkLoaded: boolean };
}

startService(process.env)
  .then((service) => {
    const sdkLoaded = Object.keys(require.cache).some((file) => /@opentelemetry[\\/](sdk-|instrumentation)/.test(file));
    process.send?.({ url: service.url, tracing: { started: telemetry !== undefined, sdkLoaded } } satisfies ServiceProcessReady);
    const stop = () =>
      void service
        .stop()
        .then(() => telemetry?.shutdown())
        .then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
