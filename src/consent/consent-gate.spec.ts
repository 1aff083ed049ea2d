import { describe, expect, it } from '@jest/globals';
import { ConsentGate, type GateDecision, SERVICE_WINDOW_MS } from './consent-gate';
import type { ConsentRepository, GateFacts } from './consent.repository';
import type { ConsentStatus, MessageCategory } from './consent.types';

const NOW = new Date('2026-11-20T12:00:00Z');
const HOUR = 60 * 60 * 1000;
const CONTACT = '5b0f3c52-8a4e-4c0e-9d51-0b8b7e0f6a11';

/** A gate over hand-written facts and a stopped clock. */
function gateWith(facts: GateFacts | null, now = NOW): { gate: ConsentGate; asked: { contactId: string; phoneNumberId?: string }[] } {
  const asked: { contactId: string; phoneNumberId?: string }[] = [];
  const repo = {
    gateFacts: async (contactId: string, phoneNumberId?: string) => {
      asked.push({ contactId, phoneNumberId });
      return facts;
    },
  } as Pick<ConsentRepository, 'gateFacts'> as ConsentRepository;
  return { gate: new ConsentGate(repo, { now: () => now }), asked };
}

const facts = (marketing: ConsentStatus, transactional: ConsentStatus, lastInboundHoursAgo: number | null): GateFacts => ({
  marketing,
  transactional,
  lastInboundAt: lastInboundHoursAgo === null ? null : new Date(NOW.getTime() - lastInboundHoursAgo * HOUR),
});

const check = async (f: GateFacts | null, category: MessageCategory, isTemplate: boolean): Promise<GateDecision> =>
  gateWith(f).gate.check({ contactId: CONTACT, category, isTemplate });

const allowed = { allowed: true };
const refused = (reason: string) => expect.objectContaining({ allowed: false, reason, detail: expect.any(String) });

describe('ConsentGate', () => {
  describe('marketing', () => {
    it.each([
      ['opted in, template, outside the window', facts('opted_in', 'unknown', 72), true, allowed],
      ['opted in, free text inside the window', facts('opted_in', 'unknown', 1), false, allowed],
      ['opted out', facts('opted_out', 'opted_in', 1), true, refused('marketing_opted_out')],
      ['opted out, even inside the window', facts('opted_out', 'unknown', 0.1), false, refused('marketing_opted_out')],
      ['never opted in', facts('unknown', 'opted_in', 1), true, refused('no_marketing_opt_in')],
      ['opted in, free text outside the window', facts('opted_in', 'unknown', 30), false, refused('outside_service_window')],
    ])('%s', async (_case, f, isTemplate, expected) => {
      await expect(check(f, 'marketing', isTemplate)).resolves.toEqual(expected);
    });
  });

  describe('utility and authentication (transactional)', () => {
    it.each(['utility', 'authentication'] as const)('%s templates go outside the window unless the contact opted out of transactional messages', async (category) => {
      await expect(check(facts('unknown', 'unknown', null), category, true)).resolves.toEqual(allowed);
      await expect(check(facts('opted_out', 'opted_in', 100), category, true)).resolves.toEqual(allowed);
      await expect(check(facts('opted_in', 'opted_out', 100), category, true)).resolves.toEqual(refused('transactional_opted_out'));
      await expect(check(facts('opted_in', 'opted_out', 1), category, false)).resolves.toEqual(refused('transactional_opted_out'));
    });

    it('a marketing opt-out does not stop transactional messages', async () => {
      await expect(check(facts('opted_out', 'unknown', 1), 'utility', false)).resolves.toEqual(allowed);
    });
  });

  describe('service (a reply to the customer)', () => {
    it.each([
      ['just after the customer wrote', 0.01, true],
      ['23 hours 59 minutes later', 24 - 1 / 60, true],
      ['exactly 24 hours later', 24, false],
      ['25 hours later', 25, false],
    ])('free text %s: allowed = %s', async (_case, hoursAgo, expected) => {
      const decision = await check(facts('unknown', 'unknown', hoursAgo), 'service', false);
      expect(decision.allowed).toBe(expected);
      if (!decision.allowed) expect(decision.reason).toBe('outside_service_window');
    });

    it('refuses free text to a customer who never wrote to the number', async () => {
      await expect(check(facts('opted_in', 'opted_in', null), 'service', false)).resolves.toEqual(refused('outside_service_window'));
    });

    it('answers an opted-out customer inside the window (a STOP confirmation must reach them)', async () => {
      await expect(check(facts('opted_out', 'opted_out', 0.1), 'service', false)).resolves.toEqual(allowed);
    });

    it('allows an approved template outside the window, unless transactional messages were refused', async () => {
      await expect(check(facts('unknown', 'unknown', 48), 'service', true)).resolves.toEqual(allowed);
      await expect(check(facts('unknown', 'opted_out', 48), 'service', true)).resolves.toEqual(refused('transactional_opted_out'));
    });
  });

  it('refuses an unknown contact instead of throwing', async () => {
    await expect(check(null, 'service', false)).resolves.toEqual(refused('unknown_contact'));
  });

  it('measures the window with its clock and asks about the sending number', async () => {
    const lastInbound = new Date('2026-11-01T08:00:00Z');
    const f: GateFacts = { marketing: 'unknown', transactional: 'unknown', lastInboundAt: lastInbound };
    const before = gateWith(f, new Date(lastInbound.getTime() + SERVICE_WINDOW_MS - 1));
    const after = gateWith(f, new Date(lastInbound.getTime() + SERVICE_WINDOW_MS));
    await expect(before.gate.check({ contactId: CONTACT, category: 'service', isTemplate: false, phoneNumberId: '106540352242922' })).resolves.toEqual(allowed);
    await expect(after.gate.check({ contactId: CONTACT, category: 'service', isTemplate: false })).resolves.toEqual(refused('outside_service_window'));
    expect(before.asked).toEqual([{ contactId: CONTACT, phoneNumberId: '106540352242922' }]);
  });
});
