/**
 * Builders of the unified models the core passes to connectors, with sensible defaults, for
 * connector tests and the conformance suite. Every call gives fresh ids.
 */
import { randomUUID } from 'node:crypto';
import type { Customer, RemoteRef, Thread, Transcript, UnifiedMessage } from '../contract';

/** A customer; `waId` decides the phone number (e164 = '+' + waId). */
export function aCustomer(overrides: Partial<Customer> = {}): Customer {
  const waId = overrides.waId ?? '48601234567';
  return {
    contactId: randomUUID(),
    waId,
    e164: `+${waId}`,
    profileName: 'Anna Nowak',
    ...overrides,
  };
}

/** A conversation thread of `customer` linked to the remote `contact`. */
export function aThread(customer: Customer, contact: RemoteRef, overrides: Partial<Thread> = {}): Thread {
  return {
    conversationId: randomUUID(),
    customer,
    contact,
    businessNumber: '+1 555 010 0000',
    openedAt: new Date(Date.now() - 60_000),
    status: 'open',
    ...overrides,
  };
}

/** An inbound text message; `at` defaults to now. */
export function aMessage(overrides: Partial<UnifiedMessage> = {}): UnifiedMessage {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    wamid: `wamid.${id.replace(/-/g, '')}`,
    direction: 'inbound',
    type: 'text',
    text: 'Hello, I have a question about my order',
    timestamp: new Date(),
    maybeCreated: false,
    ...overrides,
  };
}

/** `count` inbound text messages one second apart, numbered in their text ("message 1", …). */
export function someMessages(count: number, start = new Date(Date.now() - count * 1000)): UnifiedMessage[] {
  return Array.from({ length: count }, (_, i) =>
    aMessage({ text: `message ${i + 1}`, timestamp: new Date(start.getTime() + i * 1000) }),
  );
}

/** A transcript of `messages` (or two default lines) for `thread`. */
export function aTranscript(thread: Thread, messages: UnifiedMessage[] = [], overrides: Partial<Transcript> = {}): Transcript {
  const lines = messages.length > 0 ? messages : [aMessage({ text: 'Hi' }), aMessage({ direction: 'outbound', text: 'Hello! How can we help?', author: 'Agent Smith' })];
  const entries = lines.map((m) => ({
    timestamp: m.timestamp,
    direction: m.direction,
    author: m.direction === 'inbound' ? (thread.customer.profileName ?? thread.customer.e164) : (m.author ?? 'Agent'),
    text: m.text,
    media: m.media,
  }));
  const closedAt = overrides.closedAt ?? new Date();
  return {
    conversationId: thread.conversationId,
    openedAt: thread.openedAt,
    closedAt,
    entries,
    text: entries.map((e) => `[${e.timestamp.toISOString()}] ${e.author}: ${e.text}`).join('\n'),
    ...overrides,
  };
}
