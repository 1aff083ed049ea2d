import type { GateRefusal } from '../../consent/consent-gate';
import type { MessageCategory } from '../../consent/consent.types';

/** An approved WhatsApp template and the values of its body placeholders ({{1}}, {{2}}…), in order. */
export interface TemplateRef {
  name: string;
  /** Language/locale code the template was approved in, e.g. `en`, `pt_BR`. */
  language: string;
  parameters: string[];
}

/** A file to send as a WhatsApp media message (image, video, audio or document, by its type). */
export interface OutboundMediaFile {
  bytes: Buffer;
  /** Its MIME type: decides the kind of message (outbound-media.ts). */
  mimeType: string;
  /** Shown with a document; kept with the message for the CRMs. */
  filename?: string;
}

/**
 * A short menu the customer answers with a tap: sent as reply buttons (up to 3 options of up to 20
 * characters), else as a list (up to 10 of up to 24), else as numbered text — every business
 * number can receive all three, so the form follows from the options alone.
 */
export interface InteractiveMenu {
  /** The question above the options. */
  body: string;
  /** The list's button ("Choose"); lists only. */
  buttonLabel?: string;
  /** `id` comes back in the customer's reply (interactive.button_reply / list_reply). */
  options: { id: string; key: string; title: string }[];
}

/** A message to send to a customer. Exactly one of `text`, `template`, `media` and `interactive`. */
export interface OutboundRequest {
  contactId: string;
  /** The conversation it belongs to; absent: the contact's open conversation (one is opened if none). */
  conversationId?: string;
  category: MessageCategory;
  text?: string;
  template?: TemplateRef;
  /** Uploaded to WhatsApp (and kept in the media store) when the message is queued. */
  media?: OutboundMediaFile;
  interactive?: InteractiveMenu;
  /** Where it comes from: a connection id for an agent's reply, 'consent', 'api'… (kept on the message). */
  origin: string;
  /** Who wrote it (an agent's name, 'threadbridge'), for the record and the CRMs. */
  author: string;
  /**
   * The caller's key for this message: the same key again returns the first message and sends
   * nothing (a replayed webhook, a retried request). Unique across all outbound messages.
   */
  idempotencyKey: string;
  /** wamid of the customer message this replies to (shown quoted in WhatsApp). */
  replyToWamid?: string;
}

export type SendResult =
  /** Stored and queued; `duplicate` when the idempotency key was used before (nothing new queued). */
  | { status: 'queued'; messageId: string; duplicate: boolean }
  /** Not sent: the consent gate refused it, before any call to Meta. The refusal is recorded. */
  | { status: 'refused'; reason: GateRefusal; detail: string };

/** A request that can never be sent as it is (a caller's mistake, not a customer's state). */
export class InvalidOutboundMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOutboundMessageError';
  }
}
