import { runConnectorConformance } from '../../_sdk/testing/conformance';
import { hubspot } from '../index';
import { startHubspotFake } from './hubspot.fake-server';

const TOKEN = 'hubspot-conformance-token';

runConnectorConformance(hubspot, {
  async start() {
    const fake = await startHubspotFake({ accessTokens: [TOKEN] });
    return { credentials: { accessToken: TOKEN, baseUrl: fake.url }, settings: {}, fake };
  },
  badCredentials: (valid) => ({ ...valid, accessToken: 'revoked-token' }),
  invalidCredentials: [{ accessToken: '' }, { accessToken: TOKEN, baseUrl: 'not a url' }, { accessToken: TOKEN, appSecret: 42 }],
});
