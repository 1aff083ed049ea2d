/**
 * The fake Pipedrive behaves like Pipedrive on the endpoints threadbridge uses: checked with plain
 * HTTP (what goes over the wire) and with the official SDK's own API classes (that the fake speaks
 * the SDK's dialect: paths, query names, the x-api-token header).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { v1, v2 } from 'pipedrive';
import { startPipedriveFake, type PipedriveFake } from './pipedrive.fake-server';

let fake: PipedriveFake;

beforeEach(async () => {
  fake = await startPipedriveFake();
});

afterEach(async () => {
  await fake.close();
});

async function call(method: string, path: string, body?: unknown, token: string | null = fake.apiToken): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: { ...(token ? { 'x-api-token': token } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

const search = (term: string, exact = true) => call('GET', `/api/v2/persons/search?term=${encodeURIComponent(term)}&fields=phone&exact_match=${exact}`);

describe('auth and envelopes', () => {
  it('answers 401 with Pipedrive’s error body without a token or with a wrong one, and spends no tokens', async () => {
    for (const token of [null, 'wrong']) {
      const res = await call('GET', '/api/v1/users/me', undefined, token);
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ success: false, error: 'unauthorized access', errorCode: 401, data: null, additional_data: null });
    }
    expect(fake.tokensSpent()).toBe(0);
  });

  it('takes the token from ?api_token= too, and wraps answers in {success, data}', async () => {
    const res = await call('GET', `/api/v1/users/me?api_token=${fake.apiToken}`, undefined, null);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ success: true, data: { id: expect.any(Number), company_domain: 'fake-company' } });
  });

  it('answers unknown paths and missing records with 404 and an error sentence', async () => {
    await expect(call('GET', '/api/v2/nothing-here')).resolves.toMatchObject({ status: 404, json: { success: false } });
    await expect(call('GET', '/api/v2/persons/999999')).resolves.toMatchObject({ status: 404, json: { success: false, error: 'Person not found' } });
    await expect(call('GET', '/api/v1/leads/5c0a2d63-0000-4000-8000-000000000000')).resolves.toMatchObject({ status: 404, json: { error: 'Lead not found' } });
  });
});

describe('persons and search', () => {
  it('matches an exact search against the whole field as typed, case-insensitively; a plain search against any part', async () => {
    fake.seedPerson({ name: 'Anna Nowak', phones: ['+48 601 234 567'] });
    expect((await search('+48 601 234 567')).json.data.items).toHaveLength(1);
    expect((await search('+48601234567')).json.data.items).toHaveLength(0);
    expect((await search('601 234', false)).json.data.items).toHaveLength(1);
    const byName = await call('GET', '/api/v2/persons/search?term=ANNA%20NOWAK&fields=name&exact_match=true');
    expect(byName.json.data.items[0]).toMatchObject({ item: { type: 'person', name: 'Anna Nowak', phones: ['+48 601 234 567'] } });
  });

  it('refuses a search term that is too short, with a validation error', async () => {
    const res = await search('1', false);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ success: false, code: 'ERR_SCHEMA_VALIDATION_FAILED' });
  });

  it('lets the search index lag behind writes while the persons list shows them at once', async () => {
    fake.setSearchLag(300);
    const created = await call('POST', '/api/v2/persons', { name: 'New customer', phones: [{ value: '+48601234567', label: 'mobile', primary: true }] });
    expect(created).toMatchObject({ status: 200, json: { success: true, data: { id: expect.any(Number), phones: [{ value: '+48601234567', label: 'mobile', primary: true }], is_deleted: false } } });
    expect((await search('+48601234567')).json.data.items).toHaveLength(0);
    const newest = await call('GET', '/api/v2/persons?sort_by=add_time&sort_direction=desc&limit=5');
    expect(newest.json.data[0].id).toBe(created.json.data.id);
    await new Promise((r) => setTimeout(r, 350));
    expect((await search('+48601234567')).json.data.items).toHaveLength(1);
  });

  it('keeps a deleted person in the search index until the deletion has been indexed', async () => {
    const person = fake.seedPerson({ name: 'Anna', phones: ['+48601234567'] });
    fake.setSearchLag(300);
    await call('DELETE', `/api/v2/persons/${person.id}`);
    expect((await search('+48601234567')).json.data.items).toHaveLength(1);
    await expect(call('GET', `/api/v2/persons/${person.id}`)).resolves.toMatchObject({ status: 404 });
    await new Promise((r) => setTimeout(r, 350));
    expect((await search('+48601234567')).json.data.items).toHaveLength(0);
  });

  it('keeps the old phones in the index until an update has been indexed', async () => {
    const person = fake.seedPerson({ name: 'Anna', phones: ['+48 601 000 000'] });
    fake.setSearchLag(10_000);
    await call('PATCH', `/api/v2/persons/${person.id}`, { phones: [{ value: '+48601234567' }] });
    expect((await search('+48 601 000 000')).json.data.items).toHaveLength(1);
    expect((await search('+48601234567')).json.data.items).toHaveLength(0);
  });

  it('validates a new person, merges custom fields on update and hides a deleted person', async () => {
    await expect(call('POST', '/api/v2/persons', { phones: [] })).resolves.toMatchObject({ status: 400, json: { success: false, error: expect.stringContaining('name') } });
    const { json } = await call('POST', '/api/v2/persons', { name: 'Anna' });
    const id = json.data.id as number;
    await call('PATCH', `/api/v2/persons/${id}`, { custom_fields: { abc: 'x' } });
    await call('PATCH', `/api/v2/persons/${id}`, { custom_fields: { def: 'y' } });
    expect(fake.person(id)?.custom_fields).toEqual({ abc: 'x', def: 'y' });
    await expect(call('DELETE', `/api/v2/persons/${id}`)).resolves.toMatchObject({ status: 200, json: { success: true, data: { id } } });
    await expect(call('GET', `/api/v2/persons/${id}`)).resolves.toMatchObject({ status: 404 });
    await expect(call('DELETE', `/api/v2/persons/${id}`)).resolves.toMatchObject({ status: 404 });
    expect((await call('GET', '/api/v2/persons')).json.data).toEqual([]);
  });

  it('pages v2 lists with a cursor', async () => {
    for (let i = 0; i < 3; i++) fake.seedPerson({ name: `P${i}` });
    const first = await call('GET', '/api/v2/persons?limit=2');
    expect(first.json.data).toHaveLength(2);
    const next = await call('GET', `/api/v2/persons?limit=2&cursor=${first.json.additional_data.next_cursor}`);
    expect(next.json).toMatchObject({ data: [{ name: 'P2' }], additional_data: { next_cursor: null } });
  });
});

describe('notes and leads (API v1)', () => {
  it('answers an empty list with data null, and lists a person’s notes newest first', async () => {
    const person = fake.seedPerson({ name: 'Anna' });
    expect((await call('GET', `/api/v1/notes?person_id=${person.id}`)).json).toMatchObject({ success: true, data: null });
    await call('POST', '/api/v1/notes', { content: '<p>first</p>', person_id: person.id });
    await call('POST', '/api/v1/notes', { content: '<p>second</p>', person_id: person.id });
    const listed = await call('GET', `/api/v1/notes?person_id=${person.id}&sort=add_time%20DESC&limit=1`);
    expect(listed.json).toMatchObject({ data: [{ content: '<p>second</p>' }], additional_data: { pagination: { more_items_in_collection: true, next_start: 1 } } });
    expect(listed.json.data[0].add_time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('refuses a note without content or without anything to belong to, and one for a missing person', async () => {
    await expect(call('POST', '/api/v1/notes', { person_id: 1 })).resolves.toMatchObject({ status: 400, json: { success: false } });
    await expect(call('POST', '/api/v1/notes', { content: 'x' })).resolves.toMatchObject({ status: 400 });
    await expect(call('POST', '/api/v1/notes', { content: 'x', person_id: 424242 })).resolves.toMatchObject({ status: 404, json: { error: 'Person not found' } });
  });

  it('creates leads with 201, lists a person’s open leads, and forgets a converted one', async () => {
    const person = fake.seedPerson({ name: 'Anna' });
    await expect(call('POST', '/api/v1/leads', { title: 'no person' })).resolves.toMatchObject({ status: 400 });
    const created = await call('POST', '/api/v1/leads', { title: 'WhatsApp: Anna', person_id: person.id });
    expect(created).toMatchObject({ status: 201, json: { success: true, data: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), is_archived: false, person_id: person.id } } });
    const second = fake.seedLead({ title: 'archived', personId: person.id });
    fake.archiveLead(second.id);
    expect((await call('GET', `/api/v1/leads?person_id=${person.id}`)).json.data.map((l: { title: string }) => l.title)).toEqual(['WhatsApp: Anna']);
    const deal = fake.convertLeadToDeal(created.json.data.id);
    await expect(call('GET', `/api/v1/leads/${created.json.data.id}`)).resolves.toMatchObject({ status: 404 });
    await expect(call('GET', `/api/v2/deals?person_id=${person.id}&status=open`)).resolves.toMatchObject({ json: { data: [{ id: deal.id, source_lead_id: created.json.data.id }] } });
  });
});

describe('files (API v1)', () => {
  it('takes a multipart upload for a person, lists the person’s files and deletes one', async () => {
    const person = fake.seedPerson({ name: 'Anna' });
    const form = new FormData();
    form.append('file', new File([new Uint8Array(Buffer.from('jpeg'))], 'photo.jpg', { type: 'image/jpeg' }));
    form.append('person_id', String(person.id));
    const response = await fetch(`${fake.url}/api/v1/files`, { method: 'POST', headers: { 'x-api-token': fake.apiToken }, body: form });
    const added = (await response.json()) as { data: { id: number; name: string; file_size: number; person_id: number } };
    expect(added.data).toMatchObject({ name: 'photo.jpg', file_size: 4, person_id: person.id });
    expect(fake.files()[0].bytes.toString()).toBe('jpeg');
    await expect(call('GET', `/api/v1/persons/${person.id}/files`)).resolves.toMatchObject({ json: { data: [{ id: added.data.id }] } });
    await expect(call('DELETE', `/api/v1/files/${added.data.id}`)).resolves.toMatchObject({ status: 200 });
    await expect(call('GET', `/api/v1/persons/${person.id}/files`)).resolves.toMatchObject({ json: { data: null } });
  });

  it('refuses an upload without a file or without anything to belong to', async () => {
    const form = new FormData();
    form.append('file', new File([new Uint8Array([1])], 'x.bin'));
    const response = await fetch(`${fake.url}/api/v1/files`, { method: 'POST', headers: { 'x-api-token': fake.apiToken }, body: form });
    expect(response.status).toBe(400);
  });
});

describe('limits and faults', () => {
  it('sends the burst headers on every answer and a 429 over the burst limit, without Retry-After', async () => {
    fake.setBurstLimit(2);
    const first = await call('GET', '/api/v1/users/me');
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    await call('GET', '/api/v1/users/me');
    const limited = await call('GET', '/api/v1/users/me');
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ success: false, error: 'Request over limit', errorCode: 429 });
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('retry-after')).toBeNull();
  });

  it('charges each endpoint its tokens, API v2 half of v1, and refuses requests once the day’s budget is spent', async () => {
    const person = fake.seedPerson({ name: 'Anna', phones: ['+48601234567'] });
    await search('+48601234567'); // v2 search 20
    await call('GET', `/api/v2/persons/${person.id}`); // v2 get 1
    await call('GET', '/api/v2/persons'); // v2 list 10
    await call('POST', '/api/v1/notes', { content: 'x', person_id: person.id }); // v1 write 10
    await call('GET', `/api/v1/notes?person_id=${person.id}`); // v1 list 20
    expect(fake.tokensSpent()).toBe(61);
    fake.setDailyTokens(70);
    const refused = await search('+48601234567');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    expect(fake.tokensSpent()).toBe(61);
  });

  it('answers failNext(429) with Retry-After and x-ratelimit-reset, then carries on', async () => {
    fake.failNext(429, { retryAfterSec: 3 });
    const limited = await call('GET', '/api/v1/users/me');
    expect(limited.status).toBe(429);
    expect([limited.headers.get('retry-after'), limited.headers.get('x-ratelimit-reset')]).toEqual(['3', '3']);
    await expect(call('GET', '/api/v1/users/me')).resolves.toMatchObject({ status: 200 });
  });

  it('carries out a create, then resets the connection (resetAfterNextCreate)', async () => {
    const person = fake.seedPerson({ name: 'Anna' });
    fake.resetAfterNextCreate();
    await expect(call('POST', '/api/v1/notes', { content: 'kept', person_id: person.id })).rejects.toThrow();
    expect(fake.recordsContaining('kept')).toBe(1);
    expect(fake.requests().at(-1)?.status).toBe(0);
  });
});

describe('the official SDK against the fake', () => {
  it('searches, adds and lists through the SDK’s own API classes', async () => {
    const config2 = new v2.Configuration({ apiKey: fake.apiToken, basePath: `${fake.url}/api/v2` });
    const config1 = new v1.Configuration({ apiKey: fake.apiToken, basePath: `${fake.url}/api/v1` });
    const persons = new v2.PersonsApi(config2);
    const added = await persons.addPerson({ AddPersonRequest: { name: 'Via SDK', phones: [{ value: '+48 601 234 567', primary: true, label: 'work' }] } });
    expect(added.data?.name).toBe('Via SDK');
    const found = await persons.searchPersons({ term: '+48 601 234 567', fields: 'phone', exact_match: true });
    expect(found.data?.items?.[0]?.item?.id).toBe(added.data?.id);
    const notes = new v1.NotesApi(config1);
    await notes.addNote({ AddNoteRequest: { content: 'hello', person_id: added.data!.id! } });
    const listed = await notes.getNotes({ person_id: added.data!.id!, sort: 'add_time DESC' });
    expect(listed.data?.[0]?.content).toBe('hello');
    const leads = new v1.LeadsApi(config1);
    const lead = await leads.addLead({ AddLeadRequest: { title: 'SDK lead', person_id: added.data!.id! } });
    await expect(leads.getLead({ id: lead.data!.id! })).resolves.toMatchObject({ data: { title: 'SDK lead' } });
  });

  it('shows what the SDK’s own instance does with a 429: only the body arrives, the headers are lost', async () => {
    fake.failNext(429, { retryAfterSec: 2 });
    const persons = new v2.PersonsApi(new v2.Configuration({ apiKey: fake.apiToken, basePath: `${fake.url}/api/v2` }));
    await expect(persons.getPersons()).rejects.toEqual(expect.objectContaining({ success: false, error: 'Request over limit' }));
  });
});
