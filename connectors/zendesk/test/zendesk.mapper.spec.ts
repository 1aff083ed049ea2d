/**
 * Pure Zendesk mapping rules, table-driven over connectors/zendesk/fixtures/*.json.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AgentReplyEvent, MediaRef, Thread, UnifiedMessage } from '../../_sdk/contract';
import { aCustomer, aMessage, aThread } from '../../_sdk/testing/builders';
import { resolveZendeskSettings } from '../zendesk.credentials';
import {
  commentMetadata,
  compactMessageId,
  decideReplyNote,
  decideTicketAction,
  findWrittenMessages,
  fromZendeskWebhook,
  hasReplyStatusNote,
  mediaFilename,
  holdsNumber,
  phoneSearchQuery,
  pickCustomerUser,
  planComments,
  renderCommentBody,
  renderReplyStatusNote,
  renderSubject,
  toZendeskNewTicket,
  toZendeskUser,
  type WebhookContext,
} from '../zendesk.mapper';
import type { ZendeskAudit, ZendeskUser } from '../zendesk.types';
import { signZendeskWebhook, toZendeskReplyTrigger, TRIGGER_WEBHOOK_BODY, verifyZendeskSignature } from '../zendesk.webhooks';
import { renderTriggerBody, type FakeComment, type FakeTicket, type FakeUser } from './zendesk.fake-server';

const FIXTURES = path.resolve(process.cwd(), 'connectors/zendesk/fixtures');
const fixtures = <T>(prefix: string): [string, T][] =>
  readdirSync(FIXTURES)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as T]);

// ---------------------------------------------------------------------------------------------

interface CommentFixture {
  description: string;
  coalesceMs: number;
  timeZone: string;
  start: string;
  uploaded?: string[];
  messages: { id: string; direction: 'inbound' | 'outbound'; offsetMs: number; text: string; author?: string; type?: string; media?: MediaRef }[];
  expected: { public: boolean; messageIds: string[]; body: string }[];
}

describe('comment planning and rendering (fixtures/comments-*.json)', () => {
  it.each(fixtures<CommentFixture>('comments-'))('%s', (_file, fx) => {
    const start = Date.parse(fx.start);
    const messages: UnifiedMessage[] = fx.messages.map((m) =>
      aMessage({ id: m.id, direction: m.direction, text: m.text, author: m.author, type: m.type ?? 'text', media: m.media, timestamp: new Date(start + m.offsetMs) }),
    );
    const plans = planComments(messages, { coalesceMs: fx.coalesceMs });
    const uploaded = new Set(fx.uploaded ?? []);
    expect(plans.map((p) => ({ public: p.public, messageIds: p.messages.map((m) => m.id), body: renderCommentBody(p, fx.timeZone, uploaded) }))).toEqual(fx.expected);
  });

  it('caps a comment at 40 messages (the audit metadata lists their ids)', () => {
    const start = Date.now();
    const burst = Array.from({ length: 50 }, (_, i) => aMessage({ timestamp: new Date(start + i * 10) }));
    expect(planComments(burst, { coalesceMs: 2000 }).map((p) => p.messages.length)).toEqual([40, 10]);
  });

  it('caps a comment by text size', () => {
    const start = Date.now();
    const long = Array.from({ length: 4 }, (_, i) => aMessage({ text: 'x'.repeat(12_000), timestamp: new Date(start + i) }));
    expect(planComments(long, { coalesceMs: 2000 }).map((p) => p.messages.length)).toEqual([2, 2]);
  });
});

// ---------------------------------------------------------------------------------------------

interface WebhookFixture {
  description: string;
  context: WebhookContext;
  payload: unknown;
  expected: AgentReplyEvent[] | null;
  throws?: string;
}

describe('webhook parsing (fixtures/webhook-*.json)', () => {
  it.each(fixtures<WebhookFixture>('webhook-'))('%s', (_file, fx) => {
    if (fx.throws) {
      expect(() => fromZendeskWebhook(fx.payload, fx.context)).toThrow(expect.objectContaining({ kind: fx.throws }));
    } else {
      expect(fromZendeskWebhook(fx.payload, fx.context)).toEqual(fx.expected);
    }
  });

  it.each([0, 1, 2])('the trigger body we prescribe renders to valid JSON (%i attachments) that parses into a reply', (count) => {
    const ticket = { id: 7, external_id: 'whatsapp-conversation:c', subject: 's', status: 'open', requester_id: 3 } as FakeTicket;
    const attachments = Array.from({ length: count }, (_, i) => ({ id: i, file_name: `f"${i}.pdf`, content_url: `https://z.example/a/${i}`, content_type: 'application/pdf', size: 1 }));
    const comment = { id: 9, author_id: 2, body: 'Line "one"\nline \\two', public: true, attachments } as unknown as FakeComment;
    const author = { id: 2, name: 'Agent Smith', role: 'agent' } as FakeUser;
    const parsed = JSON.parse(renderTriggerBody(TRIGGER_WEBHOOK_BODY, ticket, comment, author)) as unknown;
    expect(fromZendeskWebhook(parsed, {})).toEqual([
      {
        kind: 'agent_reply',
        remoteId: '9',
        remoteThreadId: '7',
        remoteContactId: '3',
        text: 'Line "one"\nline \\two',
        author: 'Agent Smith',
        attachments: attachments.map((a) => ({ url: a.content_url, filename: a.file_name })),
      },
    ]);
    expect(TRIGGER_WEBHOOK_BODY).toContain('{{ticket.latest_comment.id}}');
  });

  it('the trigger fires only on public comments by staff, not through the API, on tagged tickets', () => {
    const trigger = toZendeskReplyTrigger('01HWEBHOOK', 'whatsapp');
    expect(trigger.conditions.all).toEqual(
      expect.arrayContaining([
        { field: 'comment_is_public', operator: 'is', value: 'true' },
        { field: 'role', operator: 'is_not', value: 'end_user' },
        { field: 'current_via_id', operator: 'is_not', value: '5' },
        { field: 'current_tags', operator: 'includes', value: 'whatsapp' },
      ]),
    );
    expect(trigger.actions).toEqual([{ field: 'notification_webhook', value: ['01HWEBHOOK', TRIGGER_WEBHOOK_BODY] }]);
  });
});

describe('webhook signatures', () => {
  const secret = 'dGhyZWFkYnJpZGdl';
  const body = Buffer.from('{"threadbridge":1}');
  const check = (timestamp: string, signature: string, receivedAt = new Date('2026-03-01T12:00:30Z')) =>
    verifyZendeskSignature({ secret, signature, timestamp, rawBody: body, receivedAt });

  it.each([
    ['ISO timestamp 30 s old', '2026-03-01T12:00:00Z', true],
    ['epoch seconds', String(Date.parse('2026-03-01T12:00:00Z') / 1000), true],
    ['4:59 old', '2026-03-01T11:55:31Z', true],
    ['5:01 old', '2026-03-01T11:55:29Z', false],
    ['59 s ahead', '2026-03-01T12:01:29Z', true],
    ['61 s ahead', '2026-03-01T12:01:31Z', false],
    ['unreadable timestamp', 'yesterday', false],
  ])('%s → %s', (_name, timestamp, accepted) => {
    expect(check(timestamp, signZendeskWebhook(secret, timestamp, body))).toBe(accepted);
  });

  it('is base64 HMAC-SHA256 over timestamp + body', () => {
    // Computed independently: printf '%s' '2026-03-01T12:00:00Z{"threadbridge":1}' | openssl dgst -sha256 -hmac dGhyZWFkYnJpZGdl -binary | base64
    expect(signZendeskWebhook(secret, '2026-03-01T12:00:00Z', body)).toBe('gpkSKynvbtaxmVULmlL3bvVZgZREZQCHogcB94hV2xk=');
  });

  it('refuses signatures of another length or content, and a missing secret', () => {
    const ts = '2026-03-01T12:00:00Z';
    const good = signZendeskWebhook(secret, ts, body);
    expect(check(ts, good.slice(0, -2))).toBe(false);
    expect(check(ts, `${good.slice(0, -2)}A=`)).toBe(false);
    expect(verifyZendeskSignature({ secret: undefined, signature: good, timestamp: ts, rawBody: body, receivedAt: new Date('2026-03-01T12:00:30Z') })).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('subjects and tickets', () => {
  const thread = (profileName?: string): Thread => aThread(aCustomer({ waId: '48601234567', profileName }), { id: '1000003', type: 'user' }, { businessNumber: '+1 555 010 0000' });

  it.each([
    ['WhatsApp: {{name}} ({{phone}})', 'Anna Nowak', 'WhatsApp: Anna Nowak (+48601234567)'],
    ['WhatsApp: {{name}} ({{phone}})', undefined, 'WhatsApp: +48601234567 (+48601234567)'],
    ['{{ name }} via {{businessNumber}} [{{waId}}]', 'Anna', 'Anna via +1 555 010 0000 [48601234567]'],
    ['{{unknown}}{{name}}', 'Anna', 'Anna'],
    ['{{unknown}}', 'Anna', 'WhatsApp +48601234567'],
  ])('%j with name %j → %j', (template, name, subject) => {
    expect(renderSubject(template, thread(name))).toBe(subject);
  });

  it('builds the ticket from the settings, with a private first note', () => {
    const t = thread('Anna');
    const settings = resolveZendeskSettings({ groupId: 5, priority: 'urgent', customFields: [{ id: 9, value: true }] });
    expect(toZendeskNewTicket(t, 1000003, settings, { followUpOf: 12 })).toMatchObject({
      subject: 'WhatsApp: Anna (+48601234567)',
      requester_id: 1000003,
      external_id: `whatsapp-conversation:${t.conversationId}`,
      tags: ['whatsapp'],
      group_id: 5,
      priority: 'urgent',
      custom_fields: [{ id: 9, value: true }],
      via_followup_source_id: 12,
      comment: { public: false },
    });
  });

  const now = new Date('2026-03-02T12:00:00Z');
  it.each([
    ['new', '2026-01-01T00:00:00Z', 'keep'],
    ['open', '2026-01-01T00:00:00Z', 'keep'],
    ['pending', '2026-03-02T11:00:00Z', 'keep'],
    ['hold', '2026-03-02T11:00:00Z', 'keep'],
    ['solved', '2026-03-01T12:00:00Z', 'reopen'],
    ['solved', '2026-03-01T11:59:59Z', 'new'],
    ['closed', '2026-03-02T11:59:00Z', 'new'],
  ] as const)('a %s ticket updated %s → %s (24 h window)', (status, updatedAt, action) => {
    expect(decideTicketAction({ status, updated_at: updatedAt }, now, 24)).toBe(action);
  });
});

describe('users', () => {
  it('creates the customer with external_id, phone and a phone_number identity', () => {
    expect(toZendeskUser(aCustomer({ waId: '48601234567', profileName: '  Anna  ' }))).toEqual({
      name: 'Anna',
      external_id: 'whatsapp:48601234567',
      phone: '+48601234567',
      role: 'end-user',
      identities: [{ type: 'phone_number', value: '+48601234567' }],
    });
  });

  it('searches end users for the national number with a leading asterisk, in digits only, as Zendesk documents', () => {
    expect(phoneSearchQuery('+48601234567')).toBe('role:end-user phone:*601234567');
    expect(phoneSearchQuery('+16505551234')).toBe('role:end-user phone:*6505551234');
    // The trunk 0 of "07400 123456" is not part of the national number: that form ends with it too.
    expect(phoneSearchQuery('+447400123456')).toBe('role:end-user phone:*7400123456');
    expect(phoneSearchQuery('not a phone')).toBeUndefined();
  });

  it('tells the number in any written form from another country’s number with the same digits at the end', () => {
    for (const typed of ['+48 601 234 567', '601 234 567', '601-234-567', '0048601234567', '48601234567', '+48-601-234-567']) {
      expect(holdsNumber(typed, '+48601234567')).toBe(true);
    }
    expect(holdsNumber('(650) 555-1234', '+16505551234')).toBe(true);
    expect(holdsNumber('+1 (650) 555-1234', '+16505551234')).toBe(true);
    expect(holdsNumber('+33 6 01 23 45 67', '+48601234567')).toBe(false);
    expect(holdsNumber(null, '+48601234567')).toBe(false);
  });

  it('picks the oldest active end user; never an agent or a deleted user', () => {
    const user = (id: number, role: ZendeskUser['role'], active = true): ZendeskUser => ({ id, name: `u${id}`, role, active });
    expect(pickCustomerUser([user(9, 'end-user'), user(3, 'end-user'), user(1, 'agent')])?.id).toBe(3);
    expect(pickCustomerUser([user(1, 'admin'), user(2, 'end-user', false)])).toBeUndefined();
  });
});

describe('idempotency markers', () => {
  it('stores UUIDs compactly (22 characters) and other ids as they are', () => {
    expect(compactMessageId('6b0f2d5e-1b1e-4a53-9c0d-5d1f3c2a7e10')).toHaveLength(22);
    expect(compactMessageId('msg-1')).toBe('msg-1');
  });

  it('finds written messages by audit metadata, then by exact line for maybeCreated ones', () => {
    const t = new Date('2026-03-01T09:00:00Z');
    const a = aMessage({ text: 'first', timestamp: t });
    const b = aMessage({ text: 'second', timestamp: t, maybeCreated: true });
    const c = aMessage({ text: 'third', timestamp: t, maybeCreated: true });
    const d = aMessage({ text: 'second', timestamp: t, maybeCreated: false });
    const audits: ZendeskAudit[] = [
      { id: 71, ticket_id: 1, author_id: 1, created_at: '', metadata: { custom: commentMetadata([a]) }, events: [{ id: 51, type: 'Comment', body: '[09:00:00] first', public: true }] },
      { id: 72, ticket_id: 1, author_id: 1, created_at: '', events: [{ id: 52, type: 'Comment', body: '[09:00:00] second', public: true }] },
      { id: 73, ticket_id: 1, author_id: 1, created_at: '', events: [{ id: 53, type: 'Comment', body: '[09:00:00] third', public: false }] },
    ];
    const written = findWrittenMessages(audits, [a, b, c, d], 'UTC');
    expect(Object.fromEntries([...written].map(([id, w]) => [id, w.commentId]))).toEqual({ [a.id]: 51, [b.id]: 52 });
  });
});

describe('reply status notes', () => {
  it.each([
    ['sent', false, 'none'],
    ['delivered', false, 'none'],
    ['delivered', true, 'note'],
    ['read', true, 'none'],
    ['failed', false, 'note'],
    ['refused', false, 'note'],
  ] as const)('%s (reportDelivered %s) → %s', (state, reportDelivered, decision) => {
    expect(decideReplyNote({ state }, { reportDelivered })).toBe(decision);
  });

  it('says what happened and ends with a marker naming the reply and the state', () => {
    const note = renderReplyStatusNote({ remoteId: '42' }, { state: 'refused', detail: '  Not sent on WhatsApp: the customer opted out.  ', at: new Date() }, 'UTC');
    expect(note).toBe('Not sent on WhatsApp: the customer opted out.\n\n(threadbridge: reply comment 42, status refused)');
    // The core's message is the note: never a second "not delivered" in front of it.
    expect(note.match(/on WhatsApp/g)).toHaveLength(1);
  });

  it('finds an earlier note by metadata key or by the marker in an internal note, not in a public comment', () => {
    const reply = { remoteId: '42' };
    const audit = (extra: Partial<ZendeskAudit>): ZendeskAudit => ({ id: 1, ticket_id: 1, author_id: 1, created_at: '', events: [], ...extra });
    const marker = '(threadbridge: reply comment 42, status failed)';
    expect(hasReplyStatusNote([audit({ metadata: { custom: { threadbridge: { r: '42:failed' } } } })], reply, { state: 'failed' })).toBe(true);
    expect(hasReplyStatusNote([audit({ metadata: { custom: { threadbridge: { r: '42:failed' } } } })], reply, { state: 'refused' })).toBe(false);
    expect(hasReplyStatusNote([audit({ events: [{ id: 2, type: 'Comment', public: false, body: `x\n\n${marker}` }] })], reply, { state: 'failed' })).toBe(true);
    expect(hasReplyStatusNote([audit({ events: [{ id: 2, type: 'Comment', public: true, body: marker }] })], reply, { state: 'failed' })).toBe(false);
    expect(hasReplyStatusNote([audit({ events: [{ id: 2, type: 'Comment', public: false, body: marker.replace('42', '420') }] })], reply, { state: 'failed' })).toBe(false);
  });
});

describe('media file names', () => {
  it.each([
    [{ filename: 'invoice.pdf' }, 'document', 'invoice.pdf'],
    [{ filename: '../etc/passwd' }, 'document', '.._etc_passwd'],
    [{ mimeType: 'image/jpeg' }, 'image', 'image-m1.jpg'],
    [{ mimeType: 'audio/ogg; codecs=opus' }, 'audio', 'audio-m1.ogg'],
    [{ mimeType: 'application/x-unknown' }, 'document', 'document-m1'],
  ] as [MediaRef, string, string][])('%j (%s) → %s', (media, type, name) => {
    expect(mediaFilename(media, type, 'm1')).toBe(name);
  });
});
