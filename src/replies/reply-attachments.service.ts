import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AttachmentDownload, CrmConnector, ReplyAttachment } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';
import { LOGGER } from '../common/logger';
import { describeTooLarge, MAX_MEDIA_BYTES, MEDIA_LIMITS, mediaKindOf, mimeTypeOfName, normaliseMimeType } from '../whatsapp/outbound/outbound-media';
import { InvalidOutboundMessageError } from '../whatsapp/outbound/outbound.types';
import { WhatsAppSender } from '../whatsapp/outbound/whatsapp-sender.service';
import type { ReplyTarget } from './agent-replies.repository';
import { attachmentName } from './reply-rules';

/** Where a reply's files come from and go to. */
export interface AttachmentsSource {
  target: ReplyTarget;
  /** The connection the reply was written in (kept on the messages as their origin). */
  origin: string;
  author: string;
  /** The reply's own idempotency key; file n is sent under `<key>:att:<n>`. */
  idempotencyKey: string;
  /** Fetches the files with the connection's credentials; null when the connection cannot be used. */
  connector: CrmConnector | null;
  /** The connection's system, for what the agent is told ("Zendesk Support"). */
  system: string;
}

export interface AttachmentsOutcome {
  /** The media messages queued (or queued before, by an earlier attempt), in the reply's order. */
  messageIds: string[];
  /** What became of each file that was not sent, naming it, in words an agent can act on. */
  notSent: string[];
}

/**
 * A reply's attachments as WhatsApp media messages: each file is fetched through the connector
 * (helpdesk links are often private), checked against WhatsApp's limit for its kind, and queued
 * through WhatsAppSender (which uploads it to Meta) after the reply's text, so the customer gets
 * them in that order. Each file has its own idempotency key, so a reply routed again (a retried
 * task, a webhook delivered twice) never sends a file twice, and an already queued file is not
 * even fetched again. A file that cannot go is named with the reason; the others still go.
 */
@Injectable()
export class ReplyAttachmentsService {
  constructor(
    private readonly sender: WhatsAppSender,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Sends the files in order. Throws when trying again later can help (the vendor or Meta
   * unreachable or throttling): the caller's task is retried and the files already queued are skipped.
   */
  async send(source: AttachmentsSource, attachments: ReplyAttachment[]): Promise<AttachmentsOutcome> {
    const outcome: AttachmentsOutcome = { messageIds: [], notSent: [] };
    for (const [index, attachment] of attachments.entries()) {
      const key = `${source.idempotencyKey}:att:${index}`;
      const name = attachmentName(attachment, index);
      const earlier = await this.sender.existing(key);
      const result = earlier ? { messageId: earlier } : await this.sendOne(source, attachment, name, key);
      if ('messageId' in result) outcome.messageIds.push(result.messageId);
      else {
        outcome.notSent.push(result.notSent);
        this.logger.info({ origin: source.origin, attachment: index }, 'reply attachment not sent');
      }
    }
    return outcome;
  }

  private async sendOne(source: AttachmentsSource, attachment: ReplyAttachment, name: string, key: string): Promise<{ messageId: string } | { notSent: string }> {
    const replies = source.connector?.replies;
    if (!replies?.download) return { notSent: `${name} could not be fetched from ${source.system}` };
    // The type the system declares (or the name suggests) bounds the download; unknown: the largest.
    const declared = normaliseMimeType(attachment.mimeType) ?? mimeTypeOfName(name);
    let download: AttachmentDownload;
    try {
      download = await replies.download(attachment, { maxBytes: declared ? MEDIA_LIMITS[mediaKindOf(declared)] : MAX_MEDIA_BYTES });
    } catch (error) {
      if (!ConnectorError.is(error) || error.kind === 'transient' || error.kind === 'rate_limited') throw error;
      return { notSent: `${name} could not be fetched from ${source.system} (${error.message})` };
    }
    // What the system served says more than what it declared (a trigger names files, not types).
    const mimeType = normaliseMimeType(download.mimeType) ?? declared;
    const kind = mediaKindOf(mimeType);
    if (download.status === 'too_large') return { notSent: describeTooLarge(kind, name, download.sizeBytes) };
    if (!mimeType) return { notSent: `the type of ${name} is unknown, and WhatsApp takes only files of known types` };
    if (download.bytes.length > MEDIA_LIMITS[kind]) return { notSent: describeTooLarge(kind, name, download.bytes.length) };
    try {
      const result = await this.sender.send({
        contactId: source.target.contactId,
        conversationId: source.target.conversationId,
        category: 'service',
        media: { bytes: download.bytes, mimeType, filename: download.filename ?? name },
        origin: source.origin,
        author: source.author,
        idempotencyKey: key,
      });
      return result.status === 'queued' ? { messageId: result.messageId } : { notSent: `${name}: ${result.detail}` };
    } catch (error) {
      if (error instanceof InvalidOutboundMessageError) return { notSent: error.message };
      throw error;
    }
  }
}
