import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { anImageMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_APP_SECRET, type TestService } from '../setup/test-service';

/**
 * The Meta access token goes only to the Graph API host and Meta's media hosts: a media lookup
 * that answers with a URL elsewhere is not followed, token or not.
 */
describe('the WhatsApp access token and media URLs', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let foreign: http.Server;
  const foreignRequests: http.IncomingHttpHeaders[] = [];
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    foreign = http.createServer((req, res) => {
      foreignRequests.push(req.headers);
      res.end('not media');
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    meta = await startMetaGraphFake({ accessToken: 'test-token', mediaBaseUrl: foreignUrl });
    // The foreign host is reachable (the egress policy allows it): only the token rule stops the download.
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, WHATSAPP_API_URL: meta.url, EGRESS_ALLOW: allowFakes(meta, foreignUrl) });
  });

  afterAll(async () => {
    await service?.stop();
    await meta?.close();
    await new Promise((resolve) => foreign?.close(resolve));
    await redis?.close();
    await database?.drop();
  });

  it('refuses a media URL on a host that is not Meta, sending it nothing, and records why', async () => {
    const { id: mediaId, sha256Base64 } = meta.addMedia(Buffer.from('a picture'), 'image/jpeg');
    const wamid = nextWamid();
    await postMetaWebhook(`${service.url}/webhooks/whatsapp`, anImageMessageWebhook({ wamid, mediaId, sha256: sha256Base64 }), TEST_APP_SECRET);
    const row = await eventually(async () => {
      const [r] = await service.db.query(`SELECT media_status, media->>'failureReason' AS reason FROM messages WHERE wamid = $1`, [wamid]);
      return r?.media_status === 'failed' ? r : undefined;
    }, 'the media marked failed');
    expect(row.reason).toMatch(/media URL's host 127\.0\.0\.1:\d+ is not the Graph API's or one of WHATSAPP_MEDIA_HOSTS/);
    // The lookup itself went to the Graph host, with the token; the foreign host heard nothing.
    expect(meta.requests.some((r) => r.path.endsWith(`/${mediaId}`))).toBe(true);
    expect(foreignRequests).toEqual([]);
  });
});
