import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { hasFacet, type AppendResult, type Customer, type RemoteRef, type Thread, type UnifiedMessage, type WithFacet } from '../../_sdk/contract';
import { phoneVariants } from '../../_sdk/phone';
import { aCustomer, aMessage, aThread, someMessages } from '../../_sdk/testing/builders';
import { createForTest } from '../../_sdk/testing/conformance';
import { oneAtATime } from '../../_sdk/testing/one-at-a-time';
import { testDeps, type TestDeps } from '../../_sdk/testing/ports';
import { hubspot } from '../index';
import { MESSAGE_ID_PROPERTY } from '../hubspot.types';
import { startHubspotFake, type FakeObject, type HubspotFake, type HubspotFakeOptions } from './hubspot.fake-server';

const TOKEN = 'hubspot-batch-token';
const MAX = hubspot.manifest.maxBatch;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Groups messages by thread, keeping each thread's order and the threads' first appearance. */
function byThread(items: { thread: Thread; message: UnifiedMessage }[]): { thread: Thread; messages: UnifiedMessage[] }[] {
  const groups = new Map<string, { thread: Thread; messages: UnifiedMessage[] }>();
  for (const { thread, message } of items) {
    const group = groups.get(thread.conversationId) ?? { thread, messages: [] };
    group.messages.push(message);
    groups.set(thread.conversationId, group);
  }
  return [...groups.values()];
}

describe('HubspotConnector batch forms against the fake HubSpot', () => {
  let fake: HubspotFake;
  let deps: TestDeps;
  let connector: WithFacet<'tickets' | 'timeline'>;

  async function start(options: HubspotFakeOptions = {}): Promise<void> {
    await fake?.close();
    fake = await startHubspotFake({ accessTokens: [TOKEN], ...options });
    deps = testDeps();
    const built = createForTest(hubspot, { credentials: { accessToken: TOKEN, baseUrl: fake.url }, settings: {} }, deps).connector;
    if (!hasFacet(built, 'tickets') || !hasFacet(built, 'timeline')) throw new Error('a HubSpot connection with default settings has tickets and a timeline');
    connector = built;
  }

  const calls = (method: string, pathSuffix: string): number => fake.requests().filter((r) => r.method === method && r.path.endsWith(pathSuffix)).length;
  /** Communications on a contact, in creation order. */
  const timelineOf = (contactId: string): FakeObject[] =>
    fake.communications().filter((c) => fake.associations('communications', c.id, 'contacts').some((a) => a.toId === contactId));

  beforeEach(async () => {
    await start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('a burst of 2,000 messages from 200 conversations costs at most 0.1 HubSpot calls per message', async () => {
    // Professional tier limits, HubSpot-like latency, the per-second search limit, unordered batch answers.
    await start({ rateLimit: { max: 190, intervalMs: 10_000 }, latencyMs: 50, searchPerSecond: 5, reverseBatchResults: true });
    const waIds = [
      ...Array.from({ length: 150 }, (_, i) => String(48601000000 + i)),
      ...Array.from({ length: 30 }, (_, i) => String(16505550100 + i)),
      ...Array.from({ length: 20 }, (_, i) => String(447400123400 + i)),
    ];
    const customers = waIds.map((waId, i) => aCustomer({ waId, profileName: `Customer ${i}` }));
    // A quarter of them are in HubSpot already, typed by people in all sorts of ways.
    const seeded = new Map<string, string>();
    customers.forEach((c, i) => {
      if (i % 4 !== 0) return;
      const forms = phoneVariants(c.e164);
      const fields = ['phone', 'mobilephone', 'hs_whatsapp_phone_number'] as const;
      const formatted = forms[(i / 4) % forms.length];
      const field = fields[(i / 4) % fields.length];
      seeded.set(c.e164, fake.seedContactWithPhone(formatted, field));
    });
    fake.seedContactWithPhone('+33 6 12 34 56 78'); // someone else
    const contactsBefore = fake.contacts().length;

    // Contacts and tickets, as the core asks for them: up to maxBatch per call.
    const contactRefs: RemoteRef[] = [];
    for (const part of chunks(customers, MAX)) contactRefs.push(...(await connector.contacts.ensure(part.map((customer) => ({ customer })))));
    const threads = customers.map((c, i) => aThread(c, contactRefs[i]));
    const ticketRefs: RemoteRef[] = [];
    for (const part of chunks(threads, MAX)) ticketRefs.push(...(await connector.tickets.ensure(part.map((thread) => ({ thread })))));
    threads.forEach((t, i) => (t.ticket = ticketRefs[i]));

    // The burst arrives interleaved across conversations, in an irregular order (a fixed
    // pseudo-random pick among the conversations with messages left), each conversation in order.
    const start0 = Date.now() - 3_600_000;
    const messages = new Map<string, UnifiedMessage[]>();
    threads.forEach((thread, c) => {
      messages.set(thread.conversationId, Array.from({ length: 10 }, (_, r) => {
        const withMedia = r === 5 && c % 50 === 0;
        if (withMedia) deps.media.put(`media/${c}.jpg`, Buffer.from(`photo ${c}`));
        return aMessage({
          text: `conversation ${c} message ${r}`,
          timestamp: new Date(start0 + r * 60_000 + c),
          ...(withMedia ? { type: 'image', media: { storageKey: `media/${c}.jpg`, mimeType: 'image/jpeg', filename: `${c}.jpg` } } : {}),
        });
      }));
    });
    const burst: { thread: Thread; message: UnifiedMessage }[] = [];
    const sent = threads.map(() => 0);
    let seed = 42;
    while (burst.length < threads.length * 10) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      const open = threads.flatMap((_, c) => (sent[c] < 10 ? [c] : []));
      const c = open[seed % open.length];
      burst.push({ thread: threads[c], message: messages.get(threads[c].conversationId)![sent[c]++] });
    }
    const results: AppendResult[] = [];
    const asked: string[] = [];
    for (const part of chunks(burst, MAX)) {
      const batches = byThread(part);
      asked.push(...batches.flatMap((b) => b.messages.map((m) => m.id)));
      results.push(...(await connector.timeline.append(batches)));
    }

    // Cost.
    const total = burst.length;
    expect(fake.requests().filter((r) => r.status === 429)).toEqual([]);
    expect(fake.requestCount()).toBeLessThanOrEqual(0.1 * total);
    expect(deps.budget.calls).toBeGreaterThanOrEqual(fake.requestCount());

    // One contact per customer; those already in HubSpot found, not re-created.
    expect(fake.contacts().length).toBe(contactsBefore + customers.length - seeded.size);
    for (const [i, c] of customers.entries()) {
      expect({ customer: c.e164, contacts: fake.contactsMatching(c.e164) }).toEqual({ customer: c.e164, contacts: 1 });
      if (seeded.has(c.e164)) expect({ customer: c.e164, id: contactRefs[i].id }).toEqual({ customer: c.e164, id: seeded.get(c.e164) });
    }

    // One ticket per conversation, on its contact.
    expect(fake.tickets().length).toBe(threads.length);
    expect(new Set(ticketRefs.map((t) => t.id)).size).toBe(threads.length);
    for (const t of threads) expect(fake.associations('tickets', t.ticket!.id, 'contacts').map((a) => [a.toId, a.typeId])).toEqual([[t.contact.id, 16]]);

    // Every message once, in WhatsApp order on its contact, on its ticket, with the id we returned.
    expect(fake.communications().length).toBe(total);
    expect(results.map((r) => r.messageId)).toEqual(asked);
    const byId = new Map(fake.communications().map((c) => [c.id, c]));
    for (const r of results) expect(byId.get(r.remote.id)?.properties[MESSAGE_ID_PROPERTY]).toBe(r.messageId);
    const timelines = new Map<string, { messageId: string; tickets: string[] }[]>();
    for (const c of fake.communications()) {
      const links = fake.associations('communications', c.id);
      const entry = { messageId: c.properties[MESSAGE_ID_PROPERTY], tickets: links.filter((a) => a.toType === 'tickets').map((a) => a.toId) };
      for (const a of links.filter((l) => l.toType === 'contacts')) timelines.set(a.toId, [...(timelines.get(a.toId) ?? []), entry]);
    }
    for (const t of threads) {
      expect(timelines.get(t.contact.id)).toEqual(messages.get(t.conversationId)!.map((m) => ({ messageId: m.id, tickets: [t.ticket!.id] })));
    }
    expect(fake.files()).toHaveLength(4);
  }, 60_000);

  describe('contacts.ensure', () => {
    it('verifies known links with one batch read and re-creates a contact deleted in HubSpot', async () => {
      const customers = [aCustomer({ waId: '48601000001' }), aCustomer({ waId: '48601000002' }), aCustomer({ waId: '16505550111' })];
      const first = await connector.contacts.ensure(customers.map((customer) => ({ customer })));
      await expect(oneAtATime(connector).eraseContact(first[1], customers[1])).resolves.toMatchObject({ outcome: 'done' });
      fake.clearRequests();

      const again = await connector.contacts.ensure(customers.map((customer, i) => ({ customer, known: first[i] })));

      expect(again[0]).toEqual(first[0]);
      expect(again[2]).toEqual(first[2]);
      expect(again[1].id).not.toBe(first[1].id);
      expect(fake.object('contacts', again[1].id)?.properties.phone).toBe('+48601000002');
      for (const c of customers) expect(fake.contactsMatching(c.e164)).toBe(1);
      expect(calls('POST', '/contacts/batch/read')).toBe(1);
      expect(calls('POST', '/contacts/search')).toBe(1);
      expect(calls('POST', '/contacts/batch/create')).toBe(1);
      expect(fake.requestCount()).toBe(3);
    });

    it('known links need no search even while the index lags', async () => {
      await start({ searchLagMs: 60_000 });
      const customers = [aCustomer({ waId: '48601000003' }), aCustomer({ waId: '48601000004' })];
      const first = await connector.contacts.ensure(customers.map((customer) => ({ customer })));
      fake.clearRequests();
      await expect(connector.contacts.ensure(customers.map((customer, i) => ({ customer, known: first[i] })))).resolves.toEqual(first);
      expect(fake.requests().map((r) => r.path)).toEqual(['/crm/v3/objects/contacts/batch/read']);
    });

    it('gives the same customer asked for twice one contact, and answers in request order', async () => {
      await start({ reverseBatchResults: true });
      const anna = aCustomer({ waId: '48601000005', profileName: 'Anna' });
      const bob = aCustomer({ waId: '48601000006', profileName: 'Bob' });
      const seededId = fake.seedContactWithPhone('601 000 007');
      const cid = aCustomer({ waId: '48601000007', profileName: 'Cid' });
      const refs = await connector.contacts.ensure([{ customer: anna }, { customer: bob }, { customer: anna }, { customer: cid }]);

      expect(refs[0]).toEqual(refs[2]);
      expect(refs[3].id).toBe(seededId);
      expect(fake.object('contacts', refs[0].id)?.properties.firstname).toBe('Anna');
      expect(fake.object('contacts', refs[1].id)?.properties.firstname).toBe('Bob');
      expect(fake.contacts()).toHaveLength(3);
    });

    it('refuses more than maxBatch customers without calling HubSpot', async () => {
      const requests = Array.from({ length: MAX + 1 }, (_, i) => ({ customer: aCustomer({ waId: String(48601000100 + i) }) }));
      await expect(connector.contacts.ensure(requests)).rejects.toMatchObject({ kind: 'invalid_request' });
      expect(fake.requestCount()).toBe(0);
    });
  });

  describe('tickets.ensure', () => {
    let customers: Customer[];
    let threads: Thread[];
    beforeEach(async () => {
      await start({ reverseBatchResults: true });
      customers = ['48601000011', '48601000012', '48601000013', '48601000014', '48601000015'].map((waId, i) => aCustomer({ waId, profileName: `Customer ${i}` }));
      const contacts = await connector.contacts.ensure(customers.map((customer) => ({ customer })));
      threads = customers.map((c, i) => aThread(c, contacts[i]));
    });

    it('keeps, reopens and opens tickets with one batch read, one batch update and one batch create', async () => {
      const existing = await connector.tickets.ensure(threads.slice(0, 4).map((thread) => ({ thread })));
      fake.updateObject('tickets', existing[1].id, { hs_pipeline_stage: '4' }, new Date(Date.now() - 2 * 3_600_000));
      fake.updateObject('tickets', existing[2].id, { hs_pipeline_stage: '4' }, new Date(Date.now() - 25 * 3_600_000));
      const gone: RemoteRef = { id: '987654321', type: 'ticket' };
      fake.clearRequests();

      const refs = await connector.tickets.ensure([
        { thread: threads[0], known: existing[0] }, // open: kept
        { thread: threads[1], known: existing[1] }, // closed 2 h ago: reopened
        { thread: threads[2], known: existing[2] }, // closed 25 h ago: a new ticket
        { thread: threads[3], known: gone }, // deleted: a new ticket
        { thread: threads[4] }, // new conversation
      ]);

      expect(refs[0].id).toBe(existing[0].id);
      expect(refs[1].id).toBe(existing[1].id);
      expect(fake.object('tickets', existing[1].id)?.properties.hs_pipeline_stage).toBe('1');
      expect(fake.object('tickets', existing[2].id)?.properties.hs_pipeline_stage).toBe('4');
      expect(new Set(refs.map((r) => r.id)).size).toBe(5);
      expect(refs[2].id).not.toBe(existing[2].id);
      for (const i of [2, 3, 4]) {
        expect(fake.associations('tickets', refs[i].id, 'contacts').map((a) => [a.toId, a.typeId])).toEqual([[threads[i].contact.id, 16]]);
        expect(fake.object('tickets', refs[i].id)?.properties.subject).toBe(`WhatsApp: Customer ${i} (${customers[i].e164})`);
      }
      expect(fake.tickets()).toHaveLength(7);
      expect(fake.requests().map((r) => r.path)).toEqual([
        '/crm/v3/objects/tickets/batch/read',
        '/crm/v3/objects/tickets/batch/update',
        '/crm/v3/objects/tickets/batch/create',
      ]);
    });

    it('gives a conversation asked for twice one ticket, and two conversations of one customer two', async () => {
      const second = aThread(customers[0], threads[0].contact);
      const refs = await connector.tickets.ensure([{ thread: threads[0] }, { thread: second }, { thread: threads[0] }]);
      expect(refs[0]).toEqual(refs[2]);
      expect(refs[1].id).not.toBe(refs[0].id);
      expect(fake.tickets()).toHaveLength(2);
    });
  });

  describe('timeline.append', () => {
    let threads: Thread[];
    beforeEach(async () => {
      await start({ reverseBatchResults: true });
      const customers = ['48601000021', '48601000022', '48601000023'].map((waId) => aCustomer({ waId }));
      const contacts = await connector.contacts.ensure(customers.map((customer) => ({ customer })));
      threads = customers.map((c, i) => aThread(c, contacts[i]));
      const tickets = await connector.tickets.ensure(threads.map((thread) => ({ thread })));
      threads.forEach((t, i) => (t.ticket = tickets[i]));
    });

    it('logs the messages of several threads with one batch create, each on its contact and ticket', async () => {
      const batches = threads.map((thread) => ({ thread, messages: someMessages(4) }));
      fake.clearRequests();
      const results = await connector.timeline.append(batches);

      expect(calls('POST', '/communications/batch/create')).toBe(1);
      expect(calls('POST', '/search')).toBe(0);
      expect(results.map((r) => r.messageId)).toEqual(batches.flatMap((b) => b.messages.map((m) => m.id)));
      for (const { thread, messages } of batches) {
        const timeline = timelineOf(thread.contact.id);
        expect(timeline.map((c) => c.properties.hs_communication_body)).toEqual(messages.map((m) => `<p>${m.text}</p>`));
        for (const c of timeline) expect(fake.associations('communications', c.id).map((a) => [a.toType, a.toId, a.typeId])).toEqual([
          ['contacts', thread.contact.id, 81],
          ['tickets', thread.ticket!.id, 83],
        ]);
      }
    });

    it('a maybeCreated replay across threads reads the messages back with one batch read and creates no duplicates', async () => {
      const batches = threads.map((thread) => ({ thread, messages: someMessages(4) }));
      // The first attempt got the first two messages of the first two threads through, then died.
      const firstAttempt = await connector.timeline.append(batches.slice(0, 2).map((b) => ({ thread: b.thread, messages: b.messages.slice(0, 2) })));
      fake.clearRequests();

      const replay = await connector.timeline.append(batches.map((b) => ({ thread: b.thread, messages: b.messages.map((m) => ({ ...m, maybeCreated: true })) })));

      expect(fake.communications()).toHaveLength(12);
      const replayed = new Map(replay.map((r) => [r.messageId, r.remote.id]));
      for (const r of firstAttempt) expect(replayed.get(r.messageId)).toBe(r.remote.id);
      for (const { thread, messages } of batches) {
        expect(timelineOf(thread.contact.id).map((c) => c.properties[MESSAGE_ID_PROPERTY]).sort()).toEqual(messages.map((m) => m.id).sort());
      }
      expect(calls('POST', '/communications/search')).toBe(0);
      expect(calls('POST', '/communications/batch/read')).toBe(1);
      expect(calls('POST', '/communications/batch/create')).toBe(1);
      const created = fake.requests().find((r) => r.path.endsWith('/communications/batch/create'))?.body as { inputs: unknown[] };
      expect(created.inputs).toHaveLength(8);
    });

    it('refuses more than maxBatch messages across threads without calling HubSpot', async () => {
      fake.clearRequests();
      const batches = threads.map((thread) => ({ thread, messages: someMessages(34) }));
      await expect(connector.timeline.append(batches)).rejects.toMatchObject({ kind: 'invalid_request' });
      expect(fake.requestCount()).toBe(0);
      expect(fake.communications()).toHaveLength(0);
    });
  });
});
