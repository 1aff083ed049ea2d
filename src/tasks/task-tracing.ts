import { context, propagation, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * How a task's trace crosses the queue: the W3C trace context (traceparent, tracestate) of whoever
 * enqueued it, carried in the job's data. Only the vendor-neutral API: with no SDK registered (tracing
 * off) every call here is a no-op and nothing is added to a job.
 */
export type TraceCarrier = Record<string, string>;

const tracer = trace.getTracer('threadbridge.tasks');

/** The active trace context to carry with a job, or undefined when there is none (tracing off). */
export function traceCarrier(): TraceCarrier | undefined {
  const active = context.active();
  if (!trace.getSpanContext(active)) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(active, carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/**
 * Runs one task in a span `task <queue>`: a child of the context carried from the enqueue when
 * there is one (so the connector's calls join the message's trace), else the root of a new trace
 * (the sweeper's re-enqueues, the embedded poller). A retry enqueued from inside carries this span on.
 */
export function inTaskSpan<T>(queue: string, carrier: TraceCarrier | undefined, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  return tracer.startActiveSpan(`task ${queue}`, { kind: SpanKind.CONSUMER, attributes: { 'messaging.destination.name': queue } }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      // The kind of error only: a message may quote a vendor's answer or a row's values.
      span.setAttribute('error.type', error instanceof Error ? error.constructor.name : typeof error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
