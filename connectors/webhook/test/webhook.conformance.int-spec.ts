/**
 * The shared connector conformance suite, run against a test receiver. A receiver has no contact
 * store to search, so the harness says `contacts: 'derived'` and the error checks go through a
 * delivery (the timeline).
 */
import { aCustomer, aThread, someMessages } from '../../_sdk/testing/builders';
import { runConnectorConformance, type ConformanceSetup, type WebhookRequest } from '../../_sdk/testing/conformance';
import { webhook } from '../index';
import { aWebhookSecret, signV1, WebhookReceiver } from './webhook.receiver';

runConnectorConformance(webhook, {
  facets: ['timeline', 'tickets', 'transcripts', 'replies', 'consent', 'erasure'],
  contacts: 'derived',
  async probe(connector) {
    const customer = aCustomer({ waId: '48601234569' });
    return connector.appendMessages(aThread(customer, await connector.ensureContact(customer)), someMessages(1));
  },
  async start(): Promise<ConformanceSetup> {
    const fake = await WebhookReceiver.start();
    return { credentials: { url: fake.url, secret: fake.secret }, settings: {}, fake };
  },
  badCredentials: (valid) => ({ ...valid, secret: aWebhookSecret() }),
  invalidCredentials: [
    { url: 'ftp://127.0.0.1:21/hook', secret: aWebhookSecret() },
    { url: 'http://receiver.example.com/hook', secret: aWebhookSecret() },
    { url: 'https://user:pw@receiver.example.com/hook', secret: aWebhookSecret() },
    { url: 'https://receiver.example.com/hook', secret: 'not-a-secret' },
    { url: 'https://receiver.example.com/hook', secret: `whsec_${Buffer.alloc(8).toString('base64')}` },
    { url: 'https://receiver.example.com/hook' },
  ],
  replies: {
    webhookSample(): WebhookRequest {
      const body = { type: 'reply.created', timestamp: new Date().toISOString(), data: { replyId: 'r-1', conversationId: '0b8e4a52-7c1d-4f3e-a6b9-5d2c1e0f9a87', text: 'Your order ships today.', author: 'Agent Smith' } };
      return { method: 'POST', url: 'https://threadbridge.example.com/webhooks/connections/conn-1', rawBody: Buffer.from(JSON.stringify(body)) };
    },
    sign(req: WebhookRequest, setup: ConformanceSetup, opts: { secret?: string; at?: Date } = {}): Record<string, string> {
      const secret = opts.secret ?? (setup.credentials as { secret: string }).secret;
      const id = 'msg_conformance1';
      const timestamp = Math.floor((opts.at ?? new Date()).getTime() / 1000);
      return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signV1(secret, id, timestamp, req.rawBody) };
    },
  },
});
