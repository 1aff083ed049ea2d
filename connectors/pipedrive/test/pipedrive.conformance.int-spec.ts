/**
 * The shared connector conformance suite, run against the fake Pipedrive.
 */
import { runConnectorConformance, type ConformanceSetup } from '../../_sdk/testing/conformance';
import { pipedrive } from '../index';
import { startPipedriveFake } from './pipedrive.fake-server';

runConnectorConformance(pipedrive, {
  // With its default settings (leads on), a consent field and media uploads: every facet but replies
  // (Pipedrive's webhooks are not signed; agent replies need its Messaging app extension).
  facets: ['timeline', 'tickets', 'transcripts', 'consent', 'erasure'],
  async start(): Promise<ConformanceSetup> {
    const fake = await startPipedriveFake();
    return { credentials: fake.credentials(), settings: { consentField: 'f4b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9', uploadMedia: true }, fake };
  },
  badCredentials: (valid) => ({ ...valid, apiToken: 'not-the-token' }),
  invalidCredentials: [
    { apiToken: '' },
    { apiToken: 'token', baseUrl: 'ftp://127.0.0.1:21' },
    { apiToken: 'token', baseUrl: 'not a url' },
    { baseUrl: 'https://api.pipedrive.com' },
  ],
});
