/**
 * The generic webhook connector: threadbridge's events, one per request, to any HTTPS endpoint,
 * signed per Standard Webhooks; agent replies come back as `reply.created`, signed the same way.
 * See README.md in this folder for the events, the delivery rules and a receiver in 20 lines.
 */
import type { ConnectorDefinition } from '../_sdk/contract';
import { WebhookConnector, WEBHOOK_MAX_BATCH } from './webhook.connector';
import { generateWebhookSecret, WebhookCredentialsDto, WebhookSettingsDto } from './webhook.credentials';
import { PUBLISHED_EVENTS } from './webhook.schemas';

export { WebhookConnector, WebhookCredentialsDto, WebhookSettingsDto };

const DEFAULT_REQUESTS_PER_SECOND = 10;

export const webhook: ConnectorDefinition<WebhookCredentialsDto, WebhookSettingsDto> = {
  manifest: {
    id: 'webhook',
    displayName: 'Webhook (Standard Webhooks)',
    docsUrl: 'https://www.standardwebhooks.com/',
    defaultBudget: { requests: DEFAULT_REQUESTS_PER_SECOND, perMs: 1000 },
    maxBatch: WEBHOOK_MAX_BATCH,
  },
  credentials: WebhookCredentialsDto,
  settings: WebhookSettingsDto,
  events: PUBLISHED_EVENTS,

  /** WEBHOOK_URL and WEBHOOK_SECRET declare a connection (the secret cannot be generated and shown here). */
  fromEnv(env) {
    const url = env.WEBHOOK_URL?.trim();
    const secret = env.WEBHOOK_SECRET?.trim();
    if (!url && !secret) return undefined;
    const missing = [...(url ? [] : ['WEBHOOK_URL']), ...(secret ? [] : ['WEBHOOK_SECRET (whsec_…; e.g. node -e "console.log(\'whsec_\'+require(\'crypto\').randomBytes(32).toString(\'base64\'))")'])];
    if (missing.length > 0 || !url || !secret) return { missing };
    return { name: `Webhook (${new URL(url).host})`, credentials: Object.assign(new WebhookCredentialsDto(), { url, secret }), settings: {} };
  },

  budgetFor(settings) {
    return { requests: settings.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND, perMs: 1000 };
  },

  /** A secret left out is made up here, and the core shows it once. */
  generateCredentials(given): Record<string, string> {
    return given.secret === undefined || given.secret === null || given.secret === '' ? { secret: generateWebhookSecret() } : {};
  },

  endpoints(credentials) {
    return [new URL(credentials.url).origin];
  },

  create(credentials, _settings, deps) {
    return new WebhookConnector(credentials, deps);
  },
};

export default webhook;
