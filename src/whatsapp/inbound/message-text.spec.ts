import { describe, expect, it } from '@jest/globals';
import type { InboundContext } from './inbound.types';
import { renderMessageText, type RenderableMessage } from './message-text';

const forwarded: InboundContext = { forwarded: true, frequentlyForwarded: false };
const media = { id: '1003383421387256', mimeType: 'image/jpeg' };

describe('renderMessageText', () => {
  it.each<[string, RenderableMessage, string]>([
    ['text', { type: 'text', body: 'Does it come in another color?' }, 'Does it come in another color?'],
    ['text without body', { type: 'text' }, ''],
    ['image with caption', { type: 'image', body: 'Taj Mahal', media: { ...media, caption: 'Taj Mahal' } }, '[Image] Taj Mahal'],
    ['image without caption', { type: 'image', media }, '[Image]'],
    ['video with caption', { type: 'video', media: { id: '1', caption: 'Unboxing' } }, '[Video] Unboxing'],
    ['sticker', { type: 'sticker', media: { id: '1', animated: false } }, '[Sticker]'],
    ['animated sticker', { type: 'sticker', media: { id: '1', animated: true } }, '[Animated sticker]'],
    ['voice note', { type: 'audio', media: { id: '1', voice: true } }, '[Voice note]'],
    ['audio file', { type: 'audio', media: { id: '1', voice: false } }, '[Audio]'],
    ['document', { type: 'document', media: { id: '1', filename: 'invoice.pdf' } }, '[Document: invoice.pdf]'],
    ['document with caption', { type: 'document', media: { id: '1', filename: 'invoice.pdf', caption: 'Signed' } }, '[Document: invoice.pdf] Signed'],
    ['document without filename', { type: 'document', media: { id: '1' } }, '[Document]'],
    [
      'location',
      { type: 'location', content: { latitude: 37.44221496582, longitude: -122.16165924072, name: 'Philz Coffee', address: '101 Forest Ave, Palo Alto, CA 94301' } },
      '[Location] Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301 (37.44221496582, -122.16165924072) https://maps.google.com/?q=37.44221496582,-122.16165924072',
    ],
    ['location pin without name', { type: 'location', content: { latitude: 48.8584, longitude: 2.2945 } }, '[Location] (48.8584, 2.2945) https://maps.google.com/?q=48.8584,2.2945'],
    [
      'contact card',
      { type: 'contacts', content: [{ name: { formatted_name: 'Lucía Gómez' }, phones: [{ phone: '+1 (983) 555-2319', wa_id: '19835552319' }] }] },
      '[Shared contact] Lucía Gómez +1 (983) 555-2319',
    ],
    [
      'contact card with only a wa_id and a split name',
      { type: 'contacts', content: [{ name: { first_name: 'Kenji', last_name: 'Sato' }, phones: [{ wa_id: '819012345678' }] }] },
      '[Shared contact] Kenji Sato +819012345678',
    ],
    [
      'two contact cards',
      { type: 'contacts', content: [{ name: { formatted_name: 'A' }, phones: [{ phone: '+1 555 0100' }] }, { org: { company: 'Acme' } }] },
      '[Shared contacts] A +1 555 0100; Acme',
    ],
    ['list reply', { type: 'interactive', body: 'Priority Mail Express', content: { type: 'list_reply' } }, '[Selected: Priority Mail Express]'],
    ['button reply', { type: 'interactive', body: 'Cancel', content: { type: 'button_reply' } }, '[Selected: Cancel]'],
    ['flow (form) reply', { type: 'interactive', content: { type: 'nfm_reply', nfm_reply: { body: 'Sent' } } }, '[Submitted a form]'],
    ['template quick-reply button', { type: 'button', body: 'Unsubscribe' }, '[Button: Unsubscribe]'],
    ['reaction', { type: 'reaction', body: '👍' }, '[Reacted 👍 to a message]'],
    ['reaction removed', { type: 'reaction', body: '' }, '[Removed a reaction]'],
    [
      'order',
      {
        type: 'order',
        content: {
          catalog_id: '194836987003835',
          text: '',
          product_items: [
            { product_retailer_id: 'di9ozbzfi4', quantity: 2, item_price: 12.5, currency: 'USD' },
            { product_retailer_id: 'nqryix03ez', quantity: 1, item_price: 25, currency: 'USD' },
          ],
        },
      },
      '[Order] 2 × di9ozbzfi4 (12.50 USD), 1 × nqryix03ez (25.00 USD); total 50.00 USD',
    ],
    [
      'order with a note, in a currency without decimals',
      { type: 'order', body: 'Deliver after 6pm', content: { product_items: [{ product_retailer_id: 'tea', quantity: 3, item_price: 1200, currency: 'JPY' }] } },
      '[Order] 3 × tea (1200 JPY); total 3600 JPY Deliver after 6pm',
    ],
    [
      'order in two currencies',
      {
        type: 'order',
        content: {
          product_items: [
            { product_retailer_id: 'a', quantity: 1, item_price: 10, currency: 'EUR' },
            { product_retailer_id: 'b', quantity: 2, item_price: 5, currency: 'USD' },
          ],
        },
      },
      '[Order] 1 × a (10.00 EUR), 2 × b (5.00 USD); total 10.00 EUR + 10.00 USD',
    ],
    ['order without items', { type: 'order', content: {} }, '[Order]'],
    [
      'unsupported',
      { type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown', details: 'Message type is currently not supported.' }] },
      '[Unsupported message: Message type unknown]',
    ],
    ['unknown without errors', { type: 'unknown' }, '[Unsupported message]'],
    ['system', { type: 'system', body: 'User Sheena Nelson changed from 16505551234 to 12195555358' }, 'User Sheena Nelson changed from 16505551234 to 12195555358'],
    ['welcome request', { type: 'request_welcome' }, '[Opened the chat]'],
    ['a type from the future', { type: 'poll_vote', content: { selected_options: ['Tuesday'] } }, '[poll_vote message]'],
    ['forwarded text', { type: 'text', body: 'Look at this', context: forwarded }, '↪ Forwarded: Look at this'],
    [
      'frequently forwarded image',
      { type: 'image', media: { id: '1', caption: '50% off' }, context: { forwarded: true, frequentlyForwarded: true } },
      '↪ Forwarded: [Image] 50% off',
    ],
    ['a reply (not forwarded)', { type: 'text', body: 'Yes', context: { replyTo: 'wamid.X', forwarded: false, frequentlyForwarded: false } }, 'Yes'],
  ])('%s', (_name, message, expected) => {
    expect(renderMessageText(message)).toBe(expected);
  });

  it.each<[string, RenderableMessage]>([
    ['location', { type: 'location', content: 'not an object' }],
    ['contacts', { type: 'contacts', content: { not: 'an array' } }],
    ['order', { type: 'order', content: { product_items: [null, { quantity: 'two' }] } }],
    ['interactive', { type: 'interactive', content: null }],
  ])('degrades to a label when a stored %s payload is odd', (_name, message) => {
    expect(renderMessageText(message)).toMatch(/^\[[^\]]+\]/);
  });
});
