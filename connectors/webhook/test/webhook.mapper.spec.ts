/**
 * The event bodies the mapper builds, the published examples and the schema files agree: every
 * body validates against its JSON Schema (draft 2020-12, with formats), and schemas/*.json are the
 * schemas of webhook.schemas.ts (UPDATE_WEBHOOK_SCHEMAS=1 rewrites them).
 */
import { describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { aCustomer, aMessage, aThread, aTranscript } from '../../_sdk/testing/builders';
import { eventId, RECEIVER_CONTACT_TYPE, toConnectionTestDelivery, toConsentChangedDelivery, toContactErasedDelivery, toConversationClosedDelivery, toConversationOpenedDelivery, toMessageDelivery, toMessageStatusDelivery } from '../webhook.mapper';
import { EVENT_EXAMPLES, eventSchema, REPLY_CREATED_EXAMPLE, REPLY_CREATED_SCHEMA } from '../webhook.schemas';
import { EVENT_TYPES, type Delivery, type EventType } from '../webhook.types';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));
const SCHEMA_DIR = path.resolve(process.cwd(), 'connectors/webhook/schemas');

function expectValid(type: EventType | 'reply.created', body: unknown): void {
  const schema = type === 'reply.created' ? REPLY_CREATED_SCHEMA : eventSchema(type);
  const validate = ajv.getSchema(schema.$id as string) ?? ajv.compile(schema);
  const valid = validate(body);
  expect({ type, errors: valid ? null : validate.errors }).toEqual({ type, errors: null });
}

const customer = aCustomer({ waId: '48601234567', profileName: 'Anna Nowak' });
const thread = aThread(customer, { id: customer.contactId, type: 'threadbridge_contact' });
const parsed = (d: Delivery) => JSON.parse(d.body) as { type: string; timestamp: string; data: Record<string, unknown> };

describe('webhook events', () => {
  it('publishes a valid example of every event type, and of reply.created', () => {
    for (const type of EVENT_TYPES) expectValid(type, EVENT_EXAMPLES[type]);
    expectValid('reply.created', REPLY_CREATED_EXAMPLE);
  });

  it.each([
    ['message.received', toMessageDelivery(thread, aMessage({ text: 'Hi there' }))],
    ['message.received', toMessageDelivery(thread, aMessage({ type: 'image', text: 'a photo', media: { storageKey: 'k/1', mimeType: 'image/jpeg', sizeBytes: 10, sha256: 'abc' } }))],
    ['message.received', toMessageDelivery({ ...thread, customer: { ...customer, profileName: undefined } }, aMessage({ type: 'audio', text: '', media: { unavailableReason: 'expired' } }))],
    ['message.sent', toMessageDelivery({ ...thread, contact: { id: 'crm-1', type: RECEIVER_CONTACT_TYPE } }, aMessage({ direction: 'outbound', author: 'Agent Smith', text: 'Hello!' }))],
    ['conversation.opened', toConversationOpenedDelivery(thread)],
    ['conversation.closed', toConversationClosedDelivery({ thread, transcript: aTranscript(thread) })],
    ['contact.erased', toContactErasedDelivery({ contact: thread.contact, customer }, new Date())],
    ['consent.changed', toConsentChangedDelivery({ contact: thread.contact, consent: { scope: 'marketing', optedIn: false, changedAt: new Date(), source: 'keyword:STOP' } })],
    ['message.status', toMessageStatusDelivery({ reply: { remoteId: 'r-1', remoteThreadId: thread.conversationId }, status: { state: 'failed', detail: 'Not sent on WhatsApp: …', at: new Date() } })],
    ['message.status', toMessageStatusDelivery({ reply: { remoteId: 'r-1' }, status: { state: 'read', at: new Date() } })],
    ['connection.test', toConnectionTestDelivery(new Date(), 'n-1')],
  ] as [EventType, Delivery][])('builds a %s body its schema accepts', (type, delivery) => {
    expect(delivery.type).toBe(type);
    expect(parsed(delivery).type).toBe(type);
    expectValid(type, parsed(delivery));
    expect(delivery.id).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('keeps the storage key to itself and names the receiver\'s contact id once it has one', () => {
    const withMedia = parsed(toMessageDelivery(thread, aMessage({ media: { storageKey: 'secret/key', mimeType: 'image/png' } })));
    expect(JSON.stringify(withMedia)).not.toContain('secret/key');
    const linked = parsed(toMessageDelivery({ ...thread, contact: { id: 'crm-77', type: RECEIVER_CONTACT_TYPE } }, aMessage()));
    expect(linked.data.contact).toMatchObject({ id: customer.contactId, waId: '48601234567', e164: '+48601234567', name: 'Anna Nowak', externalId: 'crm-77' });
  });

  it('gives an event the same id and bytes on every attempt, and different events different ids', () => {
    const message = aMessage();
    const a = toMessageDelivery(thread, message);
    const b = toMessageDelivery(thread, { ...message, maybeCreated: true });
    expect(b).toEqual(a);
    expect(toMessageDelivery(thread, aMessage()).id).not.toBe(a.id);
    expect(eventId('message.status', 'r\ndelivered')).not.toBe(eventId('message.status', 'r\nread'));
    expect(toConversationOpenedDelivery(thread).id).toBe(toConversationOpenedDelivery(thread).id);
  });

  it('has each schema file up to date in schemas/', () => {
    const files: [string, unknown][] = [...EVENT_TYPES.map((type) => [`${type}.schema.json`, eventSchema(type)] as [string, unknown]), ['reply.created.schema.json', REPLY_CREATED_SCHEMA]];
    const examples: [string, unknown][] = [...EVENT_TYPES.map((type) => [`${type}.example.json`, EVENT_EXAMPLES[type]] as [string, unknown]), ['reply.created.example.json', REPLY_CREATED_EXAMPLE]];
    for (const [name, content] of [...files, ...examples]) {
      const file = path.join(SCHEMA_DIR, name);
      const text = `${JSON.stringify(content, null, 2)}\n`;
      if (process.env.UPDATE_WEBHOOK_SCHEMAS === '1') writeFileSync(file, text);
      let onDisk = '';
      try {
        onDisk = readFileSync(file, 'utf8');
      } catch {
        // reported below
      }
      expect({ file: name, upToDate: onDisk === text }).toEqual({ file: name, upToDate: true });
    }
  });
});
