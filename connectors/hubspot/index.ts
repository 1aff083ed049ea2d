/**
 * The HubSpot connector: a definition object the core reads (see connectors/_sdk/contract.ts).
 */
import type { ConnectorDefinition } from '../_sdk/contract';
import { HubspotClient } from './hubspot.client';
import { HubspotConnector, HUBSPOT_MAX_BATCH } from './hubspot.connector';
import { HUBSPOT_DEFAULT_BASE_URL, HubspotCredentials, HubspotSettings } from './hubspot.credentials';
import { budgetOf } from './hubspot.mapper';

export { HubspotConversationsSettings, HubspotCredentials, HubspotSettings, HubspotTicketSettings } from './hubspot.credentials';

export const hubspot: ConnectorDefinition<HubspotCredentials, HubspotSettings> = {
  manifest: {
    id: 'hubspot',
    displayName: 'HubSpot',
    docsUrl: 'https://developers.hubspot.com/docs/api/crm/communications',
    // Free/Starter private apps: 100 requests per rolling 10 s (Professional/Enterprise: 190,
    // set settings.budget for those).
    defaultBudget: { requests: 100, perMs: 10_000 },
    maxBatch: HUBSPOT_MAX_BATCH,
  },
  credentials: HubspotCredentials,
  settings: HubspotSettings,

  fromEnv(env) {
    const accessToken = env.HUBSPOT_ACCESS_TOKEN?.trim();
    if (!accessToken) {
      const siblings = ['HUBSPOT_BASE_URL', 'HUBSPOT_APP_SECRET', 'HUBSPOT_APP_ID', 'HUBSPOT_DEVELOPER_API_KEY'];
      return siblings.some((name) => env[name]?.trim()) ? { missing: ['HUBSPOT_ACCESS_TOKEN'] } : undefined;
    }
    const credentials: HubspotCredentials = { accessToken };
    if (env.HUBSPOT_BASE_URL?.trim()) credentials.baseUrl = env.HUBSPOT_BASE_URL.trim();
    if (env.HUBSPOT_APP_SECRET?.trim()) credentials.appSecret = env.HUBSPOT_APP_SECRET.trim();
    if (env.HUBSPOT_APP_ID?.trim()) credentials.appId = env.HUBSPOT_APP_ID.trim();
    if (env.HUBSPOT_DEVELOPER_API_KEY?.trim()) credentials.developerApiKey = env.HUBSPOT_DEVELOPER_API_KEY.trim();
    return { name: 'HubSpot', credentials, settings: {} };
  },

  endpoints(credentials) {
    return [credentials.baseUrl ?? HUBSPOT_DEFAULT_BASE_URL];
  },

  budgetFor(settings) {
    return budgetOf(settings, hubspot.manifest.defaultBudget);
  },

  create(credentials, settings, deps) {
    return new HubspotConnector(new HubspotClient(credentials, deps), settings, deps, {
      appSecret: credentials.appSecret,
      appId: credentials.appId,
      developerApiKey: credentials.developerApiKey,
    });
  },
};
