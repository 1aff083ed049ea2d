import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../config/configuration';
import { EgressPolicy } from '../common/egress';
import { prepareSandbox, SANDBOX_PHONE_NUMBER_ID } from './sandbox.setup';

const PG = 'postgres://db.internal/threadbridge';
const secrets = (file: string) => ({ created: true, path: `/data/${file}`, value: `generated-${file}` });

describe('SANDBOX defaults', () => {
  it.each<[Record<string, string>, boolean, string]>([
    [{}, true, 'embedded mode'],
    [{ NODE_ENV: 'production' }, false, 'embedded mode with NODE_ENV=production'],
    [{ DATABASE_URL: PG }, false, 'a Postgres deployment'],
    [{ DATABASE_URL: PG, SANDBOX: 'true' }, true, 'asked for with Postgres'],
    [{ DATABASE_URL: PG, SANDBOX: 'true', NODE_ENV: 'production' }, true, 'asked for in production'],
    [{ SANDBOX: 'false' }, false, 'turned off in embedded mode'],
  ])('%j → %s (%s)', (env, enabled, _case) => {
    expect(loadConfig(env).sandbox.enabled).toBe(enabled);
  });

  it('refuses a SANDBOX that is neither true nor false', () => {
    expect(() => loadConfig({ SANDBOX: 'yes' })).toThrow(/SANDBOX/);
  });
});

describe('prepareSandbox', () => {
  it('points the Cloud API at this process and allows exactly its host:port, nothing else on loopback', async () => {
    const config = loadConfig({ PORT: '3999', HOST: '0.0.0.0', EGRESS_ALLOW: '10.0.0.5:8080' });
    const notes = await prepareSandbox(config, secrets);
    expect(config.whatsapp.apiUrl).toBe('http://127.0.0.1:3999/console/sandbox/graph');
    expect(config.egressAllow).toBe('10.0.0.5:8080,127.0.0.1:3999');
    const egress = new EgressPolicy(config.egressAllow);
    expect(egress.refusal('127.0.0.1', '127.0.0.1', 3999)).toBeUndefined();
    expect(egress.refusal('127.0.0.1', '127.0.0.1', 5432)).toMatch(/loopback/);
    expect(config.whatsapp).toMatchObject({ appSecrets: ['generated-sandbox-app-secret'], accessToken: 'generated-sandbox-access-token', phoneNumberId: SANDBOX_PHONE_NUMBER_ID });
    expect(notes.join('\n')).toContain('/data/sandbox-app-secret');
    expect(notes.join('\n')).not.toContain('generated-sandbox');
  });

  it('keeps configured credentials and a configured WHATSAPP_API_URL (then no egress entry)', async () => {
    const config = loadConfig({ PORT: '3999', WHATSAPP_API_URL: 'https://graph.example.com', WHATSAPP_APP_SECRET: 'mine', WHATSAPP_ACCESS_TOKEN: 'tok', WHATSAPP_PHONE_NUMBER_ID: '123' });
    await prepareSandbox(config, secrets);
    expect(config.sandbox).toMatchObject({ enabled: true, fakeCloudApi: false, selfUrl: 'http://127.0.0.1:3999' });
    expect(config.whatsapp).toMatchObject({ apiUrl: 'https://graph.example.com', appSecrets: ['mine'], accessToken: 'tok', phoneNumberId: '123' });
    expect(config.egressAllow).toBe('');
  });

  it('changes nothing when the sandbox is off', async () => {
    const config = loadConfig({ DATABASE_URL: PG, PORT: '3999' });
    await expect(prepareSandbox(config, secrets)).resolves.toEqual([]);
    expect(config.whatsapp).toMatchObject({ apiUrl: 'https://graph.facebook.com', appSecrets: [] });
    expect(config.egressAllow).toBe('');
  });
});
