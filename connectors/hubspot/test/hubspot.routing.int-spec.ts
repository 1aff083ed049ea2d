/**
 * Ticket routing through the HubSpot connector against the fake HubSpot: priority →
 * hs_ticket_priority, assignee → hubspot_owner_id (an owner id, or an email found through the
 * Owners API), group and tags → the ticket properties the connection's settings name.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RemoteRef, Thread } from '../../_sdk/contract';
import { ConnectorError } from '../../_sdk/errors';
import { aCustomer, aThread } from '../../_sdk/testing/builders';
import { createForTest } from '../../_sdk/testing/conformance';
import { oneAtATime, type OneAtATime } from '../../_sdk/testing/one-at-a-time';
import { testDeps } from '../../_sdk/testing/ports';
import { hubspot } from '../index';
import { startHubspotFake, type HubspotFake } from './hubspot.fake-server';

const TOKEN = 'hubspot-routing-token';
let fake: HubspotFake;
let ana: string;

beforeEach(async () => {
  fake = await startHubspotFake({ accessTokens: [TOKEN] });
  ana = fake.seedOwner({ email: 'ana@example.com', firstName: 'Ana' });
  const property = async (body: object) => {
    const res = await fetch(`${fake.url}/crm/v3/properties/tickets`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
  };
  const options = (values: string[]) => values.map((value, i) => ({ label: value, value, displayOrder: i }));
  await property({ name: 'support_group', label: 'Support group', type: 'enumeration', fieldType: 'select', groupName: 'ticketinformation', options: options(['Billing', 'Support']) });
  await property({ name: 'route_tags', label: 'Route tags', type: 'enumeration', fieldType: 'checkbox', groupName: 'ticketinformation', options: options(['billing', 'support', 'vip', 'agent_tag']) });
});

afterEach(async () => {
  await fake.close();
});

const connect = (tickets: object = { groupProperty: 'support_group', tagsProperty: 'route_tags' }): OneAtATime =>
  oneAtATime(createForTest(hubspot, { credentials: { accessToken: TOKEN, baseUrl: fake.url }, settings: { tickets } }, testDeps()).connector);

async function aThreadOf(connector: OneAtATime): Promise<Thread> {
  const customer = aCustomer({ waId: '48601234567', profileName: 'Anna Nowak' });
  return aThread(customer, await connector.ensureContact(customer));
}

const propertiesOf = (ticket: RemoteRef) => fake.object('tickets', ticket.id)!.properties;

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('a new ticket with the route', () => {
  it('is created with priority, owner (found by email), group and tags properties in the one create call', async () => {
    const connector = connect();
    const ticket = await connector.ensureTicket(await aThreadOf(connector), undefined, { group: 'Billing', priority: 'normal', assignee: 'ANA@example.com', tags: ['billing', 'vip'] });
    expect(propertiesOf(ticket)).toMatchObject({ hs_ticket_priority: 'MEDIUM', hubspot_owner_id: ana, support_group: 'Billing', route_tags: 'billing;vip' });
    expect(fake.requests().filter((r) => r.path.startsWith('/crm/v3/owners'))).toHaveLength(1);
  });

  it('an owner HubSpot does not know never blocks the ticket: it opens unassigned, and its description says why', async () => {
    const connector = connect();
    const ticket = await connector.ensureTicket(await aThreadOf(connector), undefined, { assignee: 'nobody@example.com', priority: 'urgent' });
    expect(propertiesOf(ticket)).toMatchObject({ hs_ticket_priority: 'URGENT' });
    expect(propertiesOf(ticket).hubspot_owner_id ?? '').toBe('');
    expect(propertiesOf(ticket).content).toContain('no HubSpot owner with the email "nobody@example.com"');
  });

  it('without groupProperty / tagsProperty, a route’s group and tags are not written', async () => {
    const connector = connect({});
    const ticket = await connector.ensureTicket(await aThreadOf(connector), undefined, { group: 'Billing', tags: ['vip'], priority: 'low' });
    expect(propertiesOf(ticket)).toMatchObject({ hs_ticket_priority: 'LOW' });
    expect(propertiesOf(ticket).support_group).toBeUndefined();
    expect(propertiesOf(ticket).route_tags).toBeUndefined();
  });
});

describe('ticketRouting.apply', () => {
  it('patches the ticket: owner by id, group set, tags merged (agents’ kept, the old route’s removed)', async () => {
    const connector = connect();
    const ticket = await connector.ensureTicket(await aThreadOf(connector), undefined, { group: 'Billing', tags: ['billing'] });
    fake.updateObject('tickets', ticket.id, { route_tags: 'billing;agent_tag' });
    await connector.applyTicketRouting(ticket, { group: 'Support', priority: 'high', assignee: ana, tags: ['support'], removeTags: ['billing'] });
    expect(propertiesOf(ticket)).toMatchObject({ support_group: 'Support', hs_ticket_priority: 'HIGH', hubspot_owner_id: ana, route_tags: 'agent_tag;support' });
  });

  it('an owner HubSpot does not know → invalid_request naming it; a value outside the property’s options → invalid_request from HubSpot', async () => {
    const connector = connect();
    const ticket = await connector.ensureTicket(await aThreadOf(connector));
    const noOwner = await failure(connector.applyTicketRouting(ticket, { assignee: 'nobody@example.com' }));
    expect(noOwner).toMatchObject({ kind: 'invalid_request' });
    expect(noOwner.message).toContain('nobody@example.com');
    await expect(failure(connector.applyTicketRouting(ticket, { group: 'Nonexistent' }))).resolves.toMatchObject({ kind: 'invalid_request', vendorStatus: 400 });
  });

  it('a ticket HubSpot no longer holds → not_found', async () => {
    await expect(failure(connect().applyTicketRouting({ id: '987654', type: 'ticket' }, { tags: ['vip'] }))).resolves.toMatchObject({ kind: 'not_found' });
  });
});
