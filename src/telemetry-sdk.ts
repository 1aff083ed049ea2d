import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { IncomingMessage, RequestOptions } from 'node:http';

/** Loaded by telemetry.ts only when tracing is on; see there for why it must come first. */

/** Probes and scrapes come every few seconds: a trace each would drown the messages' traces. */
const UNTRACED_PATHS = /^\/(health(\/|\?|$)|metrics(\?|$))/;
const WEBHOOK_PATH = '/webhooks/whatsapp';

/**
 * Every query value becomes REDACTED, names kept: a query may carry a phone number (a search by
 * phone), a media URL's signature or a token, and a span is no place for any of them.
 */
export function redactQuery(pathAndQuery: string): string {
  const at = pathAndQuery.indexOf('?');
  if (at < 0) return pathAndQuery;
  const query = pathAndQuery
    .slice(at + 1)
    .split('&')
    .map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=REDACTED` : pair))
    .join('&');
  return `${pathAndQuery.slice(0, at)}?${query}`;
}

function outgoingUrl(options: RequestOptions): string {
  const protocol = options.protocol ?? 'http:';
  const host = options.hostname ?? options.host ?? 'localhost';
  const port = options.port && !String(host).includes(':') ? `:${options.port}` : '';
  return `${protocol}//${host}${port}${redactQuery(options.path ?? '/')}`;
}

/**
 * Starts the SDK: traces only (metrics stay on /metrics, logs in pino), exported over OTLP/HTTP
 * (JSON) to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, with the OTEL_BSP_* batching settings. Returns
 * the flush-and-stop function.
 */
export function startTracing(role: string): () => Promise<void> {
  // The process's role (api, worker, all) goes on the resource, so one service's traces can be told
  // apart by process kind. Through the environment, as the SDK's own detectors read it: what an
  // operator sets in OTEL_RESOURCE_ATTRIBUTES comes later and wins.
  process.env.OTEL_RESOURCE_ATTRIBUTES = [`threadbridge.role=${role}`, process.env.OTEL_RESOURCE_ATTRIBUTES].filter(Boolean).join(',');
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME || 'threadbridge',
    traceExporter: new OTLPTraceExporter(),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? ''),
        // A client call outside any request or task (none expected) starts no trace of its own.
        requireParentforOutgoingSpans: true,
        // Headers are never recorded (no headersToSpanAttributes): Authorization stays out.
        startIncomingSpanHook: (req: IncomingMessage) => {
          const url = req.url ?? '/';
          return url.includes('?') ? { 'url.query': redactQuery(url).slice(url.indexOf('?') + 1) } : {};
        },
        startOutgoingSpanHook: (options: RequestOptions) => ({ 'url.full': outgoingUrl(options) }),
        requestHook: (span, req) => {
          // The webhook is answered before Express, so no router names its route: name it here.
          const url = (req as IncomingMessage).url;
          if (typeof url === 'string' && (url === WEBHOOK_PATH || url.startsWith(`${WEBHOOK_PATH}?`) || url === `${WEBHOOK_PATH}/`)) {
            span.setAttribute('http.route', WEBHOOK_PATH);
            span.updateName(`${(req as IncomingMessage).method} ${WEBHOOK_PATH}`);
          }
        },
      }),
      // SQL text is recorded (statements are parameterised); parameter values never are
      // (enhancedDatabaseReporting off). Queries outside a request or task — the poller, the
      // sweeper, migrations — start no trace.
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
      // The command name only: arguments would carry job data and keys.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();
  return () => sdk.shutdown();
}
