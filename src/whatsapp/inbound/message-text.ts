/**
 * One line of text per WhatsApp message, as a salesperson reads it on a CRM timeline.
 * Pure. It takes the stored message (possibly reloaded from JSON), so every field of `content`
 * is read defensively: an odd payload degrades to a generic label rather than throwing.
 */
import type { InboundContext, InboundMedia, MetaError } from './inbound.types';
import { arrayOf, type Json, numberOf, objectOf, textOf } from './json-readers';

export interface RenderableMessage {
  type: string;
  body?: string;
  content?: unknown;
  media?: InboundMedia;
  context?: InboundContext;
  errors?: MetaError[];
}

export function renderMessageText(m: RenderableMessage): string {
  const text = renderByType(m);
  return m.context?.forwarded || m.context?.frequentlyForwarded ? `↪ Forwarded: ${text}` : text;
}

function renderByType(m: RenderableMessage): string {
  const caption = m.media?.caption ?? m.body;
  switch (m.type) {
    case 'text':
      return m.body ?? '';
    case 'image':
      return labelled('[Image]', caption);
    case 'video':
      return labelled('[Video]', caption);
    case 'sticker':
      return m.media?.animated ? '[Animated sticker]' : '[Sticker]';
    case 'audio':
      return m.media?.voice ? '[Voice note]' : '[Audio]';
    case 'document': {
      const filename = m.media?.filename;
      return labelled(filename ? `[Document: ${filename}]` : '[Document]', caption);
    }
    case 'location':
      return renderLocation(objectOf(m.content));
    case 'contacts':
      return renderContacts(m.content);
    case 'interactive':
      if (objectOf(m.content).type === 'nfm_reply') return '[Submitted a form]';
      return m.body ? `[Selected: ${m.body}]` : '[Interactive reply]';
    case 'button':
      return `[Button: ${m.body ?? ''}]`;
    case 'reaction':
      return m.body ? `[Reacted ${m.body} to a message]` : '[Removed a reaction]';
    case 'order':
      return labelled(renderOrder(objectOf(m.content)), m.body);
    case 'unsupported':
    case 'unknown': {
      const title = m.errors?.[0]?.title;
      return title ? `[Unsupported message: ${title}]` : '[Unsupported message]';
    }
    case 'system':
      return m.body ?? '[System message]';
    case 'request_welcome':
      // Sent when a customer opens a chat with the business for the first time.
      return '[Opened the chat]';
    default:
      return `[${m.type} message]`;
  }
}

/** `[Location] Philz Coffee, 101 Forest Ave (37.44, -122.16) https://maps.google.com/?q=37.44,-122.16` */
function renderLocation(location: Json): string {
  const place = [textOf(location.name), textOf(location.address)].filter(Boolean).join(', ');
  const lat = numberOf(location.latitude);
  const long = numberOf(location.longitude);
  const where = lat !== undefined && long !== undefined ? `(${lat}, ${long}) https://maps.google.com/?q=${lat},${long}` : '';
  return ['[Location]', place, where].filter(Boolean).join(' ');
}

/** `[Shared contact] Lucía Gómez +1 (983) 555-2319`; several cards are joined with `; `. */
function renderContacts(content: unknown): string {
  const cards = Array.isArray(content) ? content.map(objectOf) : [];
  const described = cards.map((card) => {
    const name = objectOf(card.name);
    const fullName =
      textOf(name.formatted_name) ??
      ([textOf(name.first_name), textOf(name.last_name)].filter(Boolean).join(' ') ||
        textOf(objectOf(card.org).company));
    const phones = arrayOf(card.phones).map((p) => {
      const phone = objectOf(p);
      const waId = textOf(phone.wa_id);
      return textOf(phone.phone) ?? (waId ? `+${waId}` : undefined);
    });
    return [fullName, ...phones].filter(Boolean).join(' ');
  });
  const label = cards.length > 1 ? '[Shared contacts]' : '[Shared contact]';
  return [label, described.filter(Boolean).join('; ')].filter(Boolean).join(' ');
}

/** `[Order] 2 × di9ozbzfi4 (30.00 USD), 1 × nqryix03ez (25.00 USD); total 85.00 USD` */
function renderOrder(order: Json): string {
  const totals = new Map<string, number>();
  const lines = arrayOf(order.product_items).map((raw) => {
    const item = objectOf(raw);
    const quantity = numberOf(item.quantity) ?? 1;
    const price = numberOf(item.item_price);
    const currency = textOf(item.currency) ?? '';
    const sku = textOf(item.product_retailer_id) ?? 'item';
    if (price === undefined) return `${quantity} × ${sku}`;
    totals.set(currency, (totals.get(currency) ?? 0) + quantity * price);
    return `${quantity} × ${sku} (${money(price, currency)})`;
  });
  if (lines.length === 0) return '[Order]';
  const total = [...totals].map(([currency, amount]) => money(amount, currency)).join(' + ');
  return `[Order] ${lines.join(', ')}${total ? `; total ${total}` : ''}`;
}

/** Amount with the currency's own number of decimals (2 for USD, 0 for JPY). */
function money(amount: number, currency: string): string {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // Not an ISO 4217 code (or none): keep two decimals.
  }
  return [amount.toFixed(digits), currency].filter(Boolean).join(' ');
}

function labelled(label: string, text: string | undefined): string {
  return text ? `${label} ${text}` : label;
}
