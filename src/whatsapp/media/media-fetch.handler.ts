import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../../config/configuration';
import { LOGGER } from '../../common/logger';
import { ConversationsRepository } from '../../conversations/conversations.repository';
import type { OutboxTaskEntity } from '../../tasks/entities/outbox-task.entity';
import { OutboxRepository } from '../../tasks/outbox.repository';
import { QueueName } from '../../tasks/queues';
import { TaskQueue } from '../../tasks/task-queue';
import { backoffDelayMs } from '../../tasks/backoff';
import type { TaskHandler, TaskResult } from '../../tasks/task-handler';
import { CloudApiClient, MediaTooLargeError, WhatsAppApiError } from '../cloud-api.client';
import { MediaStore } from '../../common/media-store';

/** After this many tries a download is given up and the message marked. */
export const MEDIA_MAX_ATTEMPTS = 6;

/**
 * Downloads a message's media from WhatsApp (media id → short-lived URL → bytes), checks the
 * sha256 Meta announced, and keeps the file in the media store. A download that cannot succeed
 * marks the message (media_status = failed, with the reason) instead of retrying forever.
 */
@Injectable()
export class MediaFetchHandler implements TaskHandler {
  readonly queue = QueueName.Media;

  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly api: CloudApiClient,
    private readonly store: MediaStore,
    private readonly outbox: OutboxRepository,
    private readonly tasks: TaskQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** CRM syncs of this message wait for its file; wake them now that it is stored or given up. */
  private async wakeSyncs(messageId: string): Promise<void> {
    const tasks = await this.outbox.makeDueForMessage(messageId, QueueName.CrmSync);
    if (tasks.length) await this.tasks.enqueue(tasks);
  }

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    const message = task.messageId ? await this.conversations.findMessage(task.messageId) : null;
    if (!message?.media?.id) return { outcome: 'done' }; // erased, or nothing to fetch
    if (message.mediaStatus === 'stored') return { outcome: 'done' };

    try {
      const info = await this.api.getMediaInfo(message.media.id);
      if (info.fileSize !== undefined && info.fileSize > this.config.media.maxBytes) {
        return this.giveUp(message.id, `media is ${info.fileSize} bytes, over the ${this.config.media.maxBytes}-byte limit`);
      }
      const file = await this.api.download(info.url, this.config.media.maxBytes);
      const announced = message.media.sha256 ?? info.sha256;
      if (announced && announced !== file.sha256Base64 && announced.toLowerCase() !== file.sha256Hex) {
        return this.retryOrGiveUp(task, message.id, 'downloaded bytes do not match the sha256 WhatsApp announced');
      }
      await this.store.put(file.sha256Hex, file.bytes);
      await this.conversations.markMediaStored(message.id, {
        ...message.media,
        mimeType: message.media.mimeType ?? info.mimeType,
        storageKey: file.sha256Hex,
        sizeBytes: file.bytes.length,
      });
      await this.wakeSyncs(message.id);
      return { outcome: 'done' };
    } catch (error) {
      if (error instanceof MediaTooLargeError) return this.giveUp(message.id, error.message);
      if (error instanceof WhatsAppApiError && !error.retryable && error.httpStatus !== 401) {
        // 400/404: the media id is unknown or expired (Meta keeps inbound media ~30 days).
        return this.giveUp(message.id, `WhatsApp refused the download: ${error.message}`);
      }
      return this.retryOrGiveUp(task, message.id, error instanceof Error ? error.message : String(error));
    }
  }

  private async retryOrGiveUp(task: OutboxTaskEntity, messageId: string, reason: string): Promise<TaskResult> {
    if (task.attempts >= MEDIA_MAX_ATTEMPTS) return this.giveUp(messageId, `${reason} (after ${task.attempts} attempts)`);
    return { outcome: 'retry', at: new Date(Date.now() + backoffDelayMs(task.attempts, 2000, 5 * 60_000)), error: reason };
  }

  private async giveUp(messageId: string, reason: string): Promise<TaskResult> {
    this.logger.warn({ messageId, reason }, 'media download failed for good');
    await this.conversations.markMediaFailed(messageId, reason);
    await this.wakeSyncs(messageId);
    return { outcome: 'dead', error: reason };
  }
}
