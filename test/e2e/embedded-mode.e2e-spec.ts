import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeService } from '../../src/bootstrap';
import { anImageMessageWebhook, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { eventually, startTestService, tempDir, TEST_APP_SECRET, type TestService } from '../setup/test-service';

/** `npm start` with only Node: PGlite under DATA_DIR, and the outbox table as the queue. */
describe('embedded mode', () => {
  const dataDir = tempDir('threadbridge-embedded-');
  let meta: MetaGraphFake;
  let service: TestService | undefined;

  const embeddedEnv = () => ({ DATA_DIR: dataDir, DATABASE_URL: undefined, REDIS_URL: undefined, ADMIN_API_KEY: undefined, WHATSAPP_API_URL: meta.url });

  beforeAll(async () => {
    meta = await startMetaGraphFake({ accessToken: 'test-token' });
  });

  afterAll(async () => {
    await service?.stop();
    await meta?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('boots from an empty DATA_DIR, stores messages and fetches media through the outbox poller', async () => {
    service = await startTestService(embeddedEnv());
    expect(service.embedded?.created).toBe(true);
    const banner = describeService(service);
    expect(banner).toMatch(/mode:\s+embedded/);
    expect(banner).toMatch(/ADMIN_API_KEY not set: generated one into/);
    expect(fs.existsSync(path.join(dataDir, 'admin-api-key'))).toBe(true);

    const text = nextWamid();
    expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ wamid: text, text: 'hello from the embedded mode' }), TEST_APP_SECRET)).status).toBe(200);

    const bytes = randomBytes(4096);
    const { id: mediaId, sha256Base64 } = meta.addMedia(bytes, 'image/jpeg');
    const image = nextWamid();
    await postMetaWebhook(`${service.url}/webhooks/whatsapp`, anImageMessageWebhook({ wamid: image, mediaId, sha256: sha256Base64 }), TEST_APP_SECRET);
    await eventually(async () => {
      const [row] = await service!.db.query(`SELECT media_status FROM messages WHERE wamid = $1`, [image]);
      return row?.media_status === 'stored';
    }, 'media stored by the embedded poller');

    const ready = await (await fetch(`${service.url}/health/ready`)).json();
    expect(ready).toMatchObject({ database: 'ok', queue: { driver: 'outbox', status: 'ok' } });
    await service.stop();
    service = undefined;
  });

  it('reopens an existing DATA_DIR with its data and its generated admin key', async () => {
    const key = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
    service = await startTestService(embeddedEnv());
    expect(service.embedded?.created).toBe(false);
    const [{ count }] = await service.db.query(`SELECT count(*)::int AS count FROM messages`);
    expect(count).toBe(2);

    const res = await fetch(`${service.url}/api/v1/contacts`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);

    const later = nextWamid();
    expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ wamid: later }), TEST_APP_SECRET)).status).toBe(200);
    const [{ total }] = await service.db.query(`SELECT count(*)::int AS total FROM messages`);
    expect(total).toBe(3);
  });
});
