import { type Context, context, type Link, type Span, trace } from '@opentelemetry/api';
import { isDatabaseUnavailable } from '../common/errors';

interface Unit<I, R> {
  items: I[];
  resolve: (results: R[]) => void;
  reject: (error: unknown) => void;
  /** The submitter's context (its request's span, when tracing is on). */
  context: Context;
}

const tracer = trace.getTracer('threadbridge.ingest');

/**
 * Smart batching for the webhook's database writes: while `maxInFlight` calls are running, new
 * deliveries wait and then go together in ONE call. At low load nothing waits (a batch of one);
 * under load the cost per delivery falls, because round trips, not rows, dominate. Each delivery
 * is a unit that succeeds or fails whole: when a batch fails, its units are retried one by one, so
 * one bad delivery never fails its neighbours. Callers still answer only after their data is
 * committed (the batch is one statement).
 *
 * Tracing: the work runs in its submitters' trace, not in whichever request happened to start the
 * pump. A batch of one (low load, the common case) runs in its request's context, so the
 * statement's spans are children of that webhook's span. A batch of several gets a span of its
 * own, `ingest batch`, parented on the first request (a span needs one parent) and linked to every
 * request in it; each of those requests' spans is linked back to the batch, so from any message's
 * trace the statement that stored it is one hop away.
 */
export class Batcher<I, R> {
  private readonly waiting: Unit<I, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly run: (items: I[]) => Promise<R[]>,
    private readonly maxInFlight: number,
    private readonly maxItems = 200,
  ) {}

  submit(items: I[]): Promise<R[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ items, resolve, reject, context: context.active() });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const units: Unit<I, R>[] = [];
      let count = 0;
      while (this.waiting.length > 0 && (units.length === 0 || count + this.waiting[0].items.length <= this.maxItems)) {
        const unit = this.waiting.shift()!;
        units.push(unit);
        count += unit.items.length;
      }
      this.inFlight++;
      void this.execute(units).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private execute(units: Unit<I, R>[]): Promise<void> {
    const first = units[0].context;
    // Tracing off (no span in any context): no span, no context switch.
    if (units.length === 1 || !trace.getSpanContext(first)) return context.with(first, () => this.executeBatch(units));
    const requests = units.map((u) => trace.getSpan(u.context)).filter((s): s is Span => s !== undefined);
    const links: Link[] = requests.map((s) => ({ context: s.spanContext() }));
    return tracer.startActiveSpan('ingest batch', { links, attributes: { 'threadbridge.batch.deliveries': units.length } }, first, (batch) => {
      for (const request of requests) request.addLink({ context: batch.spanContext() });
      return this.executeBatch(units).finally(() => batch.end());
    });
  }

  private async executeBatch(units: Unit<I, R>[]): Promise<void> {
    try {
      const results = await this.run(units.flatMap((u) => u.items));
      let offset = 0;
      for (const unit of units) {
        unit.resolve(results.slice(offset, offset + unit.items.length));
        offset += unit.items.length;
      }
    } catch (error) {
      if (units.length === 1 || isDatabaseUnavailable(error)) {
        for (const unit of units) unit.reject(error);
        return;
      }
      for (const unit of units) {
        // One by one: each in its own request's context again.
        await context.with(unit.context, () => this.run(unit.items)).then(unit.resolve, unit.reject);
      }
    }
  }
}
