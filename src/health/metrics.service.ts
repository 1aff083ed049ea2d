import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { OutboxRepository } from '../sync/outbox.repository';

export type WebhookOutcome = 'stored' | 'duplicate' | 'quarantined' | 'status' | 'empty' | 'unauthorized' | 'unconfigured' | 'too_large' | 'unavailable' | 'error';

/** Prometheus metrics. One registry per app instance, so tests can boot several apps in a process. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly webhooks = new Counter({
    name: 'threadbridge_webhooks_total',
    help: 'WhatsApp webhook deliveries by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly ackLatency = new Histogram({
    name: 'threadbridge_webhook_ack_seconds',
    help: 'Time from receiving a WhatsApp webhook to answering it',
    buckets: [0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56],
    registers: [this.registry],
  });

  readonly messagesStored = new Counter({
    name: 'threadbridge_messages_stored_total',
    help: 'New WhatsApp messages stored',
    registers: [this.registry],
  });

  constructor(outbox: OutboxRepository) {
    collectDefaultMetrics({ register: this.registry, prefix: 'threadbridge_' });
    let stats: Promise<{ pending: number; oldestAgeSeconds: number }> | undefined;
    // Both gauges read one query per scrape.
    const read = () => (stats ??= outbox.pendingStats().finally(() => setTimeout(() => (stats = undefined), 100)));
    new Gauge({
      name: 'threadbridge_outbox_pending',
      help: 'Outbox tasks not yet done (pending or running)',
      registers: [this.registry],
      async collect() {
        this.set((await read().catch(() => ({ pending: NaN }))).pending);
      },
    });
    new Gauge({
      name: 'threadbridge_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest outbox task not yet done',
      registers: [this.registry],
      async collect() {
        this.set((await read().catch(() => ({ oldestAgeSeconds: NaN }))).oldestAgeSeconds);
      },
    });
  }
}
