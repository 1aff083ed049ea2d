import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { EGRESS_REFUSED, EgressPolicy, hostMatches } from './egress';

/** A server on 127.0.0.1 that counts the connections it accepts (none may arrive when refused). */
async function countingServer(handler: http.RequestListener = (_req, res) => res.end('ok')): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const server = http.createServer(handler);
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The egress refusal somewhere in an error's cause chain. */
function refusalIn(error: unknown): { code?: string; message: string } | undefined {
  for (let e = error as { code?: string; cause?: unknown; message: string } | undefined; e; e = e.cause as typeof e) {
    if (e.code === EGRESS_REFUSED) return e;
  }
  return undefined;
}

describe('EgressPolicy.refusal (the address check)', () => {
  const policy = new EgressPolicy('');

  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(policy.refusal(address, address, 443)).toContain(kind);
  });

  it.each(['8.8.8.8', '104.16.0.1', '2606:4700::1111'])('allows the public address %s', (address) => {
    expect(policy.refusal(address, address, 443)).toBeUndefined();
  });

  it('allows exactly what EGRESS_ALLOW names: host:port entries (by name or address) and CIDRs', () => {
    const allowing = new EgressPolicy('127.0.0.1:5999, localhost:6000, [::1]:7000, 10.1.0.0/16');
    expect(allowing.refusal('127.0.0.1', '127.0.0.1', 5999)).toBeUndefined();
    expect(allowing.refusal('127.0.0.1', '127.0.0.1', 5998)).toContain('loopback');
    expect(allowing.refusal('localhost', '127.0.0.1', 6000)).toBeUndefined();
    expect(allowing.refusal('::1', '::1', 7000)).toBeUndefined();
    // The mapped spelling of an allowed address is the same address.
    expect(allowing.refusal('::ffff:127.0.0.1', '::ffff:127.0.0.1', 5999)).toBeUndefined();
    expect(allowing.refusal('10.1.2.3', '10.1.2.3', 443)).toBeUndefined();
    expect(allowing.refusal('10.2.0.1', '10.2.0.1', 443)).toContain('private');
  });

  it('refuses to start with an entry that is neither host:port nor a CIDR', () => {
    expect(() => new EgressPolicy('127.0.0.1')).toThrow(/EGRESS_ALLOW: '127.0.0.1' is neither host:port nor a CIDR/);
    expect(() => new EgressPolicy('10.0.0.0/99')).toThrow(/not a CIDR/);
  });
});

describe('EgressPolicy.checkUrl (a URL before it is stored)', () => {
  const policy = new EgressPolicy('');

  it.each([
    ['http://127.0.0.1:5999', 'loopback'],
    ['https://10.0.0.1/api', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['http://[::ffff:127.0.0.1]:8080', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://localhost:5999', 'localhost resolves to'],
    ['ftp://example.com/', 'not http(s)'],
  ])('refuses %s', async (url, reason) => {
    expect(await policy.checkUrl(url)).toContain(reason);
  });

  it('allows a loopback URL that EGRESS_ALLOW names', async () => {
    expect(await new EgressPolicy('127.0.0.1:5999').checkUrl('http://127.0.0.1:5999/api/v2')).toBeUndefined();
  });
});

describe('EgressPolicy at connect time (no packet reaches a refused address)', () => {
  let target: Awaited<ReturnType<typeof countingServer>>;
  beforeEach(async () => {
    target = await countingServer();
  });
  afterEach(async () => {
    await target.close();
  });

  it('fetch refuses an address literal and a name that resolves to one, before connecting', async () => {
    const policy = new EgressPolicy('');
    try {
      for (const url of [`http://127.0.0.1:${target.port}/`, `http://localhost:${target.port}/`, `http://[::ffff:127.0.0.1]:${target.port}/`]) {
        const error = await policy.fetch(url).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(refusalIn(error)?.message).toMatch(/refused: .*loopback/);
      }
      expect(target.connections()).toBe(0);
    } finally {
      await policy.close();
    }
  });

  it('fetch reaches an allowed fake, and a redirect from it to a refused address is refused', async () => {
    const redirecting = await countingServer((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${target.port}/internal` });
      res.end();
    });
    const policy = new EgressPolicy(`127.0.0.1:${redirecting.port}`);
    try {
      const direct = await policy.fetch(`http://127.0.0.1:${redirecting.port}/`, { redirect: 'manual' });
      expect(direct.status).toBe(302);
      const error = await policy.fetch(`http://127.0.0.1:${redirecting.port}/`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refusalIn(error)?.message).toContain(`127.0.0.1 refused`);
      expect(target.connections()).toBe(0);
    } finally {
      await policy.close();
      await redirecting.close();
    }
  });

  it('the agent (axios, SDKs) refuses literals, names and redirects the same way', async () => {
    const redirecting = await countingServer((_req, res) => {
      res.writeHead(302, { location: `http://localhost:${target.port}/internal` });
      res.end();
    });
    const policy = new EgressPolicy(`127.0.0.1:${redirecting.port}`);
    const client = axios.create({ httpAgent: policy.agent('http:', { keepAlive: true }), proxy: false });
    try {
      for (const url of [`http://127.0.0.1:${target.port}/`, `http://localhost:${target.port}/`]) {
        const error = await client.get(url).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect((error as { code?: string }).code).toBe(EGRESS_REFUSED);
      }
      expect((await client.get(`http://127.0.0.1:${redirecting.port}/`, { maxRedirects: 0, validateStatus: () => true })).status).toBe(302);
      const followed = await client.get(`http://127.0.0.1:${redirecting.port}/`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((followed as { code?: string }).code).toBe(EGRESS_REFUSED);
      expect(target.connections()).toBe(0);
    } finally {
      await policy.close();
      await redirecting.close();
    }
  });
});

describe('hostMatches', () => {
  it('matches exact names and *. subdomains only', () => {
    expect(hostMatches('lookaside.fbsbx.com', ['*.fbsbx.com'])).toBe(true);
    expect(hostMatches('fbsbx.com.evil.example', ['*.fbsbx.com'])).toBe(false);
    expect(hostMatches('evilfbsbx.com', ['*.fbsbx.com'])).toBe(false);
    expect(hostMatches('graph.facebook.com', ['graph.facebook.com'])).toBe(true);
  });
});
