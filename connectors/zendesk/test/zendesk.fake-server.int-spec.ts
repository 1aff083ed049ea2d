/**
 * The fake Zendesk's own behaviour, over plain HTTP: the e2e tests, the demo and bench:replies
 * rely on it answering like Zendesk.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signZendeskWebhook } from '../zendesk.webhooks';
import { startZendeskFake, type ZendeskFake } from './zendesk.fake-server';

let fake: ZendeskFake;

beforeEach(async () => {
  fake = await startZendeskFake({ requestsPerMinute: 0 });
});
afterEach(async () => {
  await fake.close();
});

async function api(method: string, path: string, body?: unknown, auth = `${fake.email}/token:${fake.apiToken}`) {
  const response = await fetch(`${fake.apiUrl}${path}`, {
    method,
    headers: { Authorization: `Basic ${Buffer.from(auth).toString('base64')}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

describe('fake Zendesk', () => {
  it('refuses wrong credentials like Zendesk, and names the API user to the right ones', async () => {
    const res = await api('GET', '/users/me.json', undefined, `${fake.email}/token:nope`);
    expect(res).toMatchObject({ status: 401, json: { error: "Couldn't authenticate you" } });
    await expect(api('GET', '/users/me.json')).resolves.toMatchObject({ status: 200, json: { user: { id: fake.apiUser.id, role: 'admin' } } });
  });

  it('answers 404 and 422 with Zendesk’s bodies', async () => {
    await expect(api('GET', '/tickets/999.json')).resolves.toMatchObject({ status: 404, json: { error: 'RecordNotFound', description: 'Not found' } });
    const res = await api('POST', '/tickets.json', { ticket: { subject: 'no comment', requester_id: fake.apiUser.id } });
    expect(res).toMatchObject({ status: 422, json: { error: 'RecordInvalid', description: 'Record validation errors', details: { description: [expect.any(Object)] } } });
  });

  it('create_or_update answers 201 then 200 for the same external_id', async () => {
    const user = { name: 'Anna', external_id: 'whatsapp:1', identities: [{ type: 'phone_number', value: '+48601234567' }] };
    const first = await api('POST', '/users/create_or_update.json', { user });
    const second = await api('POST', '/users/create_or_update.json', { user: { ...user, name: 'Anna N.' } });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.json?.user).toMatchObject({ id: first.json?.user.id, name: 'Anna N.' });
    expect(fake.endUsers()).toHaveLength(1);
  });

  it('hides new users from query searches during the search lag, not from external_id lookups', async () => {
    await fake.close();
    fake = await startZendeskFake({ searchLagMs: 60_000 });
    fake.seedUser({ phone: '+48601234567', external_id: 'whatsapp:48601234567' });
    await expect(api('GET', `/users/search.json?query=${encodeURIComponent('phone:+48601234567')}`)).resolves.toMatchObject({ json: { count: 0 } });
    await expect(api('GET', '/users/search.json?external_id=whatsapp%3A48601234567')).resolves.toMatchObject({ json: { count: 1 } });
  });

  it('searches phones as Zendesk documents: phone:*<digits> in any punctuation, all terms must hold', async () => {
    const search = async (query: string) => (await api('GET', `/users/search.json?query=${encodeURIComponent(query)}`)).json;
    const typed = ['+1 513.555.7611', '(513) 555-7611', '513 555 7611', '513-555-7611', '513.555.7611'].map((phone) => fake.seedUser({ phone }).id);
    const agent = fake.seedUser({ phone: '+15135557611', role: 'agent' });
    const identity = fake.seedUser({ identities: [{ type: 'phone_number', value: '+1 (513) 555-7611' }] });
    fake.seedUser({ phone: '+1 513 555 7612' });

    const all = await search('phone:*5135557611');
    expect(all?.users.map((u: { id: number }) => u.id).sort((a: number, b: number) => a - b)).toEqual([...typed, agent.id, identity.id]);
    const endUsers = await search('role:end-user phone:*5135557611');
    expect(endUsers?.users.map((u: { id: number }) => u.id)).toEqual([...typed, identity.id]);
    // Without the asterisk every digit has to match; with a '+' or punctuation nothing is documented, and nothing found.
    expect((await search('phone:15135557611'))?.users.map((u: { id: number }) => u.id)).toEqual([typed[0], agent.id, identity.id]);
    await expect(search('phone:+15135557611')).resolves.toMatchObject({ count: 0 });
    await expect(search('phone:"(513) 555-7611"')).resolves.toMatchObject({ count: 0 });
    // Whether a keyword given twice ORs or ANDs is not documented: the fake refuses to guess.
    await expect(api('GET', `/users/search.json?query=${encodeURIComponent('phone:*5135557611 phone:*5135557612')}`)).resolves.toMatchObject({ status: 400 });
  });

  it('lags documented phone searches too, until the lag is over', async () => {
    let now = Date.now();
    await fake.close();
    fake = await startZendeskFake({ searchLagMs: 60_000, now: () => new Date(now) });
    fake.seedUser({ phone: '601 234 567' });
    const search = () => api('GET', `/users/search.json?query=${encodeURIComponent('role:end-user phone:*601234567')}`);
    await expect(search()).resolves.toMatchObject({ json: { count: 0 } });
    now += 60_000;
    await expect(search()).resolves.toMatchObject({ json: { count: 1 } });
  });

  it('resetAfterNextCreate carries a comment out, then resets the connection without an answer', async () => {
    const user = fake.seedUser();
    const created = await api('POST', '/tickets.json', { ticket: { subject: 's', requester_id: user.id, comment: { body: 'first', public: false } } });
    const id = created.json?.ticket.id as number;
    fake.resetAfterNextCreate();
    await expect(api('PUT', `/tickets/${id}.json`, { ticket: { status: 'open' } })).resolves.toMatchObject({ status: 200 }); // no comment: answered
    await expect(api('PUT', `/tickets/${id}.json`, { ticket: { comment: { body: 'lost answer', public: true, author_id: user.id } } })).rejects.toThrow();
    expect(fake.comments(id).map((c) => c.body)).toEqual(['first', 'lost answer']);
    expect(fake.recordsContaining('lost answer')).toBe(1);
    await expect(api('PUT', `/tickets/${id}.json`, { ticket: { comment: { body: 'heard', public: false } } })).resolves.toMatchObject({ status: 200 });
  });

  it('lags query searches by what setSearchLag says from then on', async () => {
    fake.setSearchLag(60_000);
    fake.seedUser({ phone: '+48601234599' });
    await expect(api('GET', `/users/search.json?query=${encodeURIComponent('phone:+48601234599')}`)).resolves.toMatchObject({ json: { count: 0 } });
  });

  it('limits the account per minute with Retry-After and X-Rate-Limit headers', async () => {
    fake.setRateLimit(2);
    await api('GET', '/users/me.json');
    const second = await api('GET', '/users/me.json');
    const third = await api('GET', '/users/me.json');
    expect(second.headers.get('x-rate-limit')).toBe('2');
    expect(second.headers.get('x-rate-limit-remaining')).toBe('0');
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('limits updates per ticket, refuses closed tickets, and stores update metadata on the audit', async () => {
    fake.setTicketUpdateLimit(1);
    const user = fake.seedUser();
    const created = await api('POST', '/tickets.json', { ticket: { subject: 's', requester_id: user.id, comment: { body: 'first', public: false } } });
    const id = created.json?.ticket.id as number;
    const update = await api('PUT', `/tickets/${id}.json`, { ticket: { comment: { body: 'second', public: true, author_id: user.id }, metadata: { threadbridge: { m: ['a'] } } } });
    expect(update.json?.audit).toMatchObject({ metadata: { custom: { threadbridge: { m: ['a'] } } }, events: [expect.objectContaining({ type: 'Comment', public: true, author_id: user.id })] });
    await expect(api('PUT', `/tickets/${id}.json`, { ticket: { status: 'solved' } })).resolves.toMatchObject({ status: 429 });
    fake.setTicketUpdateLimit(0);
    fake.setTicketStatus(id, 'closed');
    await expect(api('PUT', `/tickets/${id}.json`, { ticket: { status: 'open' } })).resolves.toMatchObject({ status: 422 });
  });

  it('accepts an upload token once', async () => {
    const user = fake.seedUser();
    const upload = await fetch(`${fake.apiUrl}/uploads.json?filename=a.txt`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${fake.apiToken}`, 'Content-Type': 'text/plain' },
      body: 'hello',
    });
    expect(upload.status).toBe(201);
    const { upload: u } = (await upload.json()) as { upload: { token: string; attachments: { content_url: string }[] } };
    const ticket = { subject: 's', requester_id: user.id, comment: { body: 'file', uploads: [u.token] } };
    await expect(api('POST', '/tickets.json', { ticket })).resolves.toMatchObject({ status: 201 });
    await expect(api('POST', '/tickets.json', { ticket })).resolves.toMatchObject({ status: 422 });
    // Attachments need the API token, like an account that requires authentication for them.
    await expect(fetch(u.attachments[0].content_url).then((r) => r.status)).resolves.toBe(401);
    await expect(fetch(u.attachments[0].content_url, { headers: { Authorization: `Bearer ${fake.apiToken}` } }).then((r) => r.text())).resolves.toBe('hello');
  });

  it('retries a webhook delivery that got a 503, re-signing each attempt', async () => {
    const answers = [503, 200];
    const seen: { signature: string; timestamp: string; body: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ signature: String(req.headers['x-zendesk-webhook-signature']), timestamp: String(req.headers['x-zendesk-webhook-signature-timestamp']), body });
        res.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      await fake.close();
      fake = await startZendeskFake({ webhookRetryDelayMs: 10 });
      fake.configureWebhook({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, secret: 'k', mode: 'event' });
      const user = fake.seedUser();
      const created = await api('POST', '/tickets.json', { ticket: { subject: 's', requester_id: user.id, tags: ['whatsapp'], comment: { body: 'x', public: false } } });
      const { deliveries } = await fake.agentComment(created.json?.ticket.id, { body: 'hello' });
      expect(deliveries).toEqual([expect.objectContaining({ attempts: 2, status: 200 })]);
      expect(seen).toHaveLength(2);
      for (const s of seen) expect(s.signature).toBe(signZendeskWebhook('k', s.timestamp, s.body));
      expect(fake.webhookDeliveries).toHaveLength(1);
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
