import type { OutboundMessageBody } from '../cloud-api.client';
import { describeTooLarge, MEDIA_LIMITS, type MediaKind, mediaKindOf, normaliseMimeType } from './outbound-media';
import { type InteractiveMenu, InvalidOutboundMessageError, type OutboundMediaFile, type OutboundRequest, type TemplateRef } from './outbound.types';

/** WhatsApp's limit for a text message body. */
export const MAX_TEXT_LENGTH = 4096;
/** Template names are lower case letters, digits and underscores (Meta's rule). */
const TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;
const LANGUAGE_CODE = /^[a-z]{2,3}(_[A-Za-z]{2,4})?$/;

/** What is stored on the message row: its type, a readable body, and the payload Meta is sent. */
export interface OutboundContent {
  type: 'text' | 'template' | 'interactive' | MediaKind;
  /** The text, or a one-line rendering of the template or menu for people and CRMs; null for media (CRMs render the file). */
  body: string | null;
  /**
   * The object under `type` in the send request (the Cloud API's `text`, `template`, `image`…
   * object). A media message's `id` is added once the file is uploaded.
   */
  content: Record<string, unknown>;
}

/** Checks a request and turns it into what the message row holds. Throws InvalidOutboundMessageError. */
export function toOutboundContent(request: Pick<OutboundRequest, 'text' | 'template' | 'media' | 'interactive'>): OutboundContent {
  const { text, template, media, interactive } = request;
  if ([text, template, media, interactive].filter((part) => part !== undefined).length !== 1) throw new InvalidOutboundMessageError('give exactly one of text, template and media');
  if (media !== undefined) return toMediaContent(media);
  if (interactive !== undefined) return toMenuContent(interactive);
  if (text !== undefined) {
    if (text.trim() === '') throw new InvalidOutboundMessageError('the text is empty');
    if (text.length > MAX_TEXT_LENGTH) throw new InvalidOutboundMessageError(`the text is longer than WhatsApp's ${MAX_TEXT_LENGTH} characters`);
    return { type: 'text', body: text, content: { body: text, preview_url: false } };
  }
  return { type: 'template', body: renderTemplate(template!), content: toTemplateObject(template!) };
}

/**
 * A file as a media message of its kind; documents carry their file name (WhatsApp shows it).
 * Captions are not used: a reply's text goes as its own message before its files.
 */
function toMediaContent(media: OutboundMediaFile): OutboundContent {
  const kind = mediaKindOf(media.mimeType);
  if (!normaliseMimeType(media.mimeType)) throw new InvalidOutboundMessageError(`the type of ${media.filename ?? 'the file'} is unknown`);
  if (media.bytes.length === 0) throw new InvalidOutboundMessageError(`${media.filename ?? 'the file'} is empty`);
  if (media.bytes.length > MEDIA_LIMITS[kind]) throw new InvalidOutboundMessageError(describeTooLarge(kind, media.filename, media.bytes.length));
  const filename = media.filename?.trim() || undefined;
  return { type: kind, body: null, content: kind === 'document' && filename ? { filename } : {} };
}

function toTemplateObject(t: TemplateRef): Record<string, unknown> {
  if (!TEMPLATE_NAME.test(t.name)) throw new InvalidOutboundMessageError('a template name is lower-case letters, digits and underscores');
  if (!LANGUAGE_CODE.test(t.language)) throw new InvalidOutboundMessageError('the template language must be a code such as en or pt_BR');
  if (t.parameters.some((p) => typeof p !== 'string' || p.trim() === '')) throw new InvalidOutboundMessageError('template parameters must be non-empty text');
  return {
    name: t.name,
    language: { code: t.language, policy: 'deterministic' },
    ...(t.parameters.length ? { components: [{ type: 'body', parameters: t.parameters.map((text) => ({ type: 'text', text })) }] } : {}),
  };
}

// Meta's limits for interactive messages.
const MAX_BUTTONS = 3;
const MAX_BUTTON_TITLE = 20;
const MAX_LIST_ROWS = 10;
const MAX_ROW_TITLE = 24;
const MAX_INTERACTIVE_BODY = 1024;

/**
 * A menu as reply buttons, a list, or (too many or too long options) numbered text. The stored
 * body is always the numbered text: what an agent reading the history in a CRM should see.
 */
function toMenuContent(menu: InteractiveMenu): OutboundContent {
  if (menu.options.length === 0) throw new InvalidOutboundMessageError('a menu needs at least one option');
  const numbered = [menu.body, ...menu.options.map((o) => `${o.key}. ${o.title}`)].join('\n');
  if (numbered.length > MAX_TEXT_LENGTH) throw new InvalidOutboundMessageError(`the menu is longer than WhatsApp's ${MAX_TEXT_LENGTH} characters`);
  const fits = (max: number) => menu.body.length <= MAX_INTERACTIVE_BODY && menu.options.every((o) => o.title.length <= max && o.id.length <= 200);
  if (menu.options.length <= MAX_BUTTONS && fits(MAX_BUTTON_TITLE)) {
    return {
      type: 'interactive',
      body: numbered,
      content: { type: 'button', body: { text: menu.body }, action: { buttons: menu.options.map((o) => ({ type: 'reply', reply: { id: o.id, title: o.title } })) } },
    };
  }
  if (menu.options.length <= MAX_LIST_ROWS && fits(MAX_ROW_TITLE)) {
    return {
      type: 'interactive',
      body: numbered,
      content: {
        type: 'list',
        body: { text: menu.body },
        action: { button: (menu.buttonLabel ?? 'Choose').slice(0, MAX_BUTTON_TITLE), sections: [{ rows: menu.options.map((o) => ({ id: o.id, title: o.title })) }] },
      },
    };
  }
  return { type: 'text', body: numbered, content: { body: numbered, preview_url: false } };
}

/** "[template order_update/en] 4711 · Friday": what an agent reading the history should see. */
function renderTemplate(t: TemplateRef): string {
  return `[template ${t.name}/${t.language}]${t.parameters.length ? ` ${t.parameters.join(' · ')}` : ''}`;
}

/** The Cloud API request for a stored outbound message. */
export function toCloudApiMessage(waId: string, type: string, content: Record<string, unknown>, replyToWamid?: string | null): OutboundMessageBody {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: waId,
    type,
    ...(replyToWamid ? { context: { message_id: replyToWamid } } : {}),
    [type]: content,
  };
}
