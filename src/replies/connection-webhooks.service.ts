import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { hasFacet, type AgentReplyEvent, type RawWebhook } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';
import { LOGGER } from '../common/logger';
import { ConnectionsService } from '../connections/connections.service';
import { ConnectorFactory } from '../connections/connector-factory';
import { OutboxRepository } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';
import { TaskQueue } from '../tasks/task-queue';
import { AgentRepliesRepository } from './agent-replies.repository';

/** What a connection webhook delivery came to. */
export type WebhookReceipt =
  /** No such connection, or it takes no replies (switched off, or its connector/settings offer none). */
  | { outcome: 'not_found' }
  /** The vendor's signature did not verify: nothing was stored. */
  | { outcome: 'unauthorized' }
  /** Signed, but not a body the connector understands (e.g. a misconfigured trigger): nothing stored. */
  | { outcome: 'invalid'; message: string }
  /** `replies` agent replies in the delivery; `stored` of them were new (the rest were delivered before). */
  | { outcome: 'accepted'; replies: number; stored: number };

/**
 * Webhooks of connected systems (POST /webhooks/connections/:id): checked with the connector's
 * signature check, parsed by the connector, and each agent reply stored once (unique per
 * connection and the vendor's reply id) with a `replies` task in the same transaction. Routing
 * happens in the worker, so the vendor gets its answer fast and a failure is retried.
 */
@Injectable()
export class ConnectionWebhooksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionsService,
    private readonly factory: ConnectorFactory,
    private readonly replies: AgentRepliesRepository,
    private readonly outbox: OutboxRepository,
    private readonly queue: TaskQueue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Verifies, parses and stores one delivery. The caller answers 200 only for `accepted`. */
  async receive(connectionId: string, webhook: RawWebhook): Promise<WebhookReceipt> {
    const resolved = await this.connections.resolve(connectionId);
    if (!resolved || !resolved.connection.enabled) return { outcome: 'not_found' };
    const connector = this.factory.create(resolved);
    // Without the replies facet (not set up, or switched off) the connection takes no webhooks.
    if (!hasFacet(connector, 'replies')) return { outcome: 'not_found' };
    if (!connector.replies.verify(webhook)) {
      this.logger.warn({ connectionId }, 'connection webhook with a bad signature refused');
      return { outcome: 'unauthorized' };
    }
    let events: AgentReplyEvent[];
    try {
      events = connector.replies.parse(webhook).filter((e) => e.kind === 'agent_reply');
    } catch (error) {
      if (!(error instanceof ConnectorError)) throw error;
      this.logger.warn({ connectionId, kind: error.kind, reason: error.message }, 'connection webhook not understood');
      return { outcome: 'invalid', message: error.message };
    }
    if (events.length === 0) return { outcome: 'accepted', replies: 0, stored: 0 };

    const tasks = await this.dataSource.transaction(async (manager) => {
      const ids = await this.replies.insertNew(manager, connectionId, events);
      return this.outbox.insert(
        manager,
        ids.map((id) => ({ queue: QueueName.Replies, kind: 'route', dedupeKey: `reply:${id}`, connectionId, payload: { replyId: id } })),
      );
    });
    // After the commit; not awaited: the rows are the truth and the sweeper re-enqueues a lost id.
    if (tasks.length) void this.queue.enqueue(tasks);
    this.logger.info({ connectionId, replies: events.length, stored: tasks.length }, 'agent replies received');
    return { outcome: 'accepted', replies: events.length, stored: tasks.length };
  }
}
