import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { MediaStore } from '../common/media-store';
import type { ContactExport } from './dto/contact-export.dto';
import { buildContactExport } from './export.mapper';
import { ContactNotFoundError, MediaNotStoredError } from './privacy.errors';
import { PrivacyRepository } from './privacy.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MediaDownload {
  stream: Readable;
  mimeType: string;
  filename: string;
  sizeBytes?: number;
}

/** The right of access: everything threadbridge holds about a customer, and their media files. */
@Injectable()
export class ExportService {
  constructor(
    private readonly repo: PrivacyRepository,
    private readonly store: MediaStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * One JSON document with the contact, every conversation and message (WhatsApp order), the
   * consent ledger, the remote links and a download link per stored media file. Links are
   * absolute when PUBLIC_URL is set, else paths on this service.
   * Throws ContactNotFoundError.
   */
  async exportContact(contactId: string): Promise<ContactExport> {
    const contact = UUID.test(contactId) ? await this.repo.findContact(contactId) : null;
    if (!contact) throw new ContactNotFoundError(contactId);
    const [conversations, messages, statusEvents, links, consent] = await Promise.all([
      this.repo.conversationsOf(contact.id),
      this.repo.messagesOf(contact.id),
      this.repo.statusEventsOf(contact.id),
      this.repo.linksOf(contact.id),
      this.repo.consentEventsOf(contact.id),
    ]);
    return buildContactExport({ contact, conversations, messages, statusEvents, links, consent }, { baseUrl: this.config.publicUrl, now: new Date() });
  }

  /** The stored media file of a message. Throws MediaNotStoredError when there is none (any more). */
  async openMedia(messageId: string): Promise<MediaDownload> {
    const row = UUID.test(messageId) ? await this.repo.findMessageMedia(messageId) : null;
    const key = row?.mediaStatus === 'stored' ? row.media?.storageKey : undefined;
    const stream = key ? await this.store.open(key) : null;
    if (!row?.media || !stream) throw new MediaNotStoredError(messageId);
    return {
      stream,
      mimeType: row.media.mimeType ?? 'application/octet-stream',
      filename: row.media.filename ?? `${messageId}${extensionOf(row.media.mimeType)}`,
      sizeBytes: row.media.sizeBytes,
    };
  }
}

/** A file name extension for common WhatsApp media types, so a downloaded file opens. */
function extensionOf(mimeType: string | undefined): string {
  const subtype = mimeType?.split(';')[0].split('/')[1]?.trim();
  if (!subtype) return '';
  const known: Record<string, string> = { jpeg: '.jpg', png: '.png', webp: '.webp', mp4: '.mp4', ogg: '.ogg', mpeg: '.mp3', pdf: '.pdf', '3gpp': '.3gp', aac: '.aac', amr: '.amr' };
  return known[subtype] ?? '';
}
