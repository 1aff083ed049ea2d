/**
 * The shared connector conformance suite, run against the fake Zendesk.
 */
import { runConnectorConformance, type ConformanceSetup, type WebhookRequest } from '../../_sdk/testing/conformance';
import { zendesk } from '../index';
import { signZendeskWebhook } from '../zendesk.webhooks';
import { startZendeskFake } from './zendesk.fake-server';

const WEBHOOK_SECRET = 'conformance-webhook-secret';

/** Zendesk's signature timestamp: ISO 8601 without milliseconds. */
const zendeskTimestamp = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

runConnectorConformance(zendesk, {
  // Whatever its settings, a Zendesk connection has every facet but consent (not mirrored to Zendesk).
  facets: ['timeline', 'tickets', 'ticketRouting', 'transcripts', 'replies', 'replySetup', 'erasure'],
  async start(): Promise<ConformanceSetup> {
    const fake = await startZendeskFake();
    return { credentials: fake.credentials({ webhookSecret: WEBHOOK_SECRET }), settings: {}, fake };
  },
  badCredentials: (valid) => ({ ...valid, apiToken: 'not-the-token' }),
  invalidCredentials: [
    { email: 'agent@example.com', apiToken: 'token' }, // neither subdomain nor baseUrl
    { subdomain: 'acme corp', email: 'agent@example.com', apiToken: 'token' },
    { baseUrl: 'ftp://127.0.0.1:21', email: 'agent@example.com', apiToken: 'token' },
    { subdomain: 'acme', email: 'not-an-email', apiToken: 'token' },
    { subdomain: 'acme', email: 'agent@example.com', apiToken: '' },
  ],
  replies: {
    webhookSample(): WebhookRequest {
      const body = {
        type: 'zen:event-type:ticket.comment_added',
        account_id: 12345,
        id: '4f0e2f59-9a36-4a0e-9a47-0f3b2d1c9e11',
        time: new Date().toISOString(),
        subject: 'zen:ticket:17',
        zendesk_event_version: '2022-11-06',
        detail: { id: '17', requester_id: '1000003', status: 'OPEN', tags: ['whatsapp'] },
        event: { comment: { id: '5000042', body: 'Your order ships today.', is_public: true, author: { id: '1000002', is_staff: true, name: 'Agent Smith' } } },
      };
      return { method: 'POST', url: 'https://threadbridge.example.com/webhooks/zendesk/conn-1', rawBody: Buffer.from(JSON.stringify(body)) };
    },
    sign(req: WebhookRequest, _setup: ConformanceSetup, opts: { secret?: string; at?: Date } = {}): Record<string, string> {
      const timestamp = zendeskTimestamp(opts.at ?? new Date());
      return {
        'x-zendesk-webhook-signature': signZendeskWebhook(opts.secret ?? WEBHOOK_SECRET, timestamp, req.rawBody),
        'x-zendesk-webhook-signature-timestamp': timestamp,
      };
    },
  },
});
