import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../health/metrics.service';
import { OutboxRepository } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';
import { ConnectionsRepository } from './connections.repository';
import type { ConnectionEntity } from './entities/connection.entity';

/** Every status a connection can show on the dashboard: the stored ones, and paused/disabled as the sync sees them. */
const STATUSES = ['active', 'paused', 'needs_reauth', 'disabled'] as const;

/**
 * The per-connection gauges, read at each scrape from the tables this module owns (connections)
 * and the outbox: how far each connection's sync is behind, and its status. Labelled by the
 * connection's name, which is unique and what an operator recognises.
 */
@Injectable()
export class ConnectionMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly connections: ConnectionsRepository,
    private readonly outbox: OutboxRepository,
  ) {}

  onModuleInit(): void {
    // Both gauges read the connections once per scrape (as the outbox gauges share their query).
    let rows: Promise<ConnectionEntity[]> | undefined;
    const connections = () => (rows ??= this.connections.list().finally(() => setTimeout(() => (rows = undefined), 100)));
    this.metrics.gauge('threadbridge_sync_lag_seconds', 'Age of the oldest message not yet delivered to each connection (0: none waiting)', ['connection'], async (gauge) => {
      const [all, lag] = await Promise.all([connections(), this.outbox.oldestOpenByConnection(QueueName.CrmSync)]);
      gauge.reset();
      for (const row of all) gauge.set({ connection: row.name }, lag.get(row.id) ?? 0);
    });
    this.metrics.gauge('threadbridge_connection_status', 'Status of each connection: 1 for the one it has, 0 for the others', ['connection', 'status'], async (gauge) => {
      const all = await connections();
      const now = Date.now();
      gauge.reset();
      for (const row of all) {
        const status = !row.enabled ? 'disabled' : row.status === 'active' && row.retryAfter && row.retryAfter.getTime() > now ? 'paused' : row.status;
        for (const s of STATUSES) gauge.set({ connection: row.name, status: s }, s === status ? 1 : 0);
      }
    });
  }
}
