/**
 * Tracing (OpenTelemetry): one WhatsApp message is one trace, from the webhook's HTTP request
 * through the ingest transaction and the queue to the connector's call and the CRM's answer.
 *
 * On only when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT, or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT for traces alone). The instrumentations patch `http`, `pg` and
 * `ioredis` as they are required, so this module must be evaluated before the app loads any of
 * them: main.ts (and test/setup/service-process.ts) import it FIRST — in the CommonJS build an
 * import is a require, run in order. When off, nothing beyond this file is loaded: no SDK, no
 * patched module, and the spans the code asks for are the API's no-op ones.
 */

export interface Telemetry {
  /** Where spans go. */
  readonly endpoint: string;
  /** Exports what is buffered and stops; part of the process's stop (within its deadline). */
  shutdown(): Promise<void>;
}

/** The OTLP endpoint traces are exported to, or undefined when tracing is off. */
export function tracingEndpoint(env: Record<string, string | undefined>): string | undefined {
  if (/^(true|1)$/i.test(env.OTEL_SDK_DISABLED ?? '')) return undefined;
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;
}

/** Starts tracing when an endpoint is configured; returns undefined (and loads nothing) otherwise. */
export function startTelemetry(env: Record<string, string | undefined> = process.env): Telemetry | undefined {
  const endpoint = tracingEndpoint(env);
  if (!endpoint) return undefined;
  // What config/configuration.ts decides, read here because the config module must not load
  // before the instrumentations: an embedded database means one process that serves and works.
  const role = env.DATABASE_URL ? (env.ROLE ?? 'all') : 'all';
  // Required only when on, and synchronously: the SDK must be running before the next import.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./telemetry-sdk') as typeof import('./telemetry-sdk');
  return { endpoint, shutdown: sdk.startTracing(role) };
}

/** This process's tracing, started as this module is first imported. */
export const telemetry = startTelemetry();
