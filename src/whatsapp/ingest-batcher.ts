import { isDatabaseUnavailable } from '../common/errors';

interface Unit<I, R> {
  items: I[];
  resolve: (results: R[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Smart batching for the webhook's database writes: while `maxInFlight` calls are running, new
 * deliveries wait and then go together in ONE call. At low load nothing waits (a batch of one);
 * under load the cost per delivery falls, because round trips, not rows, dominate. Each delivery
 * is a unit that succeeds or fails whole: when a batch fails, its units are retried one by one, so
 * one bad delivery never fails its neighbours. Callers still answer only after their data is
 * committed (the batch is one statement).
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
      this.waiting.push({ items, resolve, reject });
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

  private async execute(units: Unit<I, R>[]): Promise<void> {
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
        await this.run(unit.items).then(unit.resolve, unit.reject);
      }
    }
  }
}
