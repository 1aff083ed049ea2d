/**
 * The fake HubSpot of bench:ingest's "while syncing" phase, in a process of its own: its 50 ms
 * answers and the objects it keeps must not share an event loop with the load generator or the
 * service. Env: HUBSPOT_TOKEN, HUBSPOT_LATENCY_MS, HUBSPOT_LIMIT_MAX, HUBSPOT_LIMIT_INTERVAL_MS.
 * IPC: sends { url } when listening; answers 'stats' with { stats: HubspotFakeStats }.
 */
import { startHubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';

export interface HubspotFakeStats {
  communications: number;
  requests: number;
  rateLimited: number;
}

async function main(): Promise<void> {
  const fake = await startHubspotFake({
    accessTokens: [process.env.HUBSPOT_TOKEN ?? 'bench-token'],
    latencyMs: Number(process.env.HUBSPOT_LATENCY_MS ?? 50),
    rateLimit: { max: Number(process.env.HUBSPOT_LIMIT_MAX ?? 190), intervalMs: Number(process.env.HUBSPOT_LIMIT_INTERVAL_MS ?? 10_000) },
  });
  process.on('message', (msg) => {
    if (msg !== 'stats') return;
    const requests = fake.requests();
    const stats: HubspotFakeStats = {
      communications: fake.communications().length,
      requests: requests.length,
      rateLimited: requests.filter((r) => r.status === 429).length,
    };
    process.send?.({ stats });
  });
  const stop = () => void fake.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.send?.({ url: fake.url });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
