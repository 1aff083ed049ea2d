import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { postMetaWebhook, signMetaWebhook, verifyHandshake } from './meta-webhook';

const APP_SECRET = 'app-secret-for-tests';
const VERIFY_TOKEN = 'verify-me';

/**
 * A minimal receiver standing in for our webhook endpoint: it checks the signature over the raw
 * bytes it received, the way the real controller must, and can be told to fail a number of times.
 */
interface Received {
  raw: Buffer;
  signature: string | undefined;
}
let server: Server;
let url: string;
let received: Received[] = [];
let failuresLeft = 0;

function signatureIsValid(raw: Buffer, header: string | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', APP_SECRET).update(raw).digest('hex')}`);
  const actual = Buffer.from(header ?? '');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET') {
      const ok = parsed.searchParams.get('hub.mode') === 'subscribe' && parsed.searchParams.get('hub.verify_token') === VERIFY_TOKEN;
      res.writeHead(ok ? 200 : 403, { 'content-type': 'text/plain' }).end(ok ? parsed.searchParams.get('hub.challenge') : 'forbidden');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const signature = req.headers['x-hub-signature-256'] as string | undefined;
    received.push({ raw, signature });
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      res.writeHead(503).end();
      return;
    }
    const valid = signatureIsValid(raw, signature);
    res.writeHead(valid ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ valid }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received = [];
  failuresLeft = 0;
});

describe('signMetaWebhook', () => {
  it('matches the published HMAC-SHA256 test vector', () => {
    // The widely published example HMAC_SHA256("key", "The quick brown fox jumps over the lazy dog").
    expect(signMetaWebhook('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('agrees with node:crypto for a string and the same bytes as a Buffer, in lowercase hex', () => {
    const body = '{"object":"whatsapp_business_account","entry":[{"emoji":"👍"}]}';
    const independent = createHmac('sha256', APP_SECRET).update(Buffer.from(body, 'utf8')).digest('hex');
    expect(signMetaWebhook(body, APP_SECRET)).toBe(`sha256=${independent}`);
    expect(signMetaWebhook(Buffer.from(body, 'utf8'), APP_SECRET)).toBe(`sha256=${independent}`);
    expect(independent).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('postMetaWebhook', () => {
  it('signs exactly the bytes it sends, emoji included', async () => {
    const payload = { object: 'whatsapp_business_account', entry: [{ reaction: { emoji: '👍🏽' }, text: 'olá — “quoted”' }] };
    const result = await postMetaWebhook(url, payload, APP_SECRET);

    expect(result).toMatchObject({ status: 200, body: { valid: true }, attempts: 1 });
    expect(received).toHaveLength(1);
    expect(received[0].raw.equals(Buffer.from(JSON.stringify(payload), 'utf8'))).toBe(true);
    expect(received[0].raw.equals(result.rawBody)).toBe(true);
  });

  it('sends a pre-serialised string byte for byte (e.g. with unicode escapes Meta uses)', async () => {
    const raw = '{"entry":[{"emoji":"\\ud83d\\udc4d"}]}';
    const result = await postMetaWebhook(url, raw, APP_SECRET);
    expect(result.status).toBe(200);
    expect(received[0].raw.toString('utf8')).toBe(raw);
  });

  it('lets a test send a wrong or missing signature, which the receiver rejects', async () => {
    const wrongSecret = await postMetaWebhook(url, { a: 1 }, 'another-secret');
    const forged = await postMetaWebhook(url, { a: 1 }, APP_SECRET, { signature: 'sha256=deadbeef' });
    const unsigned = await postMetaWebhook(url, { a: 1 }, APP_SECRET, { omitSignature: true });

    expect([wrongSecret.status, forged.status, unsigned.status]).toEqual([401, 401, 401]);
    expect(received[2].signature).toBeUndefined();
  });

  it('re-delivers after non-200 answers when retries are allowed', async () => {
    failuresLeft = 2;
    const result = await postMetaWebhook(url, { a: 1 }, APP_SECRET, { retries: 3, backoffMs: 5 });
    expect(result).toMatchObject({ status: 200, attempts: 3 });
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.raw.toString()))).toEqual(new Set(['{"a":1}']));
  });

  it('returns the last failure when retries run out', async () => {
    failuresLeft = 5;
    const result = await postMetaWebhook(url, { a: 1 }, APP_SECRET, { retries: 1, backoffMs: 5 });
    expect(result).toMatchObject({ status: 503, attempts: 2 });
  });
});

describe('verifyHandshake', () => {
  it('is true when the endpoint echoes the challenge for the right token', async () => {
    await expect(verifyHandshake(url, VERIFY_TOKEN)).resolves.toBe(true);
  });

  it('is false for a wrong token or a mode other than subscribe', async () => {
    await expect(verifyHandshake(url, 'wrong-token')).resolves.toBe(false);
    await expect(verifyHandshake(url, VERIFY_TOKEN, { mode: 'unsubscribe' })).resolves.toBe(false);
  });
});
