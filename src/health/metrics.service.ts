import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { OutboxRepository } from '../tasks/outbox.repository';

/** What became of one call to a CRM/helpdesk, by the kind of error it raised (none: ok). */
export type CrmOutcome = 'ok' | 'rate_limited' | 'transient' | 'auth' | 'disabled' | 'invalid' | 'not_found';

export type WebhookOutcome = 'stored' | 'duplicate' | 'quarantined' | 'status' | 'empty' | 'unauthorized' | 'unconfigured' | 'too_large' | 'unavailable' | 'error';

/** Prometheus metrics. One registry per app instance, so tests can boot several apps in a process. */
/** 1 min … 1 week: first responses are minutes to hours, resolutions hours to days. */
const RESPONSE_TIME_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 604_800];

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

  readonly crmRequests = new Counter({
    name: 'threadbridge_crm_requests_total',
    help: 'Calls to CRMs and helpdesks by connector, operation and outcome',
    labelNames: ['connector', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly crmRequestSeconds = new Histogram({
    name: 'threadbridge_crm_request_seconds',
    help: 'Duration of calls to CRMs and helpdesks (a batch call counts once)',
    labelNames: ['connector', 'operation'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly whatsappSends = new Counter({
    name: 'threadbridge_whatsapp_sends_total',
    help: "Sends to the Cloud API by outcome, with Meta's error code when it refused",
    labelNames: ['outcome', 'error_code'] as const,
    registers: [this.registry],
  });

  readonly quarantine = new Counter({
    name: 'threadbridge_quarantine_total',
    help: 'Webhook content quarantined (or stored normalised) by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /**
   * Response times as the service policy defines them (README "Customer-service policy"):
   * `business_hours="false"` counts calendar time, `"true"` only the business number's open hours.
   * Observed once per conversation, by the worker that handles the event.
   */
  readonly firstResponseSeconds = new Histogram({
    name: 'threadbridge_first_response_seconds',
    help: "Time from a conversation's first customer message (or triage's handoff) to the first reply a person wrote",
    labelNames: ['business_hours'] as const,
    buckets: RESPONSE_TIME_BUCKETS,
    registers: [this.registry],
  });

  readonly resolutionSeconds = new Histogram({
    name: 'threadbridge_resolution_seconds',
    help: 'Time from a conversation opening to its close',
    labelNames: ['business_hours'] as const,
    buckets: RESPONSE_TIME_BUCKETS,
    registers: [this.registry],
  });

  /**
   * A gauge whose value the module owning the data reads at each scrape (`collect` sets it), so
   * this module needs to know no feature's tables.
   */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect: (gauge: Gauge<L>) => Promise<void>): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        await collect(this).catch(() => undefined);
      },
    });
  }

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
    this.gauge('threadbridge_dead_letters', 'Dead-lettered tasks waiting for an operator, by queue', ['queue'], async (gauge) => {
      const counts = await outbox.deadCounts();
      gauge.reset();
      for (const { queue, count } of counts) gauge.set({ queue }, count);
    });
  }
}
