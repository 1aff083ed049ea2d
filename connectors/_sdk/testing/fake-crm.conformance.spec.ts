/**
 * The shared conformance suite against the in-memory FakeCrm, so the fake the medium test tier
 * relies on keeps the promises a real connector keeps. The fake has no HTTP server: the adapter
 * below plays the suite's vendor fake by scripting the FakeCrm (an HTTP status becomes the
 * ConnectorError kind a connector would translate it to).
 */
import { kindForHttpStatus } from '../errors';
import { runConnectorConformance, type ConformanceFake, type ConformanceSetup, type WebhookRequest } from './conformance';
import { FAKE_CRM_TOKEN, FAKE_CRM_WEBHOOK_SECRET, FakeCrm, signFakeCrmWebhook } from './fake-crm.connector';

function asConformanceFake(crm: FakeCrm): ConformanceFake {
  return {
    url: 'memory://fakecrm',
    close: async () => crm.clearFaults(),
    failNext: (status, opts = {}) => crm.failNext(kindForHttpStatus(status), { retryAfterMs: opts.retryAfterSec === undefined ? undefined : opts.retryAfterSec * 1000 }),
    hang: (ms) => crm.hang(ms),
    contactsMatching: (e164) => crm.contactsWithPhone(e164).length,
    seedContactWithPhone: (formatted) => crm.seedContact(formatted).id,
    requestCount: () => crm.calls.length,
    setSearchLag: (ms) => crm.setSearchLag(ms),
    resetAfterNextCreate: () => crm.failNext('maybe_created'),
    recordsContaining: (text) => crm.timeline.filter((r) => r.text.includes(text)).length,
  };
}

// The suite builds every connector from the one definition it is given: each test starts the
// same account afresh.
const crm = new FakeCrm();

runConnectorConformance(crm.definition, {
  facets: ['timeline', 'tickets', 'ticketRouting', 'transcripts', 'replies', 'consent', 'erasure'],
  async start(): Promise<ConformanceSetup> {
    crm.reset();
    return { credentials: { token: FAKE_CRM_TOKEN, webhookSecret: FAKE_CRM_WEBHOOK_SECRET }, settings: {}, fake: asConformanceFake(crm) };
  },
  badCredentials: (valid) => ({ ...valid, token: 'revoked-token' }),
  invalidCredentials: [{ token: '' }, { token: FAKE_CRM_TOKEN, webhookSecret: 42 }, { token: FAKE_CRM_TOKEN, webhookSecret: '' }],
  replies: {
    webhookSample(): WebhookRequest {
      const body = { replies: [{ id: 'r1', ticketId: 't1', contactId: 'c1', text: 'Your order ships today.', author: 'Agent Smith' }] };
      return { method: 'POST', url: 'https://threadbridge.example.com/webhooks/connections/fake', rawBody: Buffer.from(JSON.stringify(body)) };
    },
    sign: (req, _setup, opts = {}) => signFakeCrmWebhook(opts.secret ?? FAKE_CRM_WEBHOOK_SECRET, req.rawBody, opts.at),
  },
});
