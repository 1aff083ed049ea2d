import { describe, expect, it } from '@jest/globals';
import { runDemo } from '../demo/run-demo';

/**
 * `npm run demo` runs the story in test/demo/run-demo.ts; this runs the same story, so a change
 * that breaks the demo fails here instead of in front of an audience. The assertions are on what
 * the demo shows: what the fake vendors and the customer's fake phone received.
 */
describe('npm run demo', () => {
  it('shows a chat reaching HubSpot and Zendesk, a Zendesk reply on WhatsApp and HubSpot, and a late reply as a template', async () => {
    const lines: string[] = [];
    const result = await runDemo({ print: (line) => lines.push(line), color: false, stepTimeoutMs: 30_000 });

    // 1. The chat opened a Zendesk ticket, the customer's messages as her public comments.
    expect(result.zendeskTicket).toMatchObject({ subject: 'WhatsApp: Ana García (+34612345678)', requester: 'Ana García' });
    expect(result.zendeskTicket.customerComments.join('\n')).toContain('Hola! My order #4411 arrived damaged');

    // 2. The agent's comment reached the customer's phone as text, and "delivered" came back.
    expect(result.replyOnPhone).toEqual({ to: '34612345678', type: 'text', text: expect.stringContaining('A replacement ships today') });
    expect(result.deliveryNote).toMatch(/^Delivered on WhatsApp at \d\d:\d\d:\d\d/);

    // 3. On the HubSpot timeline, and in Zendesk only as the agent's own comment.
    expect(result.hubspotReply).toContain('Agent Smith: Sorry about that, Ana!');
    expect(result.replyCopiesInZendesk).toBe(1);
    expect(result.hubspot).toEqual({ contacts: 1, communications: 4, transcripts: 1 });

    // 4. 25 hours after the customer wrote: the registered template, filled in.
    expect(result.template).toEqual({
      to: '447700900123',
      name: 'support_reply',
      language: 'en',
      parameters: ['Ben Carter', 'Yes, it is back in stock in all sizes.'],
    });
    expect(result.whatsAppSpecViolations).toBe(0);

    const printed = lines.join('\n');
    expect(printed).toContain('Zendesk: a ticket opened for the conversation');
    expect(printed).toContain('zen:event-type:ticket.comment_added');
    expect(printed).toContain('received a template message');
    expect(printed).not.toContain('\x1b[');
  }, 180_000);
});
