/**
 * The Pipedrive connector: customers become persons, conversations open leads, bursts of messages
 * become notes, transcripts a note on close. See README.md in this folder for the set-up.
 */
import type { ConnectorDefinition } from '../_sdk/contract';
import { PipedriveConnector, PIPEDRIVE_MAX_BATCH } from './pipedrive.connector';
import { PIPEDRIVE_DEFAULT_BASE_URL, PIPEDRIVE_MIN_DAILY_TOKENS, PipedriveCredentials, PipedriveSettings, pipedriveOrigin } from './pipedrive.credentials';

export { PipedriveConnector, PipedriveCredentials, PipedriveSettings };

/**
 * The request budget counts Pipedrive tokens (each call acquires its endpoint's cost, see
 * TOKEN_COSTS in pipedrive.client.ts). The account's daily tokens are handed out an hour's share at
 * a time, so a rush of new chats cannot spend in minutes the day's budget that every other app and
 * user of the account draws from too; Pipedrive's two-second burst limit is met by its 429s.
 */
function hourlyShare(dailyTokens: number): { requests: number; perMs: number } {
  return { requests: Math.max(1, Math.floor(dailyTokens / 24)), perMs: 3_600_000 };
}

export const pipedrive: ConnectorDefinition<PipedriveCredentials, PipedriveSettings> = {
  manifest: {
    id: 'pipedrive',
    displayName: 'Pipedrive',
    docsUrl: 'https://developers.pipedrive.com/docs/api/v1',
    defaultBudget: hourlyShare(PIPEDRIVE_MIN_DAILY_TOKENS),
    maxBatch: PIPEDRIVE_MAX_BATCH,
  },
  credentials: PipedriveCredentials,
  settings: PipedriveSettings,

  /** PIPEDRIVE_API_TOKEN declares a connection; PIPEDRIVE_BASE_URL is optional. */
  fromEnv(env) {
    const apiToken = env.PIPEDRIVE_API_TOKEN?.trim();
    const baseUrl = env.PIPEDRIVE_BASE_URL?.trim() || undefined;
    if (!apiToken) return baseUrl ? { missing: ['PIPEDRIVE_API_TOKEN'] } : undefined;
    const credentials = Object.assign(new PipedriveCredentials(), { apiToken, ...(baseUrl ? { baseUrl } : {}) });
    return { name: 'Pipedrive', credentials, settings: {} };
  },

  endpoints(credentials) {
    return [pipedriveOrigin(credentials)];
  },

  budgetFor(settings) {
    return hourlyShare(settings.dailyTokens ?? PIPEDRIVE_MIN_DAILY_TOKENS);
  },

  create(credentials, settings, deps) {
    return new PipedriveConnector(credentials, settings, deps);
  },
};

export { PIPEDRIVE_DEFAULT_BASE_URL };
export default pipedrive;
