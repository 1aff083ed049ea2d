/**
 * Agent replies through a HubSpot Conversations custom channel, against the fake HubSpot over
 * loopback HTTP: set-up, customer messages published into the inbox, signed agent replies coming
 * back, and their status reported. Outcomes are read back from what the fake holds.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { capabilitiesOf, hasFacet, type CrmConnector, type RawWebhook, type Thread } from '../../_sdk/contract';
import { ConnectorError } from '../../_sdk/errors';
import { aCustomer, aMessage, aThread, someMessages } from '../../_sdk/testing/builders';
import { createForTest, toValidDto } from '../../_sdk/testing/conformance';
import { oneAtATime, type OneAtATime } from '../../_sdk/testing/one-at-a-time';
import { testDeps, type TestDeps } from '../../_sdk/testing/ports';
import { HubspotSettings, hubspot } from '../index';
import { startHubspotFake, type HubspotFake, type HubspotFakeOptions } from './hubspot.fake-server';

const TOKEN = 'hubspot-replies-token';
const APP_SECRET = 'hubspot-replies-app-secret';
const BUSINESS = '+15550100000';

let fake: HubspotFake;
let deps: TestDeps;

/** A local endpoint standing in for threadbridge's webhook route: keeps what HubSpot posts. */
let receiver: http.Server;
let receiverUrl: string;
let received: RawWebhook[];

beforeEach(async () => {
  fake = await startHubspotFake({ accessTokens: [TOKEN], appSecret: APP_SECRET });
  deps = testDeps();
  received = [];
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? 'POST', url: `${receiverUrl}${req.url ?? ''}`, headers: req.headers, rawBody: Buffer.concat(chunks), receivedAt: new Date() });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await fake.close();
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

async function restart(options: HubspotFakeOptions): Promise<void> {
  await fake.close();
  fake = await startHubspotFake({ accessTokens: [TOKEN], appSecret: APP_SECRET, ...options });
}

function build(settings: object = {}, credentials: object = {}): CrmConnector {
  return createForTest(
    hubspot,
    { credentials: { accessToken: TOKEN, baseUrl: fake.url, appSecret: APP_SECRET, appId: fake.app.appId, developerApiKey: fake.app.developerApiKey, ...credentials }, settings },
    deps,
  ).connector;
}

/** A connection's facets, one item at a time. */
function connect(settings: object = {}, credentials: object = {}): OneAtATime {
  return oneAtATime(build(settings, credentials));
}

/** What a connection with these settings can do. */
function capabilitiesFor(settings: HubspotSettings) {
  return capabilitiesOf(hubspot.create({ accessToken: TOKEN, baseUrl: fake.url, appSecret: APP_SECRET }, settings, deps));
}

/** Settings of a connection whose agent replies go through this custom channel. */
function channelSettings(channelId: string, channelAccountId: string): object {
  return { conversations: { enabled: true, channelId, channelAccountId, inboxId: fake.app.inboxId, deliveryIdentifier: BUSINESS } };
}

/** A connection whose custom channel is set up and posts to the local receiver. */
function connectWithChannel(): { connector: OneAtATime; built: CrmConnector; channelId: string; channelAccountId: string } {
  const { channelId, channelAccountId } = fake.seedCustomChannel({ webhookUrl: `${receiverUrl}/webhooks/hubspot/conn-1`, deliveryIdentifier: BUSINESS });
  const built = build(channelSettings(channelId, channelAccountId));
  return { connector: oneAtATime(built), built, channelId, channelAccountId };
}

async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

async function customerThread(connector: OneAtATime, waId = '48601234567'): Promise<Thread> {
  const customer = aCustomer({ waId, profileName: 'Anna Nowak' });
  const contact = await connector.ensureContact(customer);
  const thread = aThread(customer, contact);
  return { ...thread, ticket: await connector.ensureTicket(thread) };
}

const publishes = (): number => fake.requests().filter((r) => r.method === 'POST' && /^\/conversations\/v3\/custom-channels\/[^/]+\/messages$/.test(r.path)).length;

function signed(body: string, options: { secret?: string; at?: Date; url?: string } = {}): RawWebhook {
  const url = options.url ?? 'https://threadbridge.example.com/webhooks/hubspot/conn-1';
  const timestamp = String((options.at ?? new Date()).getTime());
  const signature = createHmac('sha256', options.secret ?? APP_SECRET).update(`POST${url}${body}${timestamp}`).digest('base64');
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp },
    rawBody: Buffer.from(body),
    receivedAt: new Date(),
  };
}

describe('capabilities and settings', () => {
  it('has replies only when the connection enables conversations', () => {
    // Every connection can set replies up (what the manifest's `replies: true` said).
    expect(hasFacet(build(), 'replySetup')).toBe(true);
    expect(capabilitiesFor(toValidDto(HubspotSettings, {})).replies).toBe(false);
    const enabled = toValidDto(HubspotSettings, { conversations: { enabled: true, channelId: '1', channelAccountId: '2', deliveryIdentifier: BUSINESS } });
    expect(capabilitiesFor(enabled)).toMatchObject({ replies: true, tickets: true });
  });

  it('refuses enabled conversations without a channel, account or E.164 business number', () => {
    /** The properties of settings.conversations the DTO refuses. */
    const refused = (conversations: object): string[] =>
      validateSync(plainToInstance(HubspotSettings, { conversations }), { forbidUnknownValues: false }).flatMap((e) => (e.children ?? []).map((c) => c.property));
    expect(refused({ enabled: true, channelAccountId: '2', deliveryIdentifier: BUSINESS })).toEqual(['channelId']);
    expect(refused({ enabled: true, channelId: '1', deliveryIdentifier: BUSINESS })).toEqual(['channelAccountId']);
    expect(refused({ enabled: true, channelId: '1', channelAccountId: '2', deliveryIdentifier: '555 0100' })).toEqual(['deliveryIdentifier']);
    expect(refused({ enabled: true, channelId: '1', channelAccountId: '2' })).toEqual(['deliveryIdentifier']);
    expect(refused({ enabled: false, inboxId: 'inbox', deliveryIdentifier: BUSINESS })).toEqual(['inboxId']);
    expect(refused({ inboxId: '147959634', deliveryIdentifier: BUSINESS })).toEqual([]);
  });

  it('declares the developer app from the environment', () => {
    expect(hubspot.fromEnv!({ HUBSPOT_ACCESS_TOKEN: 't', HUBSPOT_APP_SECRET: 's', HUBSPOT_APP_ID: '42', HUBSPOT_DEVELOPER_API_KEY: 'k' })).toMatchObject({
      credentials: { accessToken: 't', appSecret: 's', appId: '42', developerApiKey: 'k' },
    });
    // The app's variables without the token declare nothing usable: the boot is told which is missing.
    expect(hubspot.fromEnv!({ HUBSPOT_APP_SECRET: 's' })).toEqual({ missing: ['HUBSPOT_ACCESS_TOKEN'] });
  });
});

describe('setUpReplies', () => {
  const pending = { inboxId: '147959634', deliveryIdentifier: BUSINESS };

  it('registers the channel on the app with the callback URL, connects the inbox, and returns the settings to store', async () => {
    const callbackUrl = `${receiverUrl}/webhooks/hubspot/conn-9`;
    const result = await connect({ conversations: pending }).setUpReplies(callbackUrl);

    const [channel, ...moreChannels] = fake.customChannels();
    expect(moreChannels).toEqual([]);
    expect(channel).toMatchObject({ webhookUrl: callbackUrl, appId: Number(fake.app.appId), name: 'WhatsApp (threadbridge)' });
    expect(channel.capabilities).toMatchObject({ deliveryIdentifierTypes: ['HS_PHONE_NUMBER'], threadingModel: 'INTEGRATION_THREAD_ID', allowOutgoingMessages: true });
    expect(fake.channelAccounts()).toEqual([expect.objectContaining({ channelId: channel.id, inboxId: '147959634', deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: BUSINESS }, authorized: true })]);
    expect(result).toEqual({
      settings: { conversations: { enabled: true, channelId: channel.id, channelAccountId: fake.channelAccounts()[0].id, inboxId: '147959634', deliveryIdentifier: BUSINESS } },
    });
    // The registration is authenticated by the developer key in the query, the account by the token.
    const registration = fake.requests().find((r) => r.path === '/conversations/v3/custom-channels')!;
    expect(registration.query).toEqual({ hapikey: fake.app.developerApiKey, appId: fake.app.appId });
    expect(deps.budget.calls).toBe(fake.requestCount());
    expect(deps.logger.text()).not.toContain(fake.app.developerApiKey);

    // The stored settings validate and switch replies on.
    const stored = toValidDto(HubspotSettings, result.settings!);
    expect(capabilitiesFor(stored).replies).toBe(true);
  });

  it('names what is missing before calling HubSpot', async () => {
    const error = await rejection(connect({ conversations: { inboxId: '147959634' } }, { developerApiKey: undefined }).setUpReplies(receiverUrl));
    expect(error).toMatchObject({ kind: 'invalid_request' });
    expect(error.message).toContain('settings.conversations.deliveryIdentifier');
    expect(error.message).toContain('credentials.developerApiKey');
    expect(fake.requestCount()).toBe(0);
  });

  it('a wrong developer API key is auth, and nothing is registered', async () => {
    const error = await rejection(connect({ conversations: pending }, { developerApiKey: 'not-the-key' }).setUpReplies(receiverUrl));
    expect(error).toMatchObject({ kind: 'auth', vendorStatus: 401 });
    expect(fake.customChannels()).toEqual([]);
  });

  it('when the inbox cannot be connected, says which channel was registered, and a re-run with it registers no second one', async () => {
    const error = await rejection(connect({ conversations: { ...pending, inboxId: '999' } }).setUpReplies(receiverUrl));
    const [channel] = fake.customChannels();
    expect(error).toMatchObject({ kind: 'invalid_request', vendorStatus: 400 });
    expect(error.message).toContain(`custom channel ${channel.id} was registered`);

    const result = await connect({ conversations: { ...pending, channelId: channel.id } }).setUpReplies(receiverUrl);
    expect(fake.customChannels()).toHaveLength(1);
    expect(result.settings).toMatchObject({ conversations: { enabled: true, channelId: channel.id } });
    expect(fake.channelAccounts()).toHaveLength(1);
  });
});

describe('customer messages in the inbox', () => {
  it('publishes each customer message into its conversation thread, besides logging it, one call per message', async () => {
    const { connector, channelAccountId } = connectWithChannel();
    const thread = await customerThread(connector);
    const messages = [...someMessages(3), aMessage({ direction: 'outbound', text: 'sent from elsewhere', author: 'Bob' })];
    const before = publishes();

    await connector.appendMessages(thread, messages);

    expect(fake.communications()).toHaveLength(4);
    expect(publishes() - before).toBe(3);
    const inbox = fake.channelMessages(thread.conversationId);
    expect(inbox.map((m) => m.text)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(inbox[0]).toMatchObject({
      direction: 'INCOMING',
      channelAccountId,
      integrationThreadId: thread.conversationId,
      integrationIdempotencyId: messages[0].id,
      senders: [{ name: 'Anna Nowak', deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+48601234567' } }],
      recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: BUSINESS } }],
      timestamp: messages[0].timestamp.toISOString(),
    });
    expect(new Set(inbox.map((m) => m.conversationsThreadId)).size).toBe(1);
    expect(fake.channelThreads()).toEqual([expect.objectContaining({ integrationThreadId: thread.conversationId, contactId: thread.contact.id })]);
  });

  it('a retry publishes nothing twice (HubSpot keeps one message per idempotency id)', async () => {
    const { connector } = connectWithChannel();
    const thread = await customerThread(connector);
    const messages = someMessages(3);
    await connector.appendMessages(thread, messages);
    await connector.appendMessages(thread, messages.map((m) => ({ ...m, maybeCreated: true })));
    expect(fake.channelMessages(thread.conversationId)).toHaveLength(3);
    expect(fake.communications()).toHaveLength(3);
  });

  it('keeps conversations apart: one inbox thread per WhatsApp conversation, in one appendToThreads call', async () => {
    const { connector, built } = connectWithChannel();
    const first = await customerThread(connector, '48601234567');
    const second = await customerThread(connector, '48601234568');
    if (!hasFacet(built, 'timeline')) throw new Error('a HubSpot connection has a timeline');
    await built.timeline.append([
      { thread: first, messages: someMessages(2) },
      { thread: second, messages: someMessages(1) },
    ]);
    expect(fake.channelMessages(first.conversationId)).toHaveLength(2);
    expect(fake.channelMessages(second.conversationId)).toHaveLength(1);
    expect(fake.channelThreads()).toHaveLength(2);
  });

  it('attaches media with the file uploaded for the communication (one upload)', async () => {
    const { connector } = connectWithChannel();
    const thread = await customerThread(connector);
    deps.media.put('m/photo.jpg', Buffer.from('jpeg bytes'));
    const photo = aMessage({ type: 'image', text: '', media: { storageKey: 'm/photo.jpg', mimeType: 'image/jpeg', filename: 'photo.jpg' } });
    await connector.appendMessages(thread, [photo]);
    const [file, ...moreFiles] = fake.files();
    expect(moreFiles).toEqual([]);
    const [message] = fake.channelMessages(thread.conversationId);
    expect(message.attachments).toEqual([expect.objectContaining({ type: 'FILE', fileId: file.id, fileUsageType: 'IMAGE' })]);
    expect(message.text).toBe('[image]');
  });

  it('publishes nothing when conversations are disabled', async () => {
    fake.seedCustomChannel({ webhookUrl: receiverUrl });
    const connector = connect();
    const thread = await customerThread(connector);
    await connector.appendMessages(thread, someMessages(2));
    expect(publishes()).toBe(0);
    expect(fake.communications()).toHaveLength(2);
  });

  it('a channel account HubSpot does not know is invalid_request', async () => {
    const { channelId } = fake.seedCustomChannel({ webhookUrl: receiverUrl });
    const connector = connect({ conversations: { enabled: true, channelId, channelAccountId: '424242', deliveryIdentifier: BUSINESS } });
    const thread = await customerThread(connector);
    await expect(rejection(connector.appendMessages(thread, someMessages(1)))).resolves.toMatchObject({ kind: 'invalid_request', vendorStatus: 400 });
  });
});

describe('agent replies from the inbox', () => {
  it('an agent reply arrives signed (v3) and becomes an agent reply on the conversation', async () => {
    const { connector } = connectWithChannel();
    const thread = await customerThread(connector);
    await connector.appendMessages(thread, someMessages(1));

    const { message, delivery } = await fake.agentReply(thread.conversationId, { text: 'Your parcel ships today.', senderName: 'Maria Agent' });

    expect(delivery.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(connector.verifyWebhook(received[0])).toBe(true);
    expect(connector.parseWebhook(received[0])).toEqual([
      { kind: 'agent_reply', remoteId: message.id, remoteThreadId: thread.conversationId, text: 'Your parcel ships today.', author: 'Maria Agent', attachments: [] },
    ]);
  });

  it('reads an array of events, and keeps attachments that carry a URL or a file id', async () => {
    await restart({ channelWebhookEnvelope: 'array' });
    const { connector } = connectWithChannel();
    const thread = await customerThread(connector);
    await connector.appendMessages(thread, someMessages(1));
    const { message } = await fake.agentReply(thread.conversationId, {
      text: 'The manual',
      attachments: [{ name: 'manual.pdf', url: 'https://files.example.com/manual.pdf' }, { name: 'no-url.pdf', fileId: '77' }],
    });
    expect(received[0].rawBody.toString().startsWith('[')).toBe(true);
    expect(connector.verifyWebhook(received[0])).toBe(true);
    expect(connector.parseWebhook(received[0])).toEqual([
      expect.objectContaining({
        remoteId: message.id,
        attachments: [
          { url: 'https://files.example.com/manual.pdf', filename: 'manual.pdf' },
          { remoteId: '77', filename: 'no-url.pdf' },
        ],
      }),
    ]);
  });

  it('refuses a tampered body, a stale or future timestamp, another secret, and a connection without appSecret', async () => {
    const { connector, channelId, channelAccountId } = connectWithChannel();
    const thread = await customerThread(connector);
    await connector.appendMessages(thread, someMessages(1));
    await fake.agentReply(thread.conversationId, { text: 'hello' });
    const real = received[0];
    const body = real.rawBody.toString();

    expect(connector.verifyWebhook(real)).toBe(true);
    expect(connector.verifyWebhook({ ...real, rawBody: Buffer.from(body.replace('hello', 'hellO')) })).toBe(false);
    expect(connector.verifyWebhook({ ...real, method: 'PUT' })).toBe(false);
    expect(connector.verifyWebhook({ ...real, url: `${real.url}?x=1` })).toBe(false);
    expect(connector.verifyWebhook(signed(body))).toBe(true);
    expect(connector.verifyWebhook(signed(body, { at: new Date(Date.now() - 4 * 60_000) }))).toBe(true);
    expect(connector.verifyWebhook(signed(body, { at: new Date(Date.now() - 6 * 60_000) }))).toBe(false);
    expect(connector.verifyWebhook(signed(body, { at: new Date(Date.now() + 2 * 60_000) }))).toBe(false);
    expect(connector.verifyWebhook(signed(body, { secret: 'another-app-secret' }))).toBe(false);
    const { 'x-hubspot-signature-v3': _dropped, ...unsigned } = real.headers;
    expect(connector.verifyWebhook({ ...real, headers: unsigned })).toBe(false);
    expect(connect(channelSettings(channelId, channelAccountId), { appSecret: undefined }).verifyWebhook(real)).toBe(false);
  });

  it('checks the URI as HubSpot signs it, with escapes like %3A decoded', () => {
    const { connector } = connectWithChannel();
    const decoded = 'https://threadbridge.example.com/webhooks/hubspot/conn-1?next=https://x.example/a:b';
    const request = signed('[]', { url: decoded });
    expect(connector.verifyWebhook({ ...request, url: 'https://threadbridge.example.com/webhooks/hubspot/conn-1?next=https%3A%2F%2Fx.example%2Fa%3Ab' })).toBe(true);
  });

  it('ignores messages published from WhatsApp, other event types and other channels (no echo)', () => {
    const { connector, channelId } = connectWithChannel();
    const message = { id: 'm1', direction: 'OUTGOING', channelId, text: 'hi', senders: [{ name: 'A' }] };
    const events = [
      { type: 'OUTGOING_CHANNEL_MESSAGE_CREATED', message: { ...message, id: 'm0', direction: 'INCOMING' } },
      { type: 'CHANNEL_ACCOUNT_CREATED', message },
      { type: 'OUTGOING_CHANNEL_MESSAGE_CREATED', channelId: 'another', message: { ...message, id: 'm2', channelId: 'another' } },
      { type: 'OUTGOING_CHANNEL_MESSAGE_CREATED', message },
    ];
    expect(connector.parseWebhook(signed(JSON.stringify(events))).map((e) => e.remoteId)).toEqual(['m1']);
  });

  it('a body that is not JSON is invalid_request', () => {
    const { connector } = connectWithChannel();
    expect(() => connector.parseWebhook(signed('{"type": "OUTGOING_CHANNEL_'))).toThrow(expect.objectContaining({ kind: 'invalid_request' }));
  });
});

describe('downloadAttachment', () => {
  /** A file an agent put in the file manager: its id and URL. */
  async function agentFile(bytes: Buffer, name: string, mimeType: string): Promise<{ id: string; url: string }> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: mimeType }), name);
    form.append('folderPath', '/conversations');
    form.append('options', JSON.stringify({ access: 'PRIVATE' }));
    const res = await fetch(`${fake.url}/files/v3/files`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: form });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; url: string };
  }

  it('fetches a file by its id through a signed URL, or by the URL the event gave', async () => {
    const { connector } = connectWithChannel();
    const bytes = Buffer.from('%PDF-1.7 invoice');
    const file = await agentFile(bytes, 'invoice.pdf', 'application/pdf');
    const byId = await connector.downloadAttachment({ remoteId: file.id }, { maxBytes: 1_000 });
    expect(byId).toMatchObject({ status: 'ok', mimeType: 'application/pdf', filename: 'invoice.pdf' });
    expect(byId.status === 'ok' && byId.bytes.equals(bytes)).toBe(true);
    expect(fake.requests().some((r) => r.path === `/files/v3/files/${file.id}/signed-url`)).toBe(true);
    const byUrl = await connector.downloadAttachment({ url: file.url, filename: 'mine.pdf' }, { maxBytes: 1_000 });
    expect(byUrl).toMatchObject({ status: 'ok', filename: 'mine.pdf' });
  });

  it('answers too_large past maxBytes; an unknown file is not_found', async () => {
    const { connector } = connectWithChannel();
    const file = await agentFile(Buffer.alloc(3_000), 'photo.png', 'image/png');
    await expect(connector.downloadAttachment({ remoteId: file.id }, { maxBytes: 2_999 })).resolves.toEqual({ status: 'too_large', sizeBytes: 3_000, mimeType: 'image/png' });
    await expect(rejection(connector.downloadAttachment({ remoteId: '999999' }, { maxBytes: 10 }))).resolves.toMatchObject({ kind: 'not_found' });
  });

  it('sends the token to no other host, neither asked directly nor redirected there', async () => {
    const { connector, channelId, channelAccountId } = connectWithChannel();
    const seen: (string | undefined)[] = [];
    const elsewhere = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('public');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    // Stands in for the API host answering a file URL with a redirect to a CDN.
    const redirecting = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(302, { location: `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/cdn/a.txt` }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const direct = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/files/a.txt`;
      await expect(connector.downloadAttachment({ url: direct }, { maxBytes: 10 })).resolves.toMatchObject({ status: 'ok', mimeType: 'text/plain' });
      expect(seen).toEqual([undefined]);
      seen.length = 0;
      const viaApiHost = connect(channelSettings(channelId, channelAccountId), { baseUrl: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}` });
      await expect(viaApiHost.downloadAttachment({ url: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/files/b.txt` }, { maxBytes: 10 })).resolves.toMatchObject({ status: 'ok' });
      // The API host got the token; the host it redirected to did not.
      expect(seen).toEqual([`Bearer ${TOKEN}`, undefined]);
    } finally {
      for (const server of [elsewhere, redirecting]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
  });
});

describe('reportReplyStatus', () => {
  it('records SENT, READ and FAILED with the reason on the agent’s message', async () => {
    const { connector } = connectWithChannel();
    const thread = await customerThread(connector);
    await connector.appendMessages(thread, someMessages(1));
    await fake.agentReply(thread.conversationId, { text: 'Your order ships today.' });
    const [reply] = connector.parseWebhook(received[0]);
    const ref = { remoteId: reply.remoteId, remoteThreadId: reply.remoteThreadId };

    await connector.reportReplyStatus(ref, { state: 'sent', at: new Date() });
    await connector.reportReplyStatus(ref, { state: 'delivered', at: new Date() });
    await connector.reportReplyStatus(ref, { state: 'read', at: new Date() });
    expect(fake.messageStatuses(reply.remoteId).map((u) => u.statusType)).toEqual(['SENT', 'SENT', 'READ']);

    const detail = 'more than 24 hours since the customer last wrote and no approved template is configured for this connection. Ask the customer to write again.';
    await connector.reportReplyStatus(ref, { state: 'refused', detail, at: new Date() });
    await connector.reportReplyStatus(ref, { state: 'failed', at: new Date() });
    expect(fake.messageStatuses(reply.remoteId).slice(3)).toEqual([
      expect.objectContaining({ statusType: 'FAILED', errorMessage: detail }),
      expect.objectContaining({ statusType: 'FAILED', errorMessage: 'WhatsApp could not deliver this message. Send it again later.' }),
    ]);
    const [stored] = fake.channelMessages(thread.conversationId).filter((m) => m.direction === 'OUTGOING');
    expect(stored.status).toEqual({ statusType: 'FAILED', failureDetails: { errorMessage: 'WhatsApp could not deliver this message. Send it again later.' } });
  });

  it('reports a reply\'s statuses given in one batch in their order', async () => {
    const { connector, built } = connectWithChannel();
    const thread = await customerThread(connector);
    await connector.appendMessages(thread, someMessages(1));
    await fake.agentReply(thread.conversationId, { text: 'first' });
    await fake.agentReply(thread.conversationId, { text: 'second' });
    const [first, second] = received.flatMap((r) => connector.parseWebhook(r)).map((e) => ({ remoteId: e.remoteId, remoteThreadId: e.remoteThreadId }));
    if (!hasFacet(built, 'replies')) throw new Error('a connection with a custom channel has replies');
    fake.hang(300); // the first update answers late
    await built.replies.reportStatus([
      { reply: first, status: { state: 'sent', at: new Date() } },
      { reply: second, status: { state: 'sent', at: new Date() } },
      { reply: first, status: { state: 'read', at: new Date() } },
      { reply: first, status: { state: 'failed', at: new Date() } },
      { reply: second, status: { state: 'read', at: new Date() } },
    ]);
    expect(fake.messageStatuses(first.remoteId).map((u) => u.statusType)).toEqual(['SENT', 'READ', 'FAILED']);
    expect(fake.messageStatuses(second.remoteId).map((u) => u.statusType)).toEqual(['SENT', 'READ']);
  });

  it('an unknown message is not_found; a connection without a channel has no replies', async () => {
    const { connector } = connectWithChannel();
    await expect(rejection(connector.reportReplyStatus({ remoteId: 'no-such-message' }, { state: 'sent', at: new Date() }))).resolves.toMatchObject({ kind: 'not_found', vendorStatus: 404 });
    expect(hasFacet(build(), 'replies')).toBe(false);
  });

  it('a 429 on the status update is rate_limited with Retry-After, and a hang is transient after the timeout', async () => {
    const { channelId, channelAccountId } = fake.seedCustomChannel({ webhookUrl: receiverUrl });
    const settings = { conversations: { enabled: true, channelId, channelAccountId, deliveryIdentifier: BUSINESS } };
    fake.failNext(429, { retryAfterSec: 3 });
    await expect(rejection(connect(settings).reportReplyStatus({ remoteId: 'm' }, { state: 'read', at: new Date() }))).resolves.toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 3000,
    });
    deps = testDeps({ timeoutMs: 300 });
    fake.hang(3_000);
    const started = Date.now();
    await expect(rejection(connect(settings).reportReplyStatus({ remoteId: 'm' }, { state: 'read', at: new Date() }))).resolves.toMatchObject({ kind: 'transient' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
