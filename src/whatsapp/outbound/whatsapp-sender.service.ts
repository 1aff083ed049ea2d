import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../../config/configuration';
import { LOGGER } from '../../common/logger';
import { ConsentGate } from '../../consent/consent-gate';
import { OutboxRepository, type TaskRef } from '../../sync/outbox.repository';
import { QueueName } from '../../sync/sync.constants';
import { TaskQueue } from '../../sync/task-queue';
import { toOutboundContent } from './outbound.mapper';
import { OutboundRepository } from './outbound.repository';
import { InvalidOutboundMessageError, type OutboundRequest, type SendResult } from './outbound.types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Sends WhatsApp messages to customers, for every feature that does (consent confirmations, agent
 * replies, the API). A request passes the consent gate, then becomes an outbound message row
 * (status pending) and a whatsapp-outbound task in ONE transaction; OutboundSendHandler calls the
 * Cloud API under the business number's throughput budget. A refusal never reaches Meta.
 */
@Injectable()
export class WhatsAppSender {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: OutboundRepository,
    private readonly gate: ConsentGate,
    private readonly outbox: OutboxRepository,
    private readonly queue: TaskQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Queues a message, or refuses it with the gate's reason (recorded in outbound_refusals). The same
   * idempotency key again returns the first message and queues nothing, whatever the gate would say
   * now. Throws InvalidOutboundMessageError for a request that can never be sent (no text nor
   * template, a text over 4096 characters, a conversation of another contact, no business number).
   */
  async send(request: OutboundRequest): Promise<SendResult> {
    const content = toOutboundContent(request);
    if (!UUID.test(request.contactId) || (request.conversationId !== undefined && !UUID.test(request.conversationId))) {
      throw new InvalidOutboundMessageError('contactId and conversationId are uuids');
    }
    if (!request.idempotencyKey) throw new InvalidOutboundMessageError('an idempotency key is required');
    const existing = await this.repo.findByIdempotencyKey(request.idempotencyKey);
    if (existing) return { status: 'queued', messageId: existing, duplicate: true };

    const conversation = request.conversationId ? await this.repo.conversationOf(request.contactId, request.conversationId) : null;
    if (request.conversationId && !conversation) throw new InvalidOutboundMessageError('the conversation does not belong to this contact');
    // The number the customer wrote to (their window is with it), else the configured one.
    const phoneNumberId = conversation?.phoneNumberId ?? (await this.repo.latestPhoneNumberId(request.contactId)) ?? this.config.whatsapp.phoneNumberId;

    const isTemplate = content.type === 'template';
    const decision = await this.gate.check({ contactId: request.contactId, category: request.category, isTemplate, phoneNumberId: phoneNumberId ?? undefined });
    if (!decision.allowed) {
      await this.repo.insertRefusal({
        contactId: decision.reason === 'unknown_contact' ? null : request.contactId,
        category: request.category,
        isTemplate,
        reason: decision.reason,
        detail: decision.detail,
        origin: request.origin,
        author: request.author,
        idempotencyKey: request.idempotencyKey,
      });
      this.logger.info({ contactId: request.contactId, category: request.category, reason: decision.reason, origin: request.origin }, 'outbound message refused');
      return { status: 'refused', reason: decision.reason, detail: decision.detail };
    }
    if (!phoneNumberId) throw new InvalidOutboundMessageError('no business number to send from: set WHATSAPP_PHONE_NUMBER_ID');

    const id = randomUUID();
    const { inserted, tasks } = await this.dataSource.transaction(async (manager) => {
      const conversationId = conversation?.id ?? (await this.repo.openConversation(manager, request.contactId, phoneNumberId));
      const inserted = await this.repo.insertPending(manager, {
        id,
        conversationId,
        contactId: request.contactId,
        type: content.type,
        body: content.body,
        content: content.content,
        category: request.category,
        origin: request.origin,
        author: request.author,
        idempotencyKey: request.idempotencyKey,
        replyToWamid: request.replyToWamid,
      });
      if (!inserted) return { inserted: false, tasks: [] as TaskRef[] };
      const tasks = await this.outbox.insert(manager, [
        { queue: QueueName.WhatsappOutbound, kind: 'send', dedupeKey: `send:${id}`, conversationId, messageId: id },
      ]);
      return { inserted: true, tasks };
    });
    if (!inserted) {
      // The same key raced us to the insert: the other request's message is the one.
      return { status: 'queued', messageId: (await this.repo.findByIdempotencyKey(request.idempotencyKey))!, duplicate: true };
    }
    await this.queue.enqueue(tasks);
    return { status: 'queued', messageId: id, duplicate: false };
  }
}
