import { describe, expect, it } from '@jest/globals';
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

  it.each([
    ['neither text nor template', {}],
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
  });
});
