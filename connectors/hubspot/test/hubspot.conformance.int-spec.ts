/**
 * The shared connector conformance suite against the fake HubSpot, for a connection without
 * agent replies and for one with a Conversations custom channel (the `replies` facet comes from
 * the settings, so both must conform).
 */
import { createHmac } from 'node:crypto';
import { describe } from '@jest/globals';
import type { FacetName } from '../../_sdk/contract';
import { runConnectorConformance, type ConformanceHarness, type ConformanceSetup, type WebhookRequest } from '../../_sdk/testing/conformance';
import { hubspot } from '../index';
import { startHubspotFake } from './hubspot.fake-server';

const TOKEN = 'hubspot-conformance-token';
const APP_SECRET = 'hubspot-conformance-app-secret';

/** What the fake's agentReply() posts, for the channel of `setup` (or any channel). */
function outgoingEvent(setup: ConformanceSetup): WebhookRequest {
  const channelId = (setup.settings as { conversations?: { channelId?: string } }).conversations?.channelId ?? '100001';
  const event = {
    type: 'OUTGOING_CHANNEL_MESSAGE_CREATED',
    portalId: 12345678,
    channelId,
    channelAccountId: '100002',
    occurredAt: Date.now(),
    message: {
      id: '9d5f3c0f8e8f4c1c9c0e7a1b2c3d4e5f',
      type: 'MESSAGE',
      channelId,
      conversationsThreadId: '7233911',
      integrationThreadId: '2f6c7a9e-1b1e-4a53-9c0d-5d1f3c2a7e10',
      direction: 'OUTGOING',
      senders: [{ actorId: 'A-5551234', name: 'Agent Smith', deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550100000' } }],
      recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+48601234567' } }],
      text: 'Your order ships today.',
      attachments: [],
      createdAt: new Date().toISOString(),
      createdBy: 'A-5551234',
    },
  };
  return { method: 'POST', url: 'https://threadbridge.example.com/webhooks/hubspot/conn-1?source=channel', rawBody: Buffer.from(JSON.stringify(event)) };
}

/** X-HubSpot-Signature-v3 = base64(HMAC-SHA256(app secret, METHOD + URI + body + timestamp)), timestamp in ms. */
function signV3(req: WebhookRequest, _setup: ConformanceSetup, opts: { secret?: string; at?: Date } = {}): Record<string, string> {
  const timestamp = String((opts.at ?? new Date()).getTime());
  const signature = createHmac('sha256', opts.secret ?? APP_SECRET)
    .update(req.method + req.url)
    .update(req.rawBody)
    .update(timestamp)
    .digest('base64');
  return { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp };
}

/** What every HubSpot connection has with the default ticket settings. */
const everyConnection: FacetName[] = ['timeline', 'tickets', 'ticketRouting', 'transcripts', 'replySetup', 'consent', 'erasure'];

const common: Omit<ConformanceHarness, 'start' | 'facets'> = {
  badCredentials: (valid) => ({ ...valid, accessToken: 'revoked-token' }),
  invalidCredentials: [
    { accessToken: '' },
    { accessToken: TOKEN, baseUrl: 'not a url' },
    { accessToken: TOKEN, appSecret: 42 },
    { accessToken: TOKEN, appId: 'my-app' },
    { accessToken: TOKEN, developerApiKey: '' },
  ],
  replies: { webhookSample: outgoingEvent, sign: signV3 },
};

describe('without agent replies (conversations disabled)', () => {
  runConnectorConformance(hubspot, {
    ...common,
    facets: everyConnection,
    async start() {
      const fake = await startHubspotFake({ accessTokens: [TOKEN] });
      return { credentials: { accessToken: TOKEN, baseUrl: fake.url, appSecret: APP_SECRET }, settings: {}, fake };
    },
  });
});

describe('with agent replies through a custom channel', () => {
  runConnectorConformance(hubspot, {
    ...common,
    facets: [...everyConnection, 'replies'],
    async start() {
      const fake = await startHubspotFake({ accessTokens: [TOKEN], appSecret: APP_SECRET });
      const { channelId, channelAccountId } = fake.seedCustomChannel({ webhookUrl: 'https://threadbridge.example.com/webhooks/hubspot/conn-1?source=channel' });
      return {
        credentials: { accessToken: TOKEN, baseUrl: fake.url, appSecret: APP_SECRET, appId: fake.app.appId, developerApiKey: fake.app.developerApiKey },
        settings: { conversations: { enabled: true, channelId, channelAccountId, inboxId: fake.app.inboxId, deliveryIdentifier: '+15550100000' } },
        fake,
      };
    },
  });
});
