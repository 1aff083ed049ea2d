import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHubspotFake, type HubspotFake } from './hubspot.fake-server';

/** The fake's own behaviour, over plain HTTP: later tests, the demo and the bench rely on it. */
describe('fake HubSpot server', () => {
  let fake: HubspotFake;
  const call = async (method: string, path: string, body?: unknown, token = 'tok'): Promise<{ status: number; body: any; headers: Headers }> => {
    const res = await fetch(`${fake.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  const contact = async (properties: Record<string, string>): Promise<string> => (await call('POST', '/crm/v3/objects/contacts', { properties })).body.id;

  beforeEach(async () => {
    fake = await startHubspotFake({ accessTokens: ['tok'] });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('answers 401 INVALID_AUTHENTICATION without a valid Bearer token', async () => {
    for (const token of ['', 'wrong']) {
      const res = await call('GET', '/crm/v3/objects/contacts?limit=1', undefined, token);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
      expect(res.body.correlationId).toEqual(expect.any(String));
    }
  });

  it('searches: groups OR, filters AND, IN / EQ / HAS_PROPERTY / CONTAINS_TOKEN, paging', async () => {
    const a = await contact({ firstname: 'Anna', phone: '+48 601 234 567', email: 'anna@example.com' });
    const b = await contact({ firstname: 'Bob', mobilephone: '0048601234567' });
    const c = await contact({ firstname: 'Cid', lastname: 'Smith Jones' });
    const search = (body: object) => call('POST', '/crm/v3/objects/contacts/search', body);

    const or = await search({ filterGroups: [{ filters: [{ propertyName: 'phone', operator: 'IN', values: ['+48 601 234 567'] }] }, { filters: [{ propertyName: 'mobilephone', operator: 'EQ', value: '0048601234567' }] }] });
    expect(or.body.results.map((r: { id: string }) => r.id)).toEqual([a, b]);
    const and = await search({ filterGroups: [{ filters: [{ propertyName: 'firstname', operator: 'EQ', value: 'anna' }, { propertyName: 'email', operator: 'HAS_PROPERTY' }] }] });
    expect(and.body).toMatchObject({ total: 1, results: [{ id: a }] });
    const token = await search({ filterGroups: [{ filters: [{ propertyName: 'lastname', operator: 'CONTAINS_TOKEN', value: 'jones' }] }] });
    expect(token.body.results.map((r: { id: string }) => r.id)).toEqual([c]);
    // A leading zero is text: 0048… is not 48….
    const digits = await search({ filterGroups: [{ filters: [{ propertyName: 'mobilephone', operator: 'EQ', value: '48601234567' }] }] });
    expect(digits.body.total).toBe(0);

    const first = await search({ limit: 2 });
    expect(first.body).toMatchObject({ total: 3, paging: { next: { after: '2' } } });
    const second = await search({ limit: 2, after: first.body.paging.next.after });
    expect(second.body.results.map((r: { id: string }) => r.id)).toEqual([c]);
    expect(second.body.paging).toBeUndefined();
  });

  it('rejects searches over HubSpot\'s limits', async () => {
    const search = (body: object) => call('POST', '/crm/v3/objects/contacts/search', body);
    const filter = { propertyName: 'phone', operator: 'HAS_PROPERTY' };
    const group = { filters: [filter] };
    await expect(search({ limit: 201 })).resolves.toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR' } });
    await expect(search({ filterGroups: Array(6).fill(group) })).resolves.toMatchObject({ status: 400 });
    await expect(search({ filterGroups: Array(5).fill(group) })).resolves.toMatchObject({ status: 200 });
    await expect(search({ filterGroups: [{ filters: Array(11).fill(filter) }] })).resolves.toMatchObject({ status: 400 });
    await expect(search({ filterGroups: Array(3).fill({ filters: Array(9).fill(filter) }) })).resolves.toMatchObject({ status: 400 }); // 27 filters
    const values = (n: number) => Array.from({ length: n }, (_, i) => `+4860100${String(i).padStart(4, '0')}`);
    await expect(search({ filterGroups: [{ filters: [{ propertyName: 'phone', operator: 'IN', values: values(101) }] }] })).resolves.toMatchObject({ status: 400 });
    await expect(search({ filterGroups: [{ filters: [{ propertyName: 'phone', operator: 'IN', values: values(100) }] }] })).resolves.toMatchObject({ status: 200 });
    await expect(search({ limit: 200, after: '9900' })).resolves.toMatchObject({ status: 400 });
  });

  it('finds many numbers with IN filters OR\'ed across properties, paging through the hits', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await contact({ [i % 2 ? 'mobilephone' : 'phone']: `+4860100000${i}` }));
    const body = {
      filterGroups: ['phone', 'mobilephone'].map((propertyName) => ({ filters: [{ propertyName, operator: 'IN', values: ['+48601000000', '+48601000001', '+48601000003', '+48601000004'] }] })),
      limit: 2,
    };
    const first = await call('POST', '/crm/v3/objects/contacts/search', body);
    expect(first.body).toMatchObject({ total: 4, paging: { next: { after: '2' } } });
    const second = await call('POST', '/crm/v3/objects/contacts/search', { ...body, after: '2' });
    expect([...first.body.results, ...second.body.results].map((r: { id: string }) => r.id)).toEqual([ids[0], ids[1], ids[3], ids[4]]);
  });

  it('batch read answers 207 listing ids it does not hold; batch update moves tickets; ids must be unique', async () => {
    const a = await contact({ firstname: 'Anna' });
    const read = await call('POST', '/crm/v3/objects/contacts/batch/read', { inputs: [{ id: a }, { id: '42' }], properties: ['firstname'], propertiesWithHistory: [] });
    expect(read).toMatchObject({ status: 207, body: { results: [{ id: a, properties: { firstname: 'Anna' } }], errors: [{ category: 'OBJECT_NOT_FOUND', context: { ids: ['42'] } }] } });
    const dup = await call('POST', '/crm/v3/objects/contacts/batch/read', { inputs: [{ id: a }, { id: a }], properties: [] });
    expect(dup).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR' } });

    const t = (await call('POST', '/crm/v3/objects/tickets', { properties: { subject: 's', hs_pipeline_stage: '4' } })).body.id;
    expect(fake.object('tickets', t)?.properties.closed_date).toBeTruthy();
    const update = await call('POST', '/crm/v3/objects/tickets/batch/update', { inputs: [{ id: t, properties: { hs_pipeline_stage: '1' } }] });
    expect(update).toMatchObject({ status: 200, body: { results: [{ id: t }] } });
    expect(fake.object('tickets', t)?.properties).toMatchObject({ hs_pipeline_stage: '1', closed_date: '' });
    await expect(call('POST', '/crm/v3/objects/tickets/batch/update', { inputs: [{ id: t, properties: {} }, { id: t, properties: {} }] })).resolves.toMatchObject({ status: 400 });
  });

  it('hides new objects from search during the index lag, not from GET', async () => {
    fake.setOptions({ searchLagMs: 150 });
    const id = await contact({ phone: '+48601234567' });
    const byPhone = { filterGroups: [{ filters: [{ propertyName: 'phone', operator: 'EQ', value: '+48601234567' }] }] };
    expect((await call('POST', '/crm/v3/objects/contacts/search', byPhone)).body.total).toBe(0);
    expect((await call('GET', `/crm/v3/objects/contacts/${id}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect((await call('POST', '/crm/v3/objects/contacts/search', byPhone)).body.total).toBe(1);
  });

  describe('unique-value properties', () => {
    const marker = 'threadbridge_message_uid';
    const communication = (value: string) => ({
      properties: { hs_communication_channel_type: 'WHATS_APP', hs_communication_logged_from: 'CRM', hs_timestamp: '1714564800000', [marker]: value },
    });
    beforeEach(async () => {
      const created = await call('POST', '/crm/v3/properties/communications', { name: marker, label: 'marker', type: 'string', fieldType: 'text', groupName: 'communicationinformation', hasUniqueValue: true });
      expect(created).toMatchObject({ status: 201, body: { hasUniqueValue: true } });
    });

    it('refuse a value another object holds: single create, a whole batch, an update, two inputs of one batch', async () => {
      const first = (await call('POST', '/crm/v3/objects/communications', communication('m-1'))).body.id;
      const again = await call('POST', '/crm/v3/objects/communications', communication('m-1'));
      expect(again).toMatchObject({ status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', errors: [{ context: { propertyName: [marker], existingObjectId: [first] } }] } });
      const batch = await call('POST', '/crm/v3/objects/communications/batch/create', { inputs: [communication('m-2'), communication('m-1')] });
      expect(batch).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR' } });
      const twice = await call('POST', '/crm/v3/objects/communications/batch/create', { inputs: [communication('m-3'), communication('m-3')] });
      expect(twice.status).toBe(400);
      const second = (await call('POST', '/crm/v3/objects/communications', communication('m-4'))).body.id;
      expect((await call('PATCH', `/crm/v3/objects/communications/${second}`, { properties: { [marker]: 'm-1' } })).status).toBe(400);
      expect((await call('PATCH', `/crm/v3/objects/communications/${second}`, { properties: { [marker]: 'm-4' } })).status).toBe(200);
      expect(fake.communications().map((c) => c.properties[marker])).toEqual(['m-1', 'm-4']);
    });

    it('batch read by idProperty sees an object at once while search does not; unknown values are listed in a 207', async () => {
      fake.setSearchLag(60_000);
      const id = (await call('POST', '/crm/v3/objects/communications', communication('m-1'))).body.id;
      const search = await call('POST', '/crm/v3/objects/communications/search', { filterGroups: [{ filters: [{ propertyName: marker, operator: 'IN', values: ['m-1'] }] }] });
      expect(search.body.total).toBe(0);
      const read = await call('POST', '/crm/v3/objects/communications/batch/read', { inputs: [{ id: 'm-1' }, { id: 'm-9' }], idProperty: marker, properties: [], propertiesWithHistory: [] });
      expect(read).toMatchObject({ status: 207, body: { results: [{ id, properties: { [marker]: 'm-1' } }], errors: [{ category: 'OBJECT_NOT_FOUND', context: { ids: ['m-9'] } }] } });
      const notUnique = await call('POST', '/crm/v3/objects/communications/batch/read', { inputs: [{ id: 'x' }], idProperty: 'hs_communication_body', properties: [] });
      expect(notUnique).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR' } });
    });
  });

  it('resetAfterNextCreate carries the create out, then resets the connection without an answer', async () => {
    fake.resetAfterNextCreate();
    await expect(contact({ firstname: 'Lost' })).rejects.toThrow();
    expect(fake.contacts().map((c) => c.properties.firstname)).toEqual(['Lost']);
    expect(fake.requests().at(-1)).toMatchObject({ method: 'POST', path: '/crm/v3/objects/contacts', status: 0 });
    await expect(contact({ firstname: 'Heard' })).resolves.toEqual(expect.any(String));
    expect(fake.recordsContaining('Heard')).toBe(1);
  });

  it('batch create answers 201 and refuses more than 100 inputs', async () => {
    const input = { properties: { hs_communication_channel_type: 'WHATS_APP', hs_communication_logged_from: 'CRM', hs_timestamp: '1714564800000' } };
    const ok = await call('POST', '/crm/v3/objects/communications/batch/create', { inputs: [input, input] });
    expect(ok.status).toBe(201);
    expect(ok.body.results[0].properties.hs_timestamp).toBe('2024-05-01T12:00:00.000Z');
    const tooMany = await call('POST', '/crm/v3/objects/communications/batch/create', { inputs: Array(101).fill(input) });
    expect(tooMany).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR' } });
    expect(fake.communications()).toHaveLength(2);
  });

  it('validates properties and association type ids', async () => {
    const unknown = await call('POST', '/crm/v3/objects/contacts', { properties: { favourite_colour: 'blue' } });
    expect(unknown).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR', errors: [{ code: 'PROPERTY_DOESNT_EXIST' }] } });
    const noChannel = await call('POST', '/crm/v3/objects/communications', { properties: { hs_communication_logged_from: 'CRM', hs_timestamp: '2024-05-01T12:00:00Z' } });
    expect(noChannel.status).toBe(400);

    const c = await contact({ firstname: 'Anna' });
    const note = { properties: { hs_timestamp: '2024-05-01T12:00:00Z' } };
    const wrongType = await call('POST', '/crm/v3/objects/notes', { ...note, associations: [{ to: { id: c }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 81 }] }] });
    expect(wrongType.status).toBe(400);
    const missingTarget = await call('POST', '/crm/v3/objects/notes', { ...note, associations: [{ to: { id: '1' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] }] });
    expect(missingTarget.status).toBe(400);
    const ok = await call('POST', '/crm/v3/objects/notes', { ...note, associations: [{ to: { id: c }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] }] });
    expect(ok.status).toBe(201);
    expect(fake.associations('contacts', c)).toMatchObject([{ toType: 'notes', toId: ok.body.id, typeId: 201 }]);
  });

  it('v4 associations: default (200), labelled (201), listed', async () => {
    const c = await contact({ firstname: 'Anna' });
    const t = (await call('POST', '/crm/v3/objects/tickets', { properties: { subject: 's', hs_pipeline_stage: '1' } })).body.id;
    await expect(call('PUT', `/crm/v4/objects/tickets/${t}/associations/default/contacts/${c}`)).resolves.toMatchObject({ status: 200 });
    await expect(call('PUT', `/crm/v4/objects/tickets/${t}/associations/contacts/${c}`, [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 83 }])).resolves.toMatchObject({ status: 400 });
    await expect(call('PUT', `/crm/v4/objects/tickets/${t}/associations/contacts/${c}`, [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 16 }])).resolves.toMatchObject({ status: 201 });
    const listed = await call('GET', `/crm/v4/objects/contacts/${c}/associations/tickets`);
    expect(listed.body.results).toEqual([{ toObjectId: t, associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 15, label: null }] }]);
  });

  it('answers the ten-second limit with 429 TEN_SECONDLY_ROLLING, Retry-After and rate headers', async () => {
    fake.setOptions({ rateLimit: { max: 2, intervalMs: 10_000 } });
    const first = await call('GET', '/crm/v3/objects/contacts');
    expect(first.headers.get('x-hubspot-ratelimit-max')).toBe('2');
    expect(first.headers.get('x-hubspot-ratelimit-remaining')).toBe('1');
    await call('GET', '/crm/v3/objects/contacts');
    const limited = await call('GET', '/crm/v3/objects/contacts');
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING', message: 'You have reached your ten_secondly_rolling limit.' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
  });

  it('scripts failures, logs every request and tells 404 from 204', async () => {
    fake.failNext(503);
    expect((await call('GET', '/crm/v3/objects/contacts')).status).toBe(503);
    expect((await call('GET', '/crm/v3/objects/contacts/42')).body).toMatchObject({ category: 'OBJECT_NOT_FOUND' });
    const c = await contact({ firstname: 'Anna' });
    expect((await call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: c })).status).toBe(204);
    expect((await call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: c })).status).toBe(404);
    expect(fake.requests().map((r) => r.status)).toEqual([503, 404, 201, 204, 404]);
    expect(fake.requests()[0].at).toBeLessThanOrEqual(Date.now());
  });

  describe('Conversations custom channels', () => {
    const channelPath = '/conversations/v3/custom-channels';
    const register = (query = `?hapikey=${fake.app.developerApiKey}&appId=${fake.app.appId}`, body: object = { name: 'WA', webhookUrl: 'https://tb.example.com/h', capabilities: {} }) =>
      call('POST', `${channelPath}${query}`, body, '');
    const incoming = (channelAccountId: string, extra: object = {}) => ({
      messageDirection: 'INCOMING',
      channelAccountId,
      senders: [{ name: 'Anna', deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+48601234567' } }],
      recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550100000' } }],
      text: 'hello',
      timestamp: '2026-03-01T12:00:00Z',
      attachments: [],
      ...extra,
    });

    it('registers a channel on the app with the developer key (201), and refuses a bad key (401) or app (400)', async () => {
      const created = await register();
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.any(String), name: 'WA', webhookUrl: 'https://tb.example.com/h' });
      expect((await register(`?hapikey=wrong&appId=${fake.app.appId}`)).status).toBe(401);
      expect((await register(`?hapikey=${fake.app.developerApiKey}&appId=1`)).body).toMatchObject({ category: 'VALIDATION_ERROR' });
      expect((await register(undefined, { name: 'WA' })).status).toBe(400);
      expect(fake.customChannels()).toHaveLength(1);
    });

    it('connects an account to a known inbox (201), else 400; an unknown channel is 404', async () => {
      const channel = (await register()).body;
      const account = await call('POST', `${channelPath}/${channel.id}/channel-accounts`, { name: 'WA', inboxId: fake.app.inboxId, authorized: true, deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550100000' } });
      expect(account).toMatchObject({ status: 201, body: { id: expect.any(String), channelId: channel.id, inboxId: fake.app.inboxId } });
      expect((await call('POST', `${channelPath}/${channel.id}/channel-accounts`, { name: 'WA', inboxId: '1', deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550100000' } })).status).toBe(400);
      expect((await call('POST', `${channelPath}/${channel.id}/channel-accounts`, { name: 'WA', inboxId: fake.app.inboxId, deliveryIdentifier: { type: 'PHONE', value: '+15550100000' } })).status).toBe(400);
      expect((await call('POST', `${channelPath}/nope/channel-accounts`, {})).body).toMatchObject({ category: 'OBJECT_NOT_FOUND' });
    });

    it('publishes messages (201) threaded by integrationThreadId; the same idempotency id answers 200 with the first message', async () => {
      const { channelId, channelAccountId } = fake.seedCustomChannel();
      const first = await call('POST', `${channelPath}/${channelId}/messages`, incoming(channelAccountId, { integrationThreadId: 'conv-1', integrationIdempotencyId: 'msg-1' }));
      expect(first).toMatchObject({ status: 201, body: { id: expect.any(String), direction: 'INCOMING', conversationsThreadId: expect.any(String), channelAccountId } });
      const again = await call('POST', `${channelPath}/${channelId}/messages`, incoming(channelAccountId, { integrationThreadId: 'conv-1', integrationIdempotencyId: 'msg-1', text: 'changed' }));
      expect(again).toMatchObject({ status: 200, body: { id: first.body.id, text: 'hello' } });
      const second = await call('POST', `${channelPath}/${channelId}/messages`, incoming(channelAccountId, { integrationThreadId: 'conv-1', integrationIdempotencyId: 'msg-2' }));
      const other = await call('POST', `${channelPath}/${channelId}/messages`, incoming(channelAccountId, { integrationThreadId: 'conv-2' }));
      expect(second.body.conversationsThreadId).toBe(first.body.conversationsThreadId);
      expect(other.body.conversationsThreadId).not.toBe(first.body.conversationsThreadId);
      expect(fake.channelMessages('conv-1').map((m) => m.id)).toEqual([first.body.id, second.body.id]);
    });

    it('refuses a message without senders, with a file it does not hold, or for an account of another channel', async () => {
      const { channelId, channelAccountId } = fake.seedCustomChannel();
      const other = fake.seedCustomChannel();
      const post = (body: object, channel = channelId) => call('POST', `${channelPath}/${channel}/messages`, body);
      expect((await post(incoming(channelAccountId, { senders: [] }))).body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
      expect((await post(incoming(channelAccountId, { attachments: [{ type: 'FILE', fileId: '424242', fileUsageType: 'IMAGE' }] }))).status).toBe(400);
      expect((await post(incoming(other.channelAccountId))).status).toBe(400);
      expect((await post(incoming(channelAccountId, { timestamp: 'soon' }))).status).toBe(400);
      expect(fake.channelMessages()).toEqual([]);
    });

    it('an agent reply is POSTed signed with the app secret; its status PATCHes are recorded', async () => {
      let seen: { url: string; headers: Record<string, string | string[] | undefined>; body: string } | undefined;
      const receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      try {
        const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook?c=1`;
        const { channelId, channelAccountId } = fake.seedCustomChannel({ webhookUrl });
        await call('POST', `${channelPath}/${channelId}/messages`, incoming(channelAccountId, { integrationThreadId: 'conv-9' }));
        const { message, delivery } = await fake.agentReply('conv-9', { text: 'Hi Anna', senderName: 'Maria' });
        expect(delivery.status).toBe(204);
        const timestamp = String(seen!.headers['x-hubspot-request-timestamp']);
        expect(seen!.headers['x-hubspot-signature-v3']).toBe(createHmac('sha256', fake.app.appSecret).update(`POST${webhookUrl}${seen!.body}${timestamp}`).digest('base64'));
        expect(JSON.parse(seen!.body)).toMatchObject({ type: 'OUTGOING_CHANNEL_MESSAGE_CREATED', channelId, message: { id: message.id, direction: 'OUTGOING', text: 'Hi Anna', senders: [{ name: 'Maria' }] } });

        const patch = (body: object, id = message.id) => call('PATCH', `${channelPath}/${channelId}/messages/${id}`, body);
        expect((await patch({ statusType: 'SENT' })).status).toBe(200);
        expect((await patch({ statusType: 'FAILED', errorMessage: 'not on WhatsApp' })).body).toMatchObject({ status: { statusType: 'FAILED', failureDetails: { errorMessage: 'not on WhatsApp' } } });
        expect((await patch({ statusType: 'DELIVERED' })).status).toBe(400);
        expect((await patch({ statusType: 'SENT' }, 'unknown')).status).toBe(404);
        const incomingId = fake.channelMessages('conv-9').find((m) => m.direction === 'INCOMING')!.id;
        expect((await patch({ statusType: 'READ' }, incomingId)).status).toBe(400);
        expect(fake.messageStatuses(message.id).map((u) => [u.statusType, u.errorMessage])).toEqual([['SENT', undefined], ['FAILED', 'not on WhatsApp']]);
      } finally {
        receiver.closeAllConnections();
        await new Promise<void>((resolve) => receiver.close(() => resolve()));
      }
    });
  });
});
