import * as net from 'node:net';
import type { AppConfig } from '../../config/configuration';

/** Where the built-in fake Cloud API is served (src/console/sandbox-graph.controller.ts). */
export const SANDBOX_GRAPH_PATH = '/console/sandbox/graph';

/** The business number the sandbox plays when WHATSAPP_PHONE_NUMBER_ID is not set (a made-up id, never Meta's). */
export const SANDBOX_PHONE_NUMBER_ID = '100000000000001';
export const SANDBOX_DISPLAY_NUMBER = '15550100000';
export const SANDBOX_WABA_ID = '100000000000002';

/** A free TCP port on `host`, for PORT=0: the fake's URL must be known before the service is built. */
async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** How this process reaches itself: loopback when it listens on every interface. */
function selfHost(bound: string): string {
  if (bound === '0.0.0.0' || bound === '::' || bound === '') return '127.0.0.1';
  return net.isIPv6(bound) ? `[${bound}]` : bound;
}

/**
 * Readies the configuration for the sandbox phone, before the service is built (the Cloud API
 * client reads its base URL once). With the built-in fake: the Cloud API URL points at this
 * process, and EGRESS_ALLOW gains exactly this process's host:port (the egress policy refuses
 * loopback otherwise, as it should). WhatsApp credentials that are not configured get sandbox
 * values: a generated app secret and access token (kept in DATA_DIR, so every process of a
 * deployment shares them) and a made-up phone number id. `secret(file)` reads or creates one.
 * Returns notes for the start-up banner; never a secret's value.
 */
export async function prepareSandbox(config: AppConfig, secret: (file: string) => { created: boolean; path: string; value: string }): Promise<string[]> {
  if (!config.sandbox.enabled) return [];
  const notes: string[] = [];
  if (config.port === 0) config.port = await freePort(config.host);
  const self = `${selfHost(config.host)}:${config.port}`;
  config.sandbox.selfUrl = `http://${self}`;
  if (config.sandbox.fakeCloudApi) {
    config.whatsapp.apiUrl = `${config.sandbox.selfUrl}${SANDBOX_GRAPH_PATH}`;
    config.egressAllow = [config.egressAllow, self].filter((entry) => entry.trim()).join(',');
  }
  if (config.whatsapp.appSecrets.length === 0) {
    const generated = secret('sandbox-app-secret');
    config.whatsapp.appSecrets = [generated.value];
    notes.push(`WHATSAPP_APP_SECRET not set: the sandbox signs its webhooks with a secret ${generated.created ? 'generated into' : 'kept in'} ${generated.path}`);
  }
  if (!config.whatsapp.accessToken && config.sandbox.fakeCloudApi) {
    const generated = secret('sandbox-access-token');
    config.whatsapp.accessToken = generated.value;
    notes.push(`WHATSAPP_ACCESS_TOKEN not set: the built-in fake Cloud API accepts a token ${generated.created ? 'generated into' : 'kept in'} ${generated.path}`);
  }
  if (!config.whatsapp.phoneNumberId) {
    config.whatsapp.phoneNumberId = SANDBOX_PHONE_NUMBER_ID;
    notes.push(`WHATSAPP_PHONE_NUMBER_ID not set: the sandbox plays the business number ${SANDBOX_PHONE_NUMBER_ID}`);
  }
  notes.push(
    config.sandbox.fakeCloudApi
      ? `sandbox phone on at ${config.sandbox.selfUrl}/console/sandbox, with the built-in fake Cloud API (SANDBOX=false turns it off)`
      : `sandbox phone on at ${config.sandbox.selfUrl}/console/sandbox; sends go to WHATSAPP_API_URL, so the sandbox shows no replies`,
  );
  return notes;
}
