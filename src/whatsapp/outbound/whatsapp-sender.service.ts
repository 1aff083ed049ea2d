import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../../config/configuration';
import { LOGGER } from '../../common/logger';
import { ConsentGate } from '../../consent/consent-gate';
import { OutboxRepository, type TaskRef } from '../../tasks/outbox.repository';
import { QueueName } from '../../tasks/queues';
import type { StoredMedia } from '../../conversations/entities/message.entity';
import { OutboundMessagesRepository } from '../../conversations/outbound-messages.repository';
import { TaskQueue } from '../../tasks/task-queue';
import { CloudApiClient, WhatsAppApiError } from '../cloud-api.client';
import { MediaStore } from '../../common/media-store';
import { normaliseMimeType } from './outbound-media';
import { toOutboundContent } from './outbound.mapper';
import { OutboundRepository } from './outbound.repository';
import { InvalidOutboundMessageError, type OutboundMediaFile, type OutboundRequest, type SendResult } from './outbound.types';

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
    private readonly messages: OutboundMessagesRepository,
    private readonly gate: ConsentGate,
    private readonly outbox: OutboxRepository,
    private readonly queue: TaskQueue,
    private readonly api: CloudApiClient,
    private readonly mediaStore: MediaStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The message queued before under this idempotency key, if any (callers skip costly work for it). */
  async existing(idempotencyKey: string): Promise<string | null> {
    return this.repo.findByIdempotencyKey(idempotencyKey);
  }

  /**
   * Queues a message, or refuses it with the gate's reason (recorded in outbound_refusals). The same
   * idempotency key again returns the first message and queues nothing, whatever the gate would say
   * now. A media message's file is stored and uploaded to Meta first (the send then names its
   * media id). Throws InvalidOutboundMessageError for a request that can never be sent (not exactly
   * one of text, template and media; a text over 4096 characters; a file over WhatsApp's limit for
   * its kind, or one Meta refuses; a conversation of another contact; no business number), and
   * WhatsAppApiError when an upload failed in a way that may pass later.
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
    const media = request.media ? await this.upload(phoneNumberId, request.media) : undefined;

    const id = randomUUID();
    const { inserted, tasks } = await this.dataSource.transaction(async (manager) => {
      const conversationId = conversation?.id ?? (await this.messages.openConversation(manager, request.contactId, phoneNumberId));
      const inserted = await this.messages.insertPending(manager, {
        id,
        conversationId,
        contactId: request.contactId,
        type: content.type,
        body: content.body,
        content: media ? { ...content.content, id: media.id } : content.content,
        media,
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

  /**
   * Keeps the file in the media store (the CRMs that show the message attach it from there, and
   * erasure finds it) and uploads it to Meta for this business number. Meta refusing the file for
   * good makes the request invalid; a throttled or failed upload throws WhatsAppApiError to retry.
   */
  private async upload(phoneNumberId: string, request: OutboundMediaFile): Promise<StoredMedia> {
    // toOutboundContent accepted the type: Meta gets it in the form it knows (image/jpg → image/jpeg).
    const file = { ...request, mimeType: normaliseMimeType(request.mimeType) ?? request.mimeType };
    if (!this.config.whatsapp.accessToken) throw new InvalidOutboundMessageError('WHATSAPP_ACCESS_TOKEN is not set: files cannot be uploaded to WhatsApp');
    const digest = createHash('sha256').update(file.bytes).digest();
    const storageKey = digest.toString('hex');
    if (!(await this.mediaStore.exists(storageKey))) await this.mediaStore.put(storageKey, file.bytes);
    let uploaded: { id: string };
    try {
      uploaded = await this.api.uploadMedia(phoneNumberId, file);
    } catch (error) {
      // An expired token is retried like any send; anything else Meta refuses is the file's fault.
      const refused = error instanceof WhatsAppApiError && !error.retryable && error.httpStatus !== 401 && error.code !== 190;
      if (refused) throw new InvalidOutboundMessageError(`WhatsApp refused ${file.filename ?? 'the file'}: ${error.message}`);
      throw error;
    }
    return {
      id: uploaded.id,
      mimeType: file.mimeType,
      // Base64, as Meta reports the hashes of media it sends us.
      sha256: digest.toString('base64'),
      filename: file.filename,
      storageKey,
      sizeBytes: file.bytes.length,
    };
  }
}
