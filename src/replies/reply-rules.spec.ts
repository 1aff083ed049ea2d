import { describe, expect, it } from '@jest/globals';
import { evaluateSend } from '../consent/consent-gate';
import {
  attachmentName,
  chooseReplyForm,
  describeAttachmentsOutsideWindow,
  describeUnsentAttachments,
  describeWhatsAppFailure,
  readReplyTemplate,
  renderTemplateParameters,
  replyStateOf,
} from './reply-rules';
import { calledUrl, publicBase } from './webhook-url';

const NOW = new Date('2026-11-21T12:00:00Z');
const hoursAgo = (h: number, m = 0) => new Date(NOW.getTime() - (h * 60 + m) * 60_000);
/** The gate's answer for a free-text reply to a customer who last wrote at `lastInboundAt`. */
const freeText = (lastInboundAt: Date | null) =>
  evaluateSend({ category: 'service', isTemplate: false }, { marketing: 'unknown', transactional: 'unknown', lastInboundAt }, NOW);
const TEMPLATE = { name: 'support_reply', language: 'en' };

describe('chooseReplyForm', () => {
  it('sends free text inside the 24-hour window, even with a template configured', () => {
    expect(chooseReplyForm(freeText(hoursAgo(23, 59)), TEMPLATE, 'hint')).toEqual({ form: 'text' });
    expect(chooseReplyForm(freeText(hoursAgo(0, 1)), null, 'hint')).toEqual({ form: 'text' });
  });

  it('falls back to the template just outside the window', () => {
    expect(chooseReplyForm(freeText(hoursAgo(24, 1)), TEMPLATE, 'hint')).toEqual({ form: 'template', template: TEMPLATE });
  });

  it('refuses outside the window without a template, saying why and what to do', () => {
    const form = chooseReplyForm(freeText(hoursAgo(24, 1)), null, 'Set settings.replyTemplate.');
    expect(form).toEqual({ form: 'refuse', reason: 'no_reply_template', detail: expect.stringContaining('more than 24 hours') });
    expect(form.form === 'refuse' && form.detail).toMatch(/no reply template is configured\. Set settings\.replyTemplate\.$/);
  });

  it('says when the customer never wrote at all', () => {
    const form = chooseReplyForm(freeText(null), null, 'hint');
    expect(form.form === 'refuse' && form.detail).toMatch(/never written/);
  });

  it('passes other gate refusals on with the gate detail', () => {
    expect(chooseReplyForm({ allowed: false, reason: 'unknown_contact', detail: 'no such contact' }, TEMPLATE, 'hint')).toEqual({
      form: 'refuse',
      reason: 'unknown_contact',
      detail: 'Not sent on WhatsApp: no such contact.',
    });
  });
});

describe('readReplyTemplate', () => {
  it.each([
    [{ replyTemplate: { name: 'a', language: 'en' } }, { name: 'a', language: 'en' }],
    [{ replyTemplate: { name: 'a', language: 'en', parameters: ['{{agent.text}}'] } }, { name: 'a', language: 'en', parameters: ['{{agent.text}}'] }],
    [{}, null],
    [null, null],
    [{ replyTemplate: 'a' }, null],
    [{ replyTemplate: { name: '', language: 'en' } }, null],
    [{ replyTemplate: { name: 'a', language: 'en', parameters: [1] } }, null],
  ])('%j → %j', (settings, expected) => {
    expect(readReplyTemplate(settings)).toEqual(expected);
  });
});

describe('renderTemplateParameters', () => {
  it('fills tokens, keeps literals, and flattens to one line as WhatsApp requires', () => {
    expect(renderTemplateParameters(['{{customer.name}}', '{{agent.text}}', 'Acme support', 'Hi {{customer.name}}!'], { agentText: 'Line one\nline\ttwo     end', customerName: 'Ana' })).toEqual([
      'Ana',
      'Line one line two   end',
      'Acme support',
      'Hi Ana!',
    ]);
  });

  it('cuts a long text to what a parameter may hold', () => {
    const [value] = renderTemplateParameters(['{{agent.text}}'], { agentText: 'x'.repeat(5000), customerName: 'Ana' });
    expect(value).toHaveLength(1024);
    expect(value.endsWith('…')).toBe(true);
  });
});

describe('attachments', () => {
  it.each([
    [{ filename: ' label.pdf ', url: 'https://z.example/a' }, 'label.pdf'],
    [{ url: 'https://acme.zendesk.com/attachments/token/Tk1/?name=photo%201.png' }, 'photo 1.png'],
    [{ url: 'https://files.example/hubfs/42/invoice.pdf?signature=x' }, 'invoice.pdf'],
    [{ url: 'https://files.example/download/8f3a' }, 'attachment 3'],
    [{}, 'attachment 3'],
  ])('names %j for the agent as %s', (attachment, name) => {
    expect(attachmentName(attachment, 2)).toBe(name);
  });

  it('tells the agent which files did not go and whether the rest did', () => {
    expect(describeUnsentAttachments(['a.png is larger than the 5 MB WhatsApp takes for images'], true)).toBe(
      'Not sent on WhatsApp: a.png is larger than the 5 MB WhatsApp takes for images. The rest of the reply was sent.',
    );
    expect(describeUnsentAttachments(['x', 'y'], false)).toBe('Not sent on WhatsApp: x; y.');
    expect(describeAttachmentsOutsideWindow(['a.png', 'b.pdf'], 'support_reply')).toMatch(/^Not sent on WhatsApp: a\.png, b\.pdf\. .*template support_reply.*within 24 hours/);
  });
});

describe('describeWhatsAppFailure', () => {
  it.each([
    [131047, /24 hours.*template/],
    [131026, /could not deliver.*not be on WhatsApp/],
    [131056, /too many messages.*Wait a minute/],
  ])('explains %i in words an agent can act on', (code, words) => {
    const detail = describeWhatsAppFailure(code, 'Re-engagement message');
    expect(detail).toMatch(words);
    expect(detail).toContain(`WhatsApp error ${code}`);
  });

  it("keeps Meta's title for codes it does not know, and says when there was none", () => {
    expect(describeWhatsAppFailure(999, 'Something odd')).toBe('Not delivered on WhatsApp: Something odd (WhatsApp error 999).');
    expect(describeWhatsAppFailure(null, null)).toBe('Not delivered on WhatsApp: no reason was given.');
  });
});

describe('replyStateOf', () => {
  it('reports the statuses WhatsApp sends, nothing else', () => {
    expect(['pending', 'sent', 'delivered', 'read', 'failed', 'played'].map(replyStateOf)).toEqual([null, 'sent', 'delivered', 'read', 'failed', null]);
  });
});

describe('webhook URLs', () => {
  const request = { protocol: 'http', host: '127.0.0.1:3000', originalUrl: '/webhooks/connections/abc?x=1' };

  it('is the URL the vendor called: PUBLIC_URL (a proxy in front) when set', () => {
    expect(calledUrl('https://tb.example.com/', request)).toBe('https://tb.example.com/webhooks/connections/abc?x=1');
    expect(calledUrl('https://example.com/tb', request)).toBe('https://example.com/tb/webhooks/connections/abc?x=1');
  });

  it("else this service's own address from the request", () => {
    expect(calledUrl(undefined, request)).toBe('http://127.0.0.1:3000/webhooks/connections/abc?x=1');
    expect(publicBase(undefined, { protocol: 'https', host: 'svc.local' })).toBe('https://svc.local');
  });
});
