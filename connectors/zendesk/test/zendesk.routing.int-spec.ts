/**
 * Ticket routing through the Zendesk connector against the fake Zendesk: a conversation's route on
 * a new ticket (group, priority, assignee, tags on the create call), and ticketRouting.apply on an
 * existing one (Update Ticket + the Tags endpoints), names resolved as an operator types them.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RemoteRef, Thread } from '../../_sdk/contract';
import { ConnectorError } from '../../_sdk/errors';
import { aCustomer, aThread } from '../../_sdk/testing/builders';
import { createForTest } from '../../_sdk/testing/conformance';
import { oneAtATime, type OneAtATime } from '../../_sdk/testing/one-at-a-time';
import { testDeps, type TestDeps } from '../../_sdk/testing/ports';
import { zendesk } from '../index';
import { startZendeskFake, type FakeGroup, type FakeUser, type ZendeskFake } from './zendesk.fake-server';

let fake: ZendeskFake;
let deps: TestDeps;
let billing: FakeGroup;
let support: FakeGroup;
let ana: FakeUser;

beforeEach(async () => {
  fake = await startZendeskFake();
  deps = testDeps();
  billing = fake.seedGroup('Billing');
  support = fake.seedGroup('Tier 1 Support');
  ana = fake.seedAgent({ name: 'Ana', email: 'ana@example.com' }, [billing, support]);
});

afterEach(async () => {
  await fake.close();
});

const connect = (): OneAtATime => oneAtATime(createForTest(zendesk, { credentials: fake.credentials(), settings: {} }, deps).connector);

async function aThreadOf(connector: OneAtATime): Promise<Thread> {
  const customer = aCustomer({ waId: '48601234567', profileName: 'Anna Nowak' });
  return aThread(customer, await connector.ensureContact(customer));
}

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('a new ticket with the route', () => {
  it('gets group, priority, assignee and tags on the create call; names are looked up once', async () => {
    const connector = connect();
    const thread = await aThreadOf(connector);
    const ref = await connector.ensureTicket(thread, undefined, { group: 'billing', priority: 'urgent', assignee: 'Ana@Example.com', tags: ['Billing', 'vip customer'] });

    expect(fake.ticket(ref.id)).toMatchObject({ group_id: billing.id, priority: 'urgent', assignee_id: ana.id, tags: ['whatsapp', 'billing', 'vip_customer'] });
    expect(fake.requestsTo('PUT', `/tickets/${ref.id}`)).toHaveLength(0);
    expect(fake.requestsTo('GET', '/groups')).toHaveLength(1);
    expect(fake.requestsTo('GET', '/users/search').filter((r) => r.query.query?.startsWith('email:'))).toHaveLength(1);
  });

  it('takes ids as they are, without a lookup', async () => {
    const connector = connect();
    const ref = await connector.ensureTicket(await aThreadOf(connector), undefined, { group: String(support.id), assignee: String(ana.id) });
    expect(fake.ticket(ref.id)).toMatchObject({ group_id: support.id, assignee_id: ana.id });
    expect(fake.requestsTo('GET', '/groups')).toHaveLength(0);
  });

  it('a group Zendesk does not know never blocks the ticket: it opens without it, and its first note says why', async () => {
    const connector = connect();
    const ref = await connector.ensureTicket(await aThreadOf(connector), undefined, { group: 'Nonexistent', priority: 'high' });
    expect(fake.ticket(ref.id)).toMatchObject({ group_id: null, priority: 'high' });
    expect(fake.comments(ref.id)[0].body).toContain('no group named "Nonexistent"');
  });

  it('a kept ticket is left as its agents set it', async () => {
    const connector = connect();
    const thread = await aThreadOf(connector);
    const ref = await connector.ensureTicket(thread);
    await connector.ensureTicket(thread, ref, { group: 'Billing', tags: ['billing'] });
    expect(fake.ticket(ref.id)).toMatchObject({ group_id: null, tags: ['whatsapp'] });
  });
});

describe('ticketRouting.apply', () => {
  let ticket: RemoteRef;
  let connector: OneAtATime;

  beforeEach(async () => {
    connector = connect();
    ticket = await connector.ensureTicket(await aThreadOf(connector), undefined, { group: 'Billing', tags: ['billing'] });
  });

  it('moves the ticket: group, priority and assignee set, route tags added and removed, agents’ tags kept', async () => {
    fake.ticket(ticket.id)!.tags.push('agent_tag');
    await connector.applyTicketRouting(ticket, { group: 'Tier 1 Support', priority: 'high', assignee: 'ana@example.com', tags: ['support'], removeTags: ['billing'] });

    expect(fake.ticket(ticket.id)).toMatchObject({ group_id: support.id, priority: 'high', assignee_id: ana.id, tags: ['whatsapp', 'agent_tag', 'support'] });
    expect(fake.requestsTo('PUT', `/tickets/${ticket.id}`)).toHaveLength(1);
    expect(fake.requestsTo('DELETE', `/tickets/${ticket.id}/tags`)).toHaveLength(1);
    expect(fake.requestsTo('PUT', `/tickets/${ticket.id}/tags`)).toHaveLength(1);
  });

  it('applied twice leaves the ticket as once; a tag both added and removed stays', async () => {
    const routing = { priority: 'low' as const, tags: ['billing', 'late'], removeTags: ['billing'] };
    await connector.applyTicketRouting(ticket, routing);
    await connector.applyTicketRouting(ticket, routing);
    expect(fake.ticket(ticket.id)).toMatchObject({ priority: 'low', tags: ['whatsapp', 'billing', 'late'] });
    expect(fake.requestsTo('DELETE', `/tickets/${ticket.id}/tags`)).toHaveLength(0);
  });

  it('only tags: no Update Ticket at all', async () => {
    await connector.applyTicketRouting(ticket, { tags: ['x'] });
    expect(fake.requestsTo('PUT', `/tickets/${ticket.id}`)).toHaveLength(0);
    expect(fake.ticket(ticket.id)!.tags).toEqual(['whatsapp', 'billing', 'x']);
  });

  it('a group or agent Zendesk does not know → invalid_request naming it; nothing is changed', async () => {
    const noGroup = await failure(connector.applyTicketRouting(ticket, { group: 'Nonexistent', priority: 'urgent' }));
    expect(noGroup.kind).toBe('invalid_request');
    expect(noGroup.message).toContain('no group named "Nonexistent"');
    const noAgent = await failure(connector.applyTicketRouting(ticket, { assignee: 'nobody@example.com' }));
    expect(noAgent.message).toContain('no agent with the email "nobody@example.com"');
    // An end user with that email is no agent either.
    fake.seedUser({ name: 'Customer', email: 'customer@example.com' });
    await expect(failure(connector.applyTicketRouting(ticket, { assignee: 'customer@example.com' }))).resolves.toMatchObject({ kind: 'invalid_request' });
    expect(fake.ticket(ticket.id)).toMatchObject({ group_id: billing.id, priority: null });
  });

  it('Zendesk’s own refusals come back as ConnectorErrors: an unknown group id → invalid_request, a gone ticket → not_found', async () => {
    await expect(failure(connector.applyTicketRouting(ticket, { group: '999' }))).resolves.toMatchObject({ kind: 'invalid_request', vendorStatus: 422 });
    await expect(failure(connector.applyTicketRouting({ id: '424242', type: 'ticket' }, { tags: ['x'] }))).resolves.toMatchObject({ kind: 'not_found' });
  });

  it('finds a group on a later page of GET /groups', async () => {
    for (let i = 0; i < 120; i++) fake.seedGroup(`Group ${i}`);
    const late = fake.seedGroup('Escalations');
    await connect().applyTicketRouting(ticket, { group: 'Escalations' });
    expect(fake.ticket(ticket.id)!.group_id).toBe(late.id);
  });
});
