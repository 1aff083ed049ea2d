/**
 * The conformance suite every connector runs against its own fake vendor server:
 *
 *   runConnectorConformance(hubspot, { start: async () => ({ credentials, settings, fake }) });
 *
 * It checks what the core relies on without knowing the vendor: idempotent contact lookup across
 * phone formats, error translation (auth / rate_limited with Retry-After / transient on 5xx and
 * timeouts), the facets the harness's settings give, batch calls answering one result per item in
 * order, DTO validation, that every request spent the request budget, (facet `replies`) webhook
 * signatures checked with a real HMAC, and (facet `timeline`) that a create whose answer was lost
 * is not repeated when replayed with maybeCreated while the vendor's search lags 3 s, as
 * `timeline.reconcile` promises.
 * A connector is done when this suite passes against a fake that behaves like the vendor.
 */
import { describe, it, expect } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { FACET_NAMES, hasFacet, type ConnectorDefinition, type CrmConnector, type Customer, type FacetName, type RawWebhook } from '../contract';
import { ConnectorError } from '../errors';
import { aCustomer, aMessage, aThread, aTranscript, someMessages } from './builders';
import { oneAtATime, type OneAtATime } from './one-at-a-time';
import { testDeps, type TestDeps } from './ports';

export { testDeps } from './ports';
export type { TestDeps } from './ports';

/** The fake vendor server, as the suite drives it. */
export interface ConformanceFake {
  /** Base URL the connector's credentials/settings already point at. */
  url: string;
  close(): Promise<void>;
  /** The next request is answered with `status` (and Retry-After / a vendor-shaped body). */
  failNext(status: number, opts?: { retryAfterSec?: number; body?: unknown }): void;
  /** The next request gets no answer for `ms`. */
  hang(ms: number): void;
  /**
   * How many remote contacts/users hold this number (in any format the fake can read). Required
   * unless the harness says `contacts: 'derived'`.
   */
  contactsMatching?(e164: string): number | Promise<number>;
  /** Creates a remote contact whose phone field holds `formatted` as typed; returns its id. Required unless `contacts: 'derived'`. */
  seedContactWithPhone?(formatted: string): string | Promise<string>;
  /** Every request the fake received, answered or not. */
  requestCount(): number;

  // Required with facet `timeline` (the maybe-created case): the vendor's awkward parts.
  /** From now on, the fake's search index sees a write only `ms` after it. */
  setSearchLag?(ms: number): void;
  /** The next write that creates a record is carried out, then its connection is reset without an answer. */
  resetAfterNextCreate?(): void;
  /** How many remote records (communications, comments…) hold `text`: each message's text once. */
  recordsContaining?(text: string): number | Promise<number>;
}

export interface ConformanceSetup {
  /** Plain JSON, as stored on a connection: validated against the definition's DTOs here. */
  credentials: object;
  settings: object;
  fake: ConformanceFake;
}

/** A signed vendor webhook for facet `replies`. */
export interface WebhookRequest {
  method: string;
  /** Full URL the vendor calls (scheme, host, path, query). */
  url: string;
  rawBody: Buffer;
  headers?: Record<string, string>;
}

export interface ConformanceHarness {
  /**
   * The facets a connector built with the harness's settings has (besides `contacts`): the suite
   * checks each of them, and that the connector has no other.
   */
  facets: FacetName[];
  /**
   * How the remote system holds contacts. `searchable` (default): contacts.ensure looks the
   * customer up (by every phone format) and creates them, and the fake counts and seeds contacts.
   * `derived`: the remote system keeps no contact store threadbridge could search (a generic
   * webhook receiver): contacts.ensure answers a stable ref from the customer alone without any
   * request, and the error checks reach the vendor through `probe`.
   */
  contacts?: 'searchable' | 'derived';
  /**
   * A call that reaches the vendor, for the error checks (401, 429, 5xx, timeouts). Default:
   * contacts.ensure of one customer. Required with `contacts: 'derived'`.
   */
  probe?(connector: OneAtATime): Promise<unknown>;
  /** Starts a fresh fake server and returns credentials/settings pointing at it. */
  start(): Promise<ConformanceSetup>;
  /** Credentials (for the same fake) that the vendor rejects with 401. */
  badCredentials?(valid: object): object;
  /** More plain inputs the credentials DTO must reject (besides {} and wrongly typed fields). */
  invalidCredentials?: object[];
  /** Required with facet `replies`. */
  replies?: {
    /** A webhook the connector accepts and parses into at least one event. */
    webhookSample(setup: ConformanceSetup): WebhookRequest;
    /**
     * The headers the vendor adds when signing `req` with the connection's secret (or `secret`),
     * at time `at` (default now).
     */
    sign(req: WebhookRequest, setup: ConformanceSetup, opts?: { secret?: string; at?: Date }): Record<string, string>;
    /** False when the vendor's scheme has no timestamp (then no staleness check). Default true. */
    timestamped?: boolean;
  };
}

/** Validates plain JSON against a DTO class as the core does; throws listing the problems. */
export function toValidDto<T extends object>(dto: new () => T, plain: object): T {
  const instance = plainToInstance(dto, plain);
  const errors = validateSync(instance, { forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new Error(`invalid ${dto.name}: ${errors.map((e) => Object.values(e.constraints ?? {}).join(', ') || e.property).join('; ')}`);
  }
  return instance;
}

/** Builds a connector for `setup` with test ports (override e.g. timeoutMs). */
export function createForTest<C extends object, S extends object>(
  definition: ConnectorDefinition<C, S>,
  setup: { credentials: object; settings: object },
  deps: TestDeps = testDeps(),
): { connector: CrmConnector; deps: TestDeps } {
  const credentials = toValidDto(definition.credentials, setup.credentials);
  const settings = toValidDto(definition.settings, setup.settings);
  return { connector: definition.create(credentials, settings, deps), deps };
}

async function expectConnectorError(promise: Promise<unknown>, kind: ConnectorError['kind']): Promise<ConnectorError> {
  let caught: unknown;
  await expect(
    promise.then(
      () => undefined,
      (err: unknown) => {
        caught = err;
        throw err;
      },
    ),
  ).rejects.toBeInstanceOf(ConnectorError);
  expect(caught).toMatchObject({ kind });
  return caught as ConnectorError;
}

/**
 * Defines the conformance `describe` block for `definition`. Every test starts its own fake
 * through `harness.start()` and closes it.
 */
export function runConnectorConformance<C extends object, S extends object>(
  definition: ConnectorDefinition<C, S>,
  harness: ConformanceHarness,
): void {
  const { manifest } = definition;
  const has = (facet: FacetName): boolean => harness.facets.includes(facet);
  const caps = { tickets: has('tickets'), ticketRouting: has('ticketRouting'), history: has('timeline'), transcripts: has('transcripts'), consent: has('consent'), erasure: has('erasure'), replies: has('replies') };
  /** The connector for `setup`, its facets called one item at a time. */
  const singles = (setup: { credentials: object; settings: object }, deps?: TestDeps) => oneAtATime(createForTest(definition, setup, deps).connector);
  const derivedContacts = harness.contacts === 'derived';
  if (derivedContacts && !harness.probe) throw new Error(`${manifest.id}: a harness with contacts 'derived' must give a probe`);
  /** The fake's contact count, for a vendor that holds searchable contacts. */
  const contactsMatching = async (fake: ConformanceFake, e164: string): Promise<number> => {
    if (!fake.contactsMatching) throw new Error(`${manifest.id}: its fake must implement contactsMatching (or the harness say contacts 'derived')`);
    return fake.contactsMatching(e164);
  };

  async function withFake<T>(fn: (setup: ConformanceSetup) => Promise<T>): Promise<T> {
    const setup = await harness.start();
    try {
      return await fn(setup);
    } finally {
      await setup.fake.close();
    }
  }

  describe(`connector conformance: ${manifest.id}`, () => {
    describe('definition', () => {
      it('has a well-formed manifest', () => {
        expect(manifest.id).toMatch(/^[a-z][a-z0-9_-]*$/);
        expect(manifest.displayName.trim()).not.toBe('');
        expect(() => new URL(manifest.docsUrl)).not.toThrow();
        expect(manifest.defaultBudget.requests).toBeGreaterThan(0);
        expect(manifest.defaultBudget.perMs).toBeGreaterThan(0);
        expect(Number.isInteger(manifest.maxBatch) && manifest.maxBatch >= 1).toBe(true);
      });

      it('has exactly the facets the harness expects, each with its methods', async () => {
        await withFake(async (setup) => {
          const { connector } = createForTest(definition, setup);
          const all = FACET_NAMES;
          expect(all.filter((f) => hasFacet(connector, f))).toEqual(all.filter((f) => harness.facets.includes(f)));
          expect(typeof connector.contacts.ensure).toBe('function');
          expect(typeof connector.verifyCredentials).toBe('function');
        });
      });

      it('validates the credentials the harness uses', async () => {
        await withFake(async (setup) => {
          expect(() => toValidDto(definition.credentials, setup.credentials)).not.toThrow();
          expect(() => toValidDto(definition.settings, setup.settings)).not.toThrow();
        });
      });

      it('rejects empty, wrongly typed and harness-listed bad credentials', async () => {
        await withFake(async (setup) => {
          const wronglyTyped = Object.fromEntries(Object.keys(setup.credentials).map((key) => [key, 12345]));
          const withNulls = Object.fromEntries(Object.keys(setup.credentials).map((key) => [key, { nested: true }]));
          const candidates = [{}, wronglyTyped, withNulls, ...(harness.invalidCredentials ?? [])];
          for (const plain of candidates) {
            const errors = validateSync(plainToInstance(definition.credentials, plain), { forbidUnknownValues: false });
            expect({ plain, rejected: errors.length > 0 }).toEqual({ plain, rejected: true });
          }
        });
      });

      it('declares no connection from an empty environment', () => {
        if (definition.fromEnv) expect(definition.fromEnv({})).toBeUndefined();
      });

      it('declares how maybe-created messages are settled when it records history', async () => {
        if (!caps.history) return;
        await withFake(async (setup) => {
          const { connector } = createForTest(definition, setup);
          if (!hasFacet(connector, 'timeline')) throw new Error('the harness expects a timeline facet');
          const { reconcile } = connector.timeline;
          expect(['consistent_read', 'search']).toContain(reconcile.maybeCreated);
          if (reconcile.maybeCreated === 'search') expect(reconcile.indexLagMs).toBeGreaterThan(0);
        });
      });
    });

    if (derivedContacts) {
      describe('contacts (derived: the remote system keeps no contact store to search)', () => {
        it('answers the same ref for a customer every time, the known ref as it is, one per request in order, and calls nobody', async () => {
          await withFake(async (setup) => {
            const { connector } = createForTest(definition, setup);
            const a = aCustomer({ waId: '48601234572' });
            const b = aCustomer({ waId: '48601234573' });
            const refs = await connector.contacts.ensure([{ customer: a }, { customer: b }]);
            expect(refs).toHaveLength(2);
            expect(refs[0].id).not.toBe(refs[1].id);
            const again = await connector.contacts.ensure([{ customer: b }, { customer: a }]);
            expect(again.map((r) => r.id)).toEqual([refs[1].id, refs[0].id]);
            const known = { id: 'linked-by-the-remote-system', type: 'contact' };
            expect(await connector.contacts.ensure([{ customer: a, known }])).toEqual([known]);
            expect(setup.fake.requestCount()).toBe(0);
          });
        });
      });
    }

    if (!derivedContacts) describe('contacts', () => {
      it('ensureContact is idempotent: twice gives the same id and one remote contact', async () => {
        await withFake(async (setup) => {
          const connector = singles(setup);
          const customer = aCustomer({ waId: '48601234567' });
          const first = await connector.ensureContact(customer);
          const second = await connector.ensureContact(customer);
          expect(second.id).toBe(first.id);
          expect(await contactsMatching(setup.fake, customer.e164)).toBe(1);
          const third = await connector.ensureContact(customer, first);
          expect(third.id).toBe(first.id);
          expect(await contactsMatching(setup.fake, customer.e164)).toBe(1);
        });
      });

      it('creates the contact when `known` points at a contact that is gone', async () => {
        await withFake(async (setup) => {
          const connector = singles(setup);
          const customer = aCustomer({ waId: '48601234568' });
          const ref = await connector.ensureContact(customer, { id: '999999999', type: 'contact' });
          expect(ref.id).not.toBe('999999999');
          expect(await contactsMatching(setup.fake, customer.e164)).toBe(1);
        });
      });

      const formats: [string, string][] = [
        ['48601234567', '+48 601 234 567'],
        ['48601234567', '+48601234567'],
        ['48601234567', '0048601234567'],
        ['48601234567', '48601234567'],
        ['48601234567', '601234567'],
        ['48601234567', '601 234 567'],
        ['48601234567', '+48-601-234-567'],
        ['16505551234', '(650) 555-1234'],
        ['16505551234', '+1 650 555 1234'],
      ];
      it('ensures several customers in one call: one ref per request, in order, one remote contact each', async () => {
        await withFake(async (setup) => {
          const { connector } = createForTest(definition, setup);
          const a = aCustomer({ waId: '48601234572' });
          const b = aCustomer({ waId: '48601234573' });
          const refs = await connector.contacts.ensure([{ customer: a }, { customer: b }]);
          expect(refs).toHaveLength(2);
          expect(refs[0].id).not.toBe(refs[1].id);
          const again = await connector.contacts.ensure([{ customer: b }, { customer: a, known: refs[0] }]);
          expect(again.map((r) => r.id)).toEqual([refs[1].id, refs[0].id]);
          expect([await contactsMatching(setup.fake, a.e164), await contactsMatching(setup.fake, b.e164)]).toEqual([1, 1]);
        });
      });

      it.each(formats)('finds wa_id %s stored remotely as %j instead of creating a contact', async (waId, formatted) => {
        await withFake(async (setup) => {
          const connector = singles(setup);
          if (!setup.fake.seedContactWithPhone) throw new Error(`${manifest.id}: its fake must implement seedContactWithPhone (or the harness say contacts 'derived')`);
          const seededId = await setup.fake.seedContactWithPhone(formatted);
          const ref = await connector.ensureContact(aCustomer({ waId }));
          expect(ref.id).toBe(seededId);
        });
      });
    });

    describe('errors', () => {
      const customer = (): Customer => aCustomer({ waId: '48601234569' });
      /** A call that reaches the vendor. */
      const probe = (connector: OneAtATime): Promise<unknown> => (harness.probe ? harness.probe(connector) : connector.ensureContact(customer()));

      it('401 → auth', async () => {
        await withFake(async (setup) => {
          const connector = singles(setup);
          setup.fake.failNext(401);
          await expectConnectorError(probe(connector), 'auth');
        });
      });

      it('verifyCredentials resolves with good credentials and throws auth with bad ones', async () => {
        await withFake(async (setup) => {
          await expect(createForTest(definition, setup).connector.verifyCredentials()).resolves.toBeUndefined();
          const bad = harness.badCredentials?.(setup.credentials);
          if (bad) {
            const { connector } = createForTest(definition, { ...setup, credentials: bad });
            await expectConnectorError(connector.verifyCredentials(), 'auth');
          } else {
            setup.fake.failNext(401);
            await expectConnectorError(createForTest(definition, setup).connector.verifyCredentials(), 'auth');
          }
        });
      });

      it('429 with Retry-After: 2 → rate_limited, retryAfterMs 2000', async () => {
        await withFake(async (setup) => {
          const connector = singles(setup);
          setup.fake.failNext(429, { retryAfterSec: 2 });
          const err = await expectConnectorError(probe(connector), 'rate_limited');
          expect(err.retryAfterMs).toBe(2000);
        });
      });

      it.each([[500], [502], [503]])('%i → transient', async (status) => {
        await withFake(async (setup) => {
          const connector = singles(setup);
          setup.fake.failNext(status);
          await expectConnectorError(probe(connector), 'transient');
        });
      });

      it('a request that gets no answer within deps.timeoutMs → transient, promptly', async () => {
        await withFake(async (setup) => {
          const connector = singles(setup, testDeps({ timeoutMs: 300 }));
          setup.fake.hang(5_000);
          const started = Date.now();
          await expectConnectorError(probe(connector), 'transient');
          expect(Date.now() - started).toBeLessThan(3_000);
        });
      });

      it('works again after a failure (nothing stuck in the client)', async () => {
        await withFake(async (setup) => {
          const connector = singles(setup);
          setup.fake.failNext(503);
          await expectConnectorError(probe(connector), 'transient');
          await expect(probe(connector).then(() => 'answered')).resolves.toBe('answered');
        });
      });
    });

    describe('every capability once, within the budget, leaking nothing to the logs', () => {
      it('spends the budget for every vendor request', async () => {
        await withFake(async (setup) => {
          const deps = testDeps();
          const connector = singles(setup, deps);
          const customer = aCustomer({ waId: '48601234570', profileName: 'Jan Kowalski' });
          await connector.verifyCredentials();
          const contact = await connector.ensureContact(customer);
          await connector.ensureContact(customer, contact);
          let thread = aThread(customer, contact);
          if (caps.tickets) {
            const ticket = await connector.ensureTicket(thread);
            expect(ticket.id).toBeTruthy();
            expect((await connector.ensureTicket(thread, ticket)).id).toBe(ticket.id);
            thread = { ...thread, ticket };
          }
          if (caps.ticketRouting) {
            // Priority and tags mean the same to every helpdesk; applied twice, the ticket is as after once.
            const routing = { priority: 'high' as const, tags: ['conformance-route'], removeTags: ['conformance-old-route'] };
            await expect(connector.applyTicketRouting(thread.ticket!, routing)).resolves.toBeUndefined();
            await expect(connector.applyTicketRouting(thread.ticket!, routing)).resolves.toBeUndefined();
            const routed = createForTest(definition, setup, deps).connector;
            if (hasFacet(routed, 'ticketRouting')) await expect(routed.ticketRouting.apply([])).resolves.toEqual([]);
          }
          const messages = someMessages(3);
          if (createForTest(definition, setup).connector.timeline?.uploadsMedia) {
            deps.media.put('conformance/photo.jpg', Buffer.from('jpeg bytes'));
            messages.push(aMessage({ type: 'image', text: 'a photo <b>&</b>', media: { storageKey: 'conformance/photo.jpg', mimeType: 'image/jpeg', filename: 'photo.jpg', sizeBytes: 10 } }));
          }
          if (caps.history) {
            const results = await connector.appendMessages(thread, messages);
            expect(results.map((r) => r.messageId)).toEqual(messages.map((m) => m.id));
            const replay = await connector.appendMessages(thread, messages.map((m) => ({ ...m, maybeCreated: true })));
            expect(replay.map((r) => r.remote.id)).toEqual(results.map((r) => r.remote.id));
          }
          if (caps.transcripts) {
            const note = await connector.attachTranscript({ ...thread, status: 'closed' }, aTranscript(thread, messages));
            expect(note.id).toBeTruthy();
          }
          if (caps.consent) {
            await connector.recordConsent(contact, { scope: 'marketing', optedIn: false, changedAt: new Date(), source: 'keyword:STOP' });
          }
          if (caps.erasure) {
            await expect(connector.eraseContact(contact, customer)).resolves.toMatchObject({ outcome: 'done' });
            if (!derivedContacts) expect(await contactsMatching(setup.fake, customer.e164)).toBe(0);
          }

          expect(setup.fake.requestCount()).toBeGreaterThan(0);
          expect(deps.budget.calls).toBeGreaterThanOrEqual(setup.fake.requestCount());

          const logged = deps.logger.text();
          expect(logged).not.toContain(customer.waId);
          expect(logged).not.toContain('601 234 570');
          for (const [key, value] of Object.entries(setup.credentials)) {
            if (typeof value === 'string' && /token|secret|password|key/i.test(key)) expect(logged).not.toContain(value);
          }
        });
      });
    });

    if (caps.history) {
      describe('maybe-created messages (timeline.reconcile)', () => {
        it('a create whose answer was lost, replayed with maybeCreated while search lags 3 s, leaves each message once', async () => {
          await withFake(async (setup) => {
            const { fake } = setup;
            if (!fake.setSearchLag || !fake.resetAfterNextCreate || !fake.recordsContaining) {
              throw new Error(`${manifest.id} records history: its fake must implement setSearchLag, resetAfterNextCreate and recordsContaining`);
            }
            const built = createForTest(definition, setup).connector;
            if (!hasFacet(built, 'timeline')) throw new Error('the harness expects a timeline facet');
            const { reconcile } = built.timeline;
            const connector = oneAtATime(built);
            const customer = aCustomer({ waId: '48601234571' });
            const contact = await connector.ensureContact(customer);
            let thread = aThread(customer, contact);
            if (caps.tickets) thread = { ...thread, ticket: await connector.ensureTicket(thread) };
            const tag = randomUUID().slice(0, 8);
            const messages = someMessages(5).map((m, i) => ({ ...m, text: `lost answer ${tag} no. ${i + 1}` }));

            fake.setSearchLag(3_000);
            fake.resetAfterNextCreate();
            const attemptedAt = Date.now();
            await expectConnectorError(connector.appendMessages(thread, messages), 'transient');
            // The core retries after a backoff of 200 ms or more, and no sooner than the declared
            // index lag after the attempt for a connector that searches.
            const retryAt = attemptedAt + (reconcile.maybeCreated === 'search' ? reconcile.indexLagMs : 200);
            await new Promise((resolve) => setTimeout(resolve, Math.max(0, retryAt - Date.now())));
            const replay = await connector.appendMessages(thread, messages.map((m) => ({ ...m, maybeCreated: true })));
            expect(replay.map((r) => r.messageId)).toEqual(messages.map((m) => m.id));

            const held = [];
            for (const m of messages) held.push({ text: m.text, records: await fake.recordsContaining(m.text) });
            expect(held).toEqual(messages.map((m) => ({ text: m.text, records: 1 })));
            // Once more, as a second retry would: still nothing new.
            await connector.appendMessages(thread, messages.map((m) => ({ ...m, maybeCreated: true })));
            for (const m of messages) expect(await fake.recordsContaining(m.text)).toBe(1);
          });
        }, 20_000);
      });
    }

    if (caps.replies) {
      describe('replies: webhook signatures (real HMAC)', () => {
        const rawWebhook = (req: WebhookRequest, headers: Record<string, string>, rawBody = req.rawBody): RawWebhook => ({
          method: req.method,
          url: req.url,
          headers: { 'content-type': 'application/json', ...req.headers, ...headers },
          rawBody,
          receivedAt: new Date(),
        });
        const replies = (): NonNullable<ConformanceHarness['replies']> => {
          if (!harness.replies) throw new Error(`${manifest.id} has facet replies: the harness must provide replies.sign/webhookSample`);
          return harness.replies;
        };

        it('accepts a correctly signed webhook and parses it into events', async () => {
          await withFake(async (setup) => {
            const connector = singles(setup);
            const sample = replies().webhookSample(setup);
            const req = rawWebhook(sample, replies().sign(sample, setup));
            expect(connector.verifyWebhook(req)).toBe(true);
            expect(connector.parseWebhook(req).length).toBeGreaterThan(0);
          });
        });

        it('rejects a tampered body', async () => {
          await withFake(async (setup) => {
            const connector = singles(setup);
            const sample = replies().webhookSample(setup);
            const headers = replies().sign(sample, setup);
            const tampered = Buffer.from(sample.rawBody.toString('utf8').replace(/.$/s, (c) => ` ${c}`));
            expect(connector.verifyWebhook(rawWebhook(sample, headers, tampered))).toBe(false);
          });
        });

        it('rejects a signature made with another secret', async () => {
          await withFake(async (setup) => {
            const connector = singles(setup);
            const sample = replies().webhookSample(setup);
            const req = rawWebhook(sample, replies().sign(sample, setup, { secret: 'not-the-connection-secret' }));
            expect(connector.verifyWebhook(req)).toBe(false);
          });
        });

        it('rejects a request without signature headers', async () => {
          await withFake(async (setup) => {
            const connector = singles(setup);
            const sample = replies().webhookSample(setup);
            expect(connector.verifyWebhook(rawWebhook(sample, {}))).toBe(false);
          });
        });

        it('rejects a stale timestamp (10 minutes old)', async () => {
          if (replies().timestamped === false) return;
          await withFake(async (setup) => {
            const connector = singles(setup);
            const sample = replies().webhookSample(setup);
            const req = rawWebhook(sample, replies().sign(sample, setup, { at: new Date(Date.now() - 10 * 60_000) }));
            expect(connector.verifyWebhook(req)).toBe(false);
          });
        });
      });
    }
  });
}
