import { describe, expect, it } from '@jest/globals';
import { MAX_QUIET_HOLD_MS, MEDIA_WAIT_MS, readyMessages, type HoldRules } from './ready-messages';
import type { SyncRow } from './sync.repository';

const NOW = Date.parse('2026-12-01T12:00:00Z');
let seq = 0;

/** An open message row of `conversationId`; times are ms before NOW. */
function aRow(conversationId: string, overrides: { arrivedAgoMs?: number; dispatchedAgoMs?: number; mediaPending?: boolean } = {}): SyncRow {
  seq += 1;
  const arrived = new Date(NOW - (overrides.arrivedAgoMs ?? 60_000));
  return {
    taskId: String(seq),
    kind: 'message',
    dispatchedAt: overrides.dispatchedAgoMs === undefined ? null : new Date(NOW - overrides.dispatchedAgoMs),
    conversationId,
    contactId: `contact-${conversationId}`,
    waId: '48601234567',
    e164: '+48601234567',
    profileName: null,
    displayPhoneNumber: null,
    phoneNumberId: '1065',
    conversationStatus: 'open',
    openedAt: arrived,
    closedAt: null,
    ticketRouting: null,
    routeConnections: null,
    routeVersion: 0,
    messageId: `message-${seq}`,
    wamid: `wamid.${seq}`,
    direction: 'inbound',
    type: 'text',
    body: `text ${seq}`,
    content: null,
    media: null,
    mediaStatus: overrides.mediaPending ? 'pending' : null,
    context: null,
    errors: null,
    waTimestamp: new Date(arrived.getTime() + seq), // WhatsApp order = creation order here
    seq: String(seq),
    author: null,
    messageCreatedAt: arrived,
  };
}

const consistent: HoldRules = { quietPeriodMs: 0, reconcile: { maybeCreated: 'consistent_read' } };
const lagging: HoldRules = { quietPeriodMs: 0, reconcile: { maybeCreated: 'search', indexLagMs: 3_000 } };
const ids = (rows: SyncRow[]) => rows.map((r) => r.taskId);

describe('readyMessages', () => {
  it('lets everything go at once without holds, in WhatsApp order per conversation', () => {
    const rows = [aRow('a'), aRow('b'), aRow('a')];
    const { ready, heldUntil } = readyMessages([rows[2], rows[1], rows[0]], consistent, NOW);
    expect(ids(ready)).toEqual(ids([rows[0], rows[2], rows[1]]));
    expect(heldUntil).toBeUndefined();
  });

  describe('a connector that finds maybe-created messages through a lagging search', () => {
    it('holds a message attempted less than indexLagMs ago, and the rest of its conversation, until the lag has passed', () => {
      const [first, second] = [aRow('a', { dispatchedAgoMs: 500 }), aRow('a')];
      const other = aRow('b');
      const { ready, heldUntil } = readyMessages([first, second, other], lagging, NOW);
      expect(ids(ready)).toEqual(ids([other]));
      expect(heldUntil).toBe(NOW - 500 + 3_000);
    });

    it('lets it go once indexLagMs has passed since the attempt', () => {
      const rows = [aRow('a', { dispatchedAgoMs: 3_000 }), aRow('a', { dispatchedAgoMs: 3_000 })];
      expect(ids(readyMessages(rows, lagging, NOW).ready)).toEqual(ids(rows));
    });

    it('keeps the earlier messages of the conversation that were never attempted going', () => {
      const rows = [aRow('a'), aRow('a', { dispatchedAgoMs: 100 }), aRow('a')];
      const { ready, heldUntil } = readyMessages(rows, lagging, NOW);
      expect(ids(ready)).toEqual(ids(rows.slice(0, 1)));
      expect(heldUntil).toBe(NOW - 100 + 3_000);
    });

    it('gives the earliest release when several conversations are held', () => {
      const rows = [aRow('a', { dispatchedAgoMs: 200 }), aRow('b', { dispatchedAgoMs: 2_000 })];
      expect(readyMessages(rows, lagging, NOW)).toEqual({ ready: [], heldUntil: NOW - 2_000 + 3_000 });
    });
  });

  it('never holds an attempted message for a connector whose lookup is consistent (or says nothing)', () => {
    const rows = [aRow('a', { dispatchedAgoMs: 10 })];
    expect(ids(readyMessages(rows, consistent, NOW).ready)).toEqual(ids(rows));
    expect(ids(readyMessages(rows, { quietPeriodMs: 0 }, NOW).ready)).toEqual(ids(rows));
  });

  it('holds a conversation for its quiet period, never past MAX_QUIET_HOLD_MS from its first message', () => {
    const rules: HoldRules = { ...consistent, quietPeriodMs: 10_000 };
    const recent = [aRow('a', { arrivedAgoMs: 4_000 }), aRow('a', { arrivedAgoMs: 1_000 })];
    expect(readyMessages(recent, rules, NOW)).toEqual({ ready: [], heldUntil: NOW - 1_000 + 10_000 });
    const endless = [aRow('b', { arrivedAgoMs: MAX_QUIET_HOLD_MS }), aRow('b', { arrivedAgoMs: 500 })];
    expect(ids(readyMessages(endless, rules, NOW).ready)).toEqual(ids(endless));
  });

  it('holds the rest of a conversation behind media still downloading, for MEDIA_WAIT_MS', () => {
    const rows = [aRow('a'), aRow('a', { mediaPending: true }), aRow('a')];
    expect(ids(readyMessages(rows, consistent, NOW).ready)).toEqual(ids(rows.slice(0, 1)));
    const stale = [aRow('b', { mediaPending: true, arrivedAgoMs: MEDIA_WAIT_MS + 1 }), aRow('b', { arrivedAgoMs: MEDIA_WAIT_MS + 1 })];
    expect(ids(readyMessages(stale, consistent, NOW).ready)).toEqual(ids(stale));
  });
});
