import { describe, expect, it } from '@jest/globals';
import { MEDIA_LIMITS } from './outbound-media';
import { MAX_TEXT_LENGTH, toCloudApiMessage, toOutboundContent } from './outbound.mapper';
import { InvalidOutboundMessageError } from './outbound.types';

describe('outbound messages', () => {
  it('stores a text as its body and Meta text object', () => {
    expect(toOutboundContent({ text: 'Your order is on its way' })).toEqual({
      type: 'text',
      body: 'Your order is on its way',
      content: { body: 'Your order is on its way', preview_url: false },
    });
  });

  it('stores a template as Meta template object with body parameters, and a readable line', () => {
    expect(toOutboundContent({ template: { name: 'order_update', language: 'pt_BR', parameters: ['4711', 'sexta-feira'] } })).toEqual({
      type: 'template',
      body: '[template order_update/pt_BR] 4711 · sexta-feira',
      content: {
        name: 'order_update',
        language: { code: 'pt_BR', policy: 'deterministic' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: '4711' }, { type: 'text', text: 'sexta-feira' }] }],
      },
    });
    expect(toOutboundContent({ template: { name: 'hello_world', language: 'en', parameters: [] } }).content).toEqual({
      name: 'hello_world',
      language: { code: 'en', policy: 'deterministic' },
    });
  });

  it('stores a file as a media message of its kind, documents with their name, without a body', () => {
    const bytes = Buffer.from('%PDF-1.7');
    expect(toOutboundContent({ media: { bytes, mimeType: 'application/pdf', filename: 'invoice.pdf' } })).toEqual({ type: 'document', body: null, content: { filename: 'invoice.pdf' } });
    expect(toOutboundContent({ media: { bytes, mimeType: 'image/jpg', filename: 'photo.jpg' } })).toEqual({ type: 'image', body: null, content: {} });
    expect(toOutboundContent({ media: { bytes, mimeType: 'audio/ogg; codecs=opus' } })).toEqual({ type: 'audio', body: null, content: {} });
  });

  it('refuses a file over the limit of its kind, naming it and the limit', () => {
    const media = { bytes: Buffer.alloc(MEDIA_LIMITS.image + 1), mimeType: 'image/png', filename: 'big.png' };
    expect(() => toOutboundContent({ media })).toThrow('big.png (5 MB) is larger than the 5 MB WhatsApp takes for images');
    // The same bytes are a fine document.
    expect(toOutboundContent({ media: { ...media, mimeType: 'application/pdf' } }).type).toBe('document');
  });

  it.each([
    ['neither text nor template', {}],
    ['text and a file', { text: 'hi', media: { bytes: Buffer.from('x'), mimeType: 'image/png' } }],
    ['an empty file', { media: { bytes: Buffer.alloc(0), mimeType: 'image/png' } }],
    ['a file of unknown type', { media: { bytes: Buffer.from('x'), mimeType: 'application/octet-stream' } }],
    ['both', { text: 'hi', template: { name: 'x', language: 'en', parameters: [] } }],
    ['an empty text', { text: '  ' }],
    ['a text over 4096 characters', { text: 'a'.repeat(MAX_TEXT_LENGTH + 1) }],
    ['a template name with capitals', { template: { name: 'Order_Update', language: 'en', parameters: [] } }],
    ['a language that is not a code', { template: { name: 'order_update', language: 'English', parameters: [] } }],
    ['an empty template parameter', { template: { name: 'order_update', language: 'en', parameters: [''] } }],
  ])('refuses %s', (_case, request) => {
    expect(() => toOutboundContent(request)).toThrow(InvalidOutboundMessageError);
  });

  it('builds the Cloud API request, quoting the message it answers', () => {
    expect(toCloudApiMessage('4915200000001', 'text', { body: 'ok', preview_url: false }, 'wamid.ABC')).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '4915200000001',
      type: 'text',
      context: { message_id: 'wamid.ABC' },
      text: { body: 'ok', preview_url: false },
    });
    expect(toCloudApiMessage('4915200000001', 'template', { name: 'x', language: { code: 'en' } })).not.toHaveProperty('context');
    expect(toCloudApiMessage('4915200000001', 'document', { filename: 'invoice.pdf', id: '1234567890123456' })).toMatchObject({
      type: 'document',
      document: { id: '1234567890123456', filename: 'invoice.pdf' },
    });
  });
});

describe('toOutboundContent: menus', () => {
  const option = (key: string, title: string) => ({ id: `triage:${key}`, key, title });

  it('sends up to three short options as reply buttons, and keeps the numbered text for the CRMs', () => {
    const content = toOutboundContent({ interactive: { body: 'How can we help?', options: [option('1', 'Order status'), option('2', 'Returns')] } });
    expect(content).toEqual({
      type: 'interactive',
      body: 'How can we help?\n1. Order status\n2. Returns',
      content: {
        type: 'button',
        body: { text: 'How can we help?' },
        action: { buttons: [{ type: 'reply', reply: { id: 'triage:1', title: 'Order status' } }, { type: 'reply', reply: { id: 'triage:2', title: 'Returns' } }] },
      },
    });
  });

  it('sends four to ten options as a list with its button label', () => {
    const options = ['Order status', 'Returns', 'Sales', 'Invoices'].map((t, i) => option(String(i + 1), t));
    const content = toOutboundContent({ interactive: { body: 'Pick one', buttonLabel: 'Options', options } });
    expect(content.type).toBe('interactive');
    expect(content.content).toEqual({ type: 'list', body: { text: 'Pick one' }, action: { button: 'Options', sections: [{ rows: options.map((o) => ({ id: o.id, title: o.title })) }] } });
  });

  it('falls back to numbered text when an option is longer than a list row takes', () => {
    const content = toOutboundContent({ interactive: { body: 'Pick one', options: [option('1', 'A question about my last invoice')] } });
    expect(content).toEqual({ type: 'text', body: 'Pick one\n1. A question about my last invoice', content: { body: 'Pick one\n1. A question about my last invoice', preview_url: false } });
  });

  it('refuses a menu without options', () => {
    expect(() => toOutboundContent({ interactive: { body: 'Pick one', options: [] } })).toThrow(InvalidOutboundMessageError);
  });
});
