import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { IsString, Matches } from 'class-validator';
import { capabilitiesOf, type ConnectorDefinition } from '../../connectors/_sdk/contract';
import { testDeps } from '../../connectors/_sdk/testing/ports';
import { CONNECTOR_IDS } from '../../connectors/index';
import { ConnectorRegistry, InvalidConnectionInputError, UnknownConnectorError } from './connector-registry';

const registry = new ConnectorRegistry();
const hubspot = registry.get('hubspot');
const zendesk = registry.get('zendesk');
/** Credentials each shipped connector accepts, to build one (nothing is called). */
const credentialsOf: Record<string, object> = {
  hubspot: { accessToken: 'pat-na1-abc' },
  zendesk: { subdomain: 'acme', email: 'agent@example.com', apiToken: 'token-abc' },
};

/** The problems an invalid input is refused with (fails when it is accepted). */
async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidConnectionInputError);
  return (error as InvalidConnectionInputError).problems;
}

class TokenDto {
  @IsString()
  @Matches(/^tok_/, { message: 'token $value does not start with tok_' })
  token!: string;
}

class EmptySettings {}

/** A connector of this test only, whose credentials DTO quotes the value in its message. */
const boastful: ConnectorDefinition = {
  manifest: {
    id: 'boastful',
    displayName: 'Boastful',
    docsUrl: 'https://example.com',
    defaultBudget: { requests: 5, perMs: 1000 },
    maxBatch: 1,
  },
  credentials: TokenDto,
  settings: EmptySettings,
  endpoints: () => ['https://example.com'],
  create: () => {
    throw new Error('not used');
  },
};

describe('ConnectorRegistry', () => {
  it('lists every connector of connectors/index.ts and refuses unknown ids with the known ones', () => {
    expect(registry.list().map((d) => d.manifest.id)).toEqual([...CONNECTOR_IDS]);
    expect(registry.find('salesforce')).toBeUndefined();
    expect(() => registry.get('salesforce')).toThrow(UnknownConnectorError);
    expect(() => registry.get('salesforce')).toThrow(`unknown connector 'salesforce'; known connectors: ${CONNECTOR_IDS.join(', ')}`);
  });

  describe('settings', () => {
    it('fills every default of the DTO for empty or absent settings', async () => {
      for (const plain of [{}, undefined]) {
        const settings = (await registry.validateSettings(hubspot, plain)) as Record<string, any>;
        expect(settings.tickets).toEqual({ enabled: true, pipeline: '0', openStage: '1', closedStages: ['4'], subjectTemplate: 'WhatsApp: {{name}} ({{phone}})', reopenWithinHours: 24 });
        expect(settings.consentProperty).toBe('whatsapp_marketing_consent');
        expect(settings.budget).toBeUndefined();
      }
      await expect(registry.validateSettings(zendesk, {})).resolves.toBeDefined();
    });

    it('keeps the defaults of a nested DTO when only some of its keys are given', async () => {
      const settings = (await registry.validateSettings(hubspot, { tickets: { enabled: false, pipeline: undefined } })) as Record<string, any>;
      expect(settings.tickets).toMatchObject({ enabled: false, pipeline: '0', openStage: '1', closedStages: ['4'] });
    });

    it('names each bad field with its path', async () => {
      const problems = await problemsOf(registry.validateSettings(hubspot, { tickets: { pipeline: '', reopenWithinHours: -1 }, consentProperty: 'Not A Property' }));
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^settings\.tickets\.pipeline: pipeline should not be empty/),
          expect.stringMatching(/^settings\.tickets\.reopenWithinHours: reopenWithinHours must not be less than 0/),
          'settings.consentProperty: consentProperty must be a HubSpot internal property name',
        ]),
      );
      const zendeskProblems = await problemsOf(registry.validateSettings(zendesk, { priority: 'asap', customFields: [{ id: 'x', value: 1 }] }));
      expect(zendeskProblems).toEqual(expect.arrayContaining([expect.stringMatching(/^settings\.priority: priority must be one of/), expect.stringMatching(/^settings\.customFields\.0\.id: id must be an integer/)]));
    });

    it('refuses unknown keys when asked to, and drops them otherwise', async () => {
      const problems = await problemsOf(registry.validateSettings(hubspot, { ticket: { enabled: false } }, { rejectUnknown: true }));
      expect(problems).toEqual(['settings.ticket: property ticket should not exist']);
      const lenient = (await registry.validateSettings(hubspot, { ticket: { enabled: false } })) as Record<string, unknown>;
      expect(lenient).not.toHaveProperty('ticket');
    });

    it('refuses settings that are not an object', async () => {
      await expect(problemsOf(registry.validateSettings(hubspot, ['x']))).resolves.toEqual(['settings: must be a JSON object']);
      await expect(problemsOf(registry.validateSettings(hubspot, 'tickets'))).resolves.toEqual(['settings: must be a JSON object']);
    });
  });

  describe('credentials', () => {
    it('returns an instance of the DTO for valid credentials', async () => {
      const credentials = await registry.validateCredentials(hubspot, { accessToken: 'pat-na1-abc', baseUrl: 'http://127.0.0.1:9999' });
      expect(credentials).toBeInstanceOf(hubspot.credentials);
      expect(credentials).toEqual({ accessToken: 'pat-na1-abc', baseUrl: 'http://127.0.0.1:9999' });
    });

    it('names missing and malformed fields without quoting their values', async () => {
      const missing = await problemsOf(registry.validateCredentials(hubspot, {}));
      expect(missing).toEqual(['credentials.accessToken: accessToken should not be empty, accessToken must be a string']);

      const malformed = await problemsOf(registry.validateCredentials(hubspot, { accessToken: 'pat-na1-secret', baseUrl: 'ftp://secret-host' }));
      expect(malformed).toHaveLength(1);
      expect(malformed[0]).toMatch(/^credentials\.baseUrl: baseUrl must be a URL address/);
      expect(malformed.join()).not.toContain('secret');

      const zendeskProblems = await problemsOf(registry.validateCredentials(zendesk, { email: 'not-an-email', apiToken: '' }));
      expect(zendeskProblems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^credentials\.subdomain: subdomain must be the account name/),
          expect.stringMatching(/^credentials\.email: email must be an email/),
          expect.stringMatching(/^credentials\.apiToken: apiToken should not be empty/),
        ]),
      );
    });

    it('removes a credentials value a DTO message quotes', async () => {
      const problems = await problemsOf(registry.validateCredentials(boastful, { token: 'sk_live_very_secret' }));
      expect(problems).toEqual(['credentials.token: token [redacted] does not start with tok_']);
    });

    it('refuses a misspelt field when asked to, naming only the field', async () => {
      const problems = await problemsOf(registry.validateCredentials(hubspot, { accessToken: 'pat', acessToken: 'pat-secret' }, { rejectUnknown: true }));
      expect(problems).toEqual(['credentials.acessToken: property acessToken should not exist']);
    });
  });

  describe('capabilities and budget', () => {
    it('follows the settings where the connector lets them switch a feature off (the facets its connector has)', async () => {
      const withSettings = async (definition: ConnectorDefinition, plain: object) =>
        capabilitiesOf(definition.create(await registry.validateCredentials(definition, credentialsOf[definition.manifest.id]), await registry.validateSettings(definition, plain), testDeps()));
      const all = { contacts: true, history: true, tickets: true, ticketRouting: true, transcripts: true, replies: true, consent: true, erasure: true, attachments: true };
      // Agent replies through HubSpot's inbox are off until the connection enables conversations.
      expect(await withSettings(hubspot, {})).toEqual({ ...all, replies: false });
      expect(await withSettings(hubspot, { tickets: { enabled: false } })).toEqual({ ...all, tickets: false, ticketRouting: false, replies: false });
      expect(await withSettings(zendesk, {})).toEqual({ ...all, consent: false });
    });

    it('uses the budget the settings set, else the manifest default', async () => {
      expect(registry.budget(hubspot, await registry.validateSettings(hubspot, {}))).toEqual({ requests: 100, perMs: 10_000 });
      expect(registry.budget(hubspot, await registry.validateSettings(hubspot, { budget: { requests: 190, perMs: 10_000 } }))).toEqual({ requests: 190, perMs: 10_000 });
      expect(registry.budget(zendesk, {})).toEqual(zendesk.manifest.defaultBudget);
      expect(registry.budget(boastful, {})).toEqual({ requests: 5, perMs: 1000 });
    });
  });
});
