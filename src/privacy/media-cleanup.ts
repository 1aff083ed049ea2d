import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger';
import { MediaStore } from '../common/media-store';
import { PrivacyRepository } from './privacy.repository';

export interface CleanupResult {
  removed: number;
  /** Files that could not be deleted, with the first reason. */
  failed: number;
  reason?: string;
}

/**
 * Deletes media files whose messages are gone. Runs after the deleting transaction committed
 * (a rollback must never leave a message without its file), and keeps a file another message
 * still refers to (files are stored by content hash, so two messages may share one).
 */
@Injectable()
export class MediaCleanup {
  constructor(
    private readonly repo: PrivacyRepository,
    private readonly store: MediaStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Deletes the files of `keys` that no message refers to any more. */
  async removeUnreferenced(keys: string[]): Promise<CleanupResult> {
    const result: CleanupResult = { removed: 0, failed: 0 };
    for (const key of await this.repo.unreferencedMediaKeys(keys)) {
      try {
        await this.store.delete(key);
        result.removed++;
      } catch (error) {
        result.failed++;
        result.reason ??= error instanceof Error ? error.message : String(error);
      }
    }
    if (result.failed) this.logger.warn({ failed: result.failed, reason: result.reason }, 'media files could not be deleted');
    return result;
  }
}
