/**
 * The Zendesk Support connector: customers become end users, conversations become tickets,
 * messages become comments, public agent comments come back as WhatsApp replies.
 * See README.md in this folder for the set-up in Zendesk.
 */
import type { ConnectorDefinition, ConnectorDeps } from '../_sdk/contract';
import { ZendeskConnector, ZENDESK_MAX_BATCH, type WebhookSetupResult } from './zendesk.connector';
import { ZendeskCredentialsDto, ZendeskSettingsDto, zendeskApiRoot } from './zendesk.credentials';

export { ZendeskConnector, ZendeskCredentialsDto, ZendeskSettingsDto };
export type { WebhookSetupResult };

export const zendesk: ConnectorDefinition<ZendeskCredentialsDto, ZendeskSettingsDto> = {
  manifest: {
    id: 'zendesk',
    displayName: 'Zendesk Support',
    docsUrl: 'https://developer.zendesk.com/api-reference/ticketing/introduction/',
    // Growth/Professional plans allow 400 Support API requests a minute (Team 200, Enterprise 700).
    defaultBudget: { requests: 400, perMs: 60_000 },
    maxBatch: ZENDESK_MAX_BATCH,
  },
  credentials: ZendeskCredentialsDto,
  settings: ZendeskSettingsDto,

  /**
   * ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL), ZENDESK_EMAIL and ZENDESK_API_TOKEN declare a
   * connection; ZENDESK_WEBHOOK_SECRET is optional.
   */
  fromEnv(env) {
    const subdomain = env.ZENDESK_SUBDOMAIN?.trim() || undefined;
    const baseUrl = env.ZENDESK_BASE_URL?.trim() || undefined;
    const email = env.ZENDESK_EMAIL?.trim();
    const apiToken = env.ZENDESK_API_TOKEN?.trim();
    const declared = [subdomain, baseUrl, email, apiToken, env.ZENDESK_WEBHOOK_SECRET?.trim()].some(Boolean);
    if (!declared) return undefined;
    const missing = [
      ...(subdomain || baseUrl ? [] : ['ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL)']),
      ...(email ? [] : ['ZENDESK_EMAIL']),
      ...(apiToken ? [] : ['ZENDESK_API_TOKEN']),
    ];
    if (missing.length > 0) return { missing };
    const credentials = Object.assign(new ZendeskCredentialsDto(), {
      subdomain,
      baseUrl,
      email,
      apiToken,
      webhookSecret: env.ZENDESK_WEBHOOK_SECRET?.trim() || undefined,
    });
    return { name: subdomain ? `Zendesk (${subdomain})` : 'Zendesk', credentials, settings: {} };
  },

  endpoints(credentials) {
    return [zendeskApiRoot(credentials)];
  },

  create(credentials, settings, deps) {
    return new ZendeskConnector(credentials, settings, deps);
  },
};

/**
 * Creates, in the Zendesk account of `credentials`, the webhook that reports agent replies to
 * `targetUrl` and the trigger that calls it (or, mode 'event', an event-subscription webhook).
 * Returns the signing secret to store as the connection's `webhookSecret`.
 */
export function createZendeskWebhookAndTrigger(
  credentials: ZendeskCredentialsDto,
  settings: Partial<ZendeskSettingsDto>,
  deps: ConnectorDeps,
  targetUrl: string,
  options: { mode?: 'trigger' | 'event' } = {},
): Promise<WebhookSetupResult> {
  return new ZendeskConnector(credentials, settings, deps).createWebhookAndTrigger(targetUrl, options);
}

export default zendesk;
