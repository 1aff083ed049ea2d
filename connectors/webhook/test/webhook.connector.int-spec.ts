/**
 * Delivery semantics of the webhook connector against a test receiver that checks every
 * signature with its own HMAC: what each answer becomes, ids stable across retries, order per
 * conversation, the contact id a receiver answers, and reply.created parsing.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RawWebhook } from '../../_sdk/contract';
import { ConnectorError } from '../../_sdk/errors';
import { aCustomer, aMessage, aThread, someMessages } from '../../_sdk/testing/builders';
import { createForTest } from '../../_sdk/testing/conformance';
import { oneAtATime } from '../../_sdk/testing/one-at-a-time';
import { ManualClock, testDeps } from '../../_sdk/testing/ports';
import { webhook } from '../index';
import { RECEIVER_CONTACT_TYPE } from '../webhook.mapper';
import { signV1, WebhookReceiver } from './webhook.receiver';

let receiver: WebhookReceiver;
beforeEach(async () => {
  receiver = await WebhookReceiver.start();
});
afterEach(async () => {
  await receiver.close();
});

const connect = (deps = testDeps()) => createForTest(webhook, { credentials: { url: receiver.url, secret: receiver.secret }, settings: {} }, deps).connector;
const customer = aCustomer({ waId: '48601234567' });
const contact = { id: customer.contactId, type: 'threadbridge_contact' };

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('webhook deliveries', () => {
  it('signs each event per Standard Webhooks; a 500 then a 200 leaves one event, both attempts with the same webhook-id', async () => {
    const one = oneAtATime(connect());
    const thread = aThread(customer, contact);
    const [message] = someMessages(1);
    receiver.failNext(500);
    expect((await failure(one.appendMessages(thread, [message]))).kind).toBe('transient');
    const [result] = await one.appendMessages(thread, [{ ...message, maybeCreated: true }]);
    expect(receiver.attempts).toHaveLength(2);
    expect(receiver.attempts[0].id).toBe(receiver.attempts[1].id);
    expect(receiver.attempts[0].raw).toBe(receiver.attempts[1].raw);
    expect(receiver.attempts.map((a) => a.verified)).toEqual([true, true]);
    expect(receiver.events).toHaveLength(1);
    expect(result.remote.id).toBe(receiver.events[0].id);
    expect(Math.abs(receiver.events[0].timestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(receiver.events[0].body).toMatchObject({ type: 'message.received', timestamp: message.timestamp.toISOString(), data: { conversationId: thread.conversationId, message: { id: message.id, wamid: message.wamid, text: message.text } } });
  });

  it('410 → disabled; 400 → invalid_request with the answer kept, numbers and secrets scrubbed; 503 + Retry-After → rate_limited', async () => {
    const one = oneAtATime(connect());
    const thread = aThread(customer, contact);
    receiver.failNext(410);
    expect((await failure(one.appendMessages(thread, someMessages(1)))).kind).toBe('disabled');
    receiver.failNext(400, { body: { error: `unknown field for +48 601 234 567, key ${receiver.secret}` } });
    const refused = await failure(one.appendMessages(thread, someMessages(1)));
    expect(refused.kind).toBe('invalid_request');
    expect(refused.message).toContain('unknown field for');
    expect(refused.message).not.toContain('601');
    expect(refused.message).not.toContain(receiver.secret);
    receiver.failNext(503, { retryAfterSec: 7 });
    expect(await failure(one.appendMessages(thread, someMessages(1)))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000 });
    receiver.failNext(302);
    expect((await failure(one.appendMessages(thread, someMessages(1)))).kind).toBe('invalid_request');
  });

  it('gives up on an event that has failed for more than 3 days (permanent: a dead letter, replayable)', async () => {
    const clock = new ManualClock();
    const one = oneAtATime(connect(testDeps({ clock })));
    const thread = aThread(customer, contact);
    const old = aMessage({ timestamp: new Date(clock.now().getTime() - 3 * 24 * 3600_000 - 60_000) });
    receiver.failNext(502);
    expect((await failure(one.appendMessages(thread, [old]))).kind).toBe('permanent');
    receiver.failNext(502);
    expect((await failure(one.appendMessages(thread, [aMessage({ timestamp: new Date(clock.now().getTime() - 3600_000) })]))).kind).toBe('transient');
    // A replay that gets through is delivered, however old.
    await expect(one.appendMessages(thread, [{ ...old, maybeCreated: true }])).resolves.toHaveLength(1);
  });

  it("takes the receiver's {\"contactId\"} as the customer's link, once", async () => {
    const connector = connect();
    receiver.contactIdFor = () => 'crm-8812';
    const thread = aThread(customer, contact);
    const [first] = await oneAtATime(connector).appendMessages(thread, someMessages(1));
    expect(first.contact).toEqual({ id: 'crm-8812', type: RECEIVER_CONTACT_TYPE });
    const linked = { ...thread, contact: first.contact! };
    const [again] = await oneAtATime(connector).appendMessages(linked, someMessages(1));
    expect(again.contact).toBeUndefined();
    expect(receiver.events[1].body.data.contact).toMatchObject({ id: customer.contactId, externalId: 'crm-8812' });
  });

  it("delivers each conversation's events in its order, conversations side by side", async () => {
    const connector = connect();
    const threads = [aThread(customer, contact), aThread(aCustomer({ waId: '48601234568' }), contact)];
    const batches = threads.map((thread) => ({ thread, messages: someMessages(6) }));
    const results = await connector.timeline!.append(batches);
    expect(results.map((r) => r.messageId)).toEqual(batches.flatMap((b) => b.messages.map((m) => m.id)));
    for (const { thread, messages } of batches) {
      const arrived = receiver.events.filter((e) => e.body.data.conversationId === thread.conversationId).map((e) => (e.body.data.message as { id: string }).id);
      expect(arrived).toEqual(messages.map((m) => m.id));
    }
  });

  it('opens a conversation once: its own ref means sent, another conversation\'s ref (the customer\'s last) does not', async () => {
    const one = oneAtATime(connect());
    const thread = aThread(customer, contact);
    const ref = await one.ensureTicket(thread, { id: 'an-earlier-conversation', type: 'conversation' });
    expect(ref).toEqual({ id: thread.conversationId, type: 'conversation' });
    await one.ensureTicket(thread, ref);
    expect(receiver.ofType('conversation.opened')).toHaveLength(1);
  });

  it('reports reply statuses as message.status, one event per state', async () => {
    const one = oneAtATime(connect());
    await one.reportReplyStatus({ remoteId: 'r-9', remoteThreadId: 'c-1' }, { state: 'sent', at: new Date() });
    await one.reportReplyStatus({ remoteId: 'r-9', remoteThreadId: 'c-1' }, { state: 'sent', at: new Date() });
    await one.reportReplyStatus({ remoteId: 'r-9', remoteThreadId: 'c-1' }, { state: 'delivered', at: new Date() });
    expect(receiver.ofType('message.status').map((e) => e.body.data.state)).toEqual(['sent', 'delivered']);
  });
});

describe('reply.created', () => {
  const request = (body: unknown, secret = receiver.secret, at = new Date()): RawWebhook => {
    const rawBody = Buffer.from(JSON.stringify(body));
    const timestamp = Math.floor(at.getTime() / 1000);
    return {
      method: 'POST',
      url: 'https://threadbridge.example.com/webhooks/connections/c',
      headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signV1(secret, 'msg_1', timestamp, rawBody) },
      rawBody,
      receivedAt: new Date(),
    };
  };
  const reply = { type: 'reply.created', timestamp: new Date().toISOString(), data: { replyId: 'r-1', conversationId: 'conv-1', text: 'Ships today', author: 'Agent Smith' } };

  it('becomes one agent reply keyed by replyId, in the conversation it names', () => {
    const replies = connect().replies!;
    const req = request(reply);
    expect(replies.verify(req)).toBe(true);
    expect(replies.parse(req)).toEqual([{ kind: 'agent_reply', remoteId: 'r-1', remoteThreadId: 'conv-1', text: 'Ships today', author: 'Agent Smith', attachments: [] }]);
  });

  it('is refused unsigned by this secret or older than 5 minutes; other types are ignored; missing fields are named', () => {
    const replies = connect().replies!;
    expect(replies.verify(request(reply, `whsec_${Buffer.alloc(32, 7).toString('base64')}`))).toBe(false);
    expect(replies.verify(request(reply, receiver.secret, new Date(Date.now() - 6 * 60_000)))).toBe(false);
    expect(replies.verify(request(reply, receiver.secret, new Date(Date.now() - 4 * 60_000)))).toBe(true);
    expect(replies.parse(request({ type: 'reply.deleted', data: {} }))).toEqual([]);
    expect(() => replies.parse(request({ type: 'reply.created', data: { replyId: 'r-2', text: '' } }))).toThrow(/conversationId.*text.*author/);
  });
});
