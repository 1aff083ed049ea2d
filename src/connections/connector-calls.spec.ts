import { describe, expect, it } from '@jest/globals';
import type { Logger } from 'pino';
import type { CrmConnector } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';
import type { ConnectionsService } from './connections.service';
import type { ResolvedConnection } from './connections.types';
import { ConnectorCalls } from './connector-calls';
import type { ConnectorFactory } from './connector-factory';

/** The connection rows and what was done to them: a hand-written fake of the parts ConnectorCalls uses. */
class FakeConnections {
  paused: { id: string; delayMs: number; failure?: string }[] = [];
  reauth: { id: string; reason: string }[] = [];
  disabled: { id: string; reason: string }[] = [];
  constructor(private readonly resolved: ResolvedConnection | null) {}

  async resolve(): Promise<ResolvedConnection | null> {
    return this.resolved;
  }

  async pause(id: string, delayMs: number, failure?: string): Promise<Date> {
    this.paused.push({ id, delayMs, ...(failure === undefined ? {} : { failure }) });
    return new Date(Date.now() + delayMs);
  }

  async markNeedsReauth(id: string, reason: string): Promise<void> {
    this.reauth.push({ id, reason });
  }

  async markDisabledByRemote(id: string, reason: string): Promise<void> {
    this.disabled.push({ id, reason });
  }
}

const connector = { kind: 'fake connector', consent: { record: async () => undefined } } as unknown as CrmConnector;
/** A connector whose settings switched consent off: it has no consent facet. */
const withoutConsent = { kind: 'fake connector without consent' } as unknown as CrmConnector;
const factory = { create: (resolved: ResolvedConnection) => (resolved.capabilities.consent === false ? withoutConsent : connector) } as unknown as ConnectorFactory;
const quiet = { warn: () => undefined } as unknown as Logger;

function aConnection(row: Partial<ResolvedConnection['connection']> = {}, capabilities: Partial<ResolvedConnection['capabilities']> = { consent: true }): ResolvedConnection {
  return {
    connection: { id: 'c1', enabled: true, status: 'active', retryAfter: null, failureCount: 0, lastError: null, ...row },
    definition: { manifest: { displayName: 'Fake CRM' } },
    credentials: {},
    settings: {},
    capabilities,
    budget: { requests: 10, perMs: 1000 },
  } as unknown as ResolvedConnection;
}

function calls(resolved: ResolvedConnection | null): { calls: ConnectorCalls; connections: FakeConnections } {
  const connections = new FakeConnections(resolved);
  return { calls: new ConnectorCalls(connections as unknown as ConnectionsService, factory, quiet), connections };
}

const failing = (error: Error) => async (): Promise<never> => {
  throw error;
};

describe('ConnectorCalls.run: the guard', () => {
  it.each([
    ['unusable', null],
    ['disabled', aConnection({ enabled: false })],
    ['inactive', aConnection({ status: 'needs_reauth' })],
  ] as const)('parks a connection that is %s without calling', async (why, resolved) => {
    let called = false;
    const { calls: path } = calls(resolved);
    await expect(path.run('c1', 'consent', async () => (called = true))).resolves.toMatchObject({ outcome: 'parked', why });
    expect(called).toBe(false);
  });

  it('answers unsupported when the capability is switched off, and waits for a paused connection', async () => {
    await expect(calls(aConnection({}, { consent: false })).calls.run('c1', 'consent', async () => 1)).resolves.toMatchObject({ outcome: 'unsupported' });
    const until = new Date(Date.now() + 60_000);
    await expect(calls(aConnection({ retryAfter: until })).calls.run('c1', 'consent', async () => 1)).resolves.toEqual({ outcome: 'retry', at: until });
  });

  it('calls with the connector the factory made and returns its value', async () => {
    await expect(calls(aConnection()).calls.run('c1', 'consent', async (c) => c)).resolves.toMatchObject({ outcome: 'done', value: connector });
  });
});

describe('ConnectorCalls.run: a failure, by error kind', () => {
  it('pauses the whole connection on a transient failure, keeping the reason as its last error', async () => {
    const { calls: path, connections } = calls(aConnection());
    const result = await path.run('c1', 'consent', failing(new ConnectorError('transient', '503')));
    expect(result).toMatchObject({ outcome: 'retry', connectionPaused: true, failure: { kind: 'transient', reason: '503' } });
    expect(connections.paused).toEqual([{ id: 'c1', delayMs: expect.any(Number), failure: '503' }]);
  });

  it('with backoff "call", retries only this call on a transient failure, yet pauses the connection on a rate limit', async () => {
    const { calls: path, connections } = calls(aConnection());
    await expect(path.run('c1', 'consent', failing(new ConnectorError('transient', '503')), { backoff: 'call' })).resolves.toMatchObject({ outcome: 'retry', connectionPaused: false });
    expect(connections.paused).toEqual([]);
    const limited = await path.run('c1', 'consent', failing(new ConnectorError('rate_limited', '429', { retryAfterMs: 7000 })), { backoff: 'call' });
    expect(limited).toMatchObject({ outcome: 'retry', connectionPaused: true });
    expect(connections.paused).toEqual([{ id: 'c1', delayMs: 7000 }]);
  });

  it('marks the connection needs_reauth on auth, with the reason as the caller keeps it', async () => {
    const { calls: path, connections } = calls(aConnection());
    const result = await path.run('c1', 'consent', failing(new ConnectorError('auth', 'token for +15551234567 revoked')), { reason: () => 'token revoked' });
    expect(result).toMatchObject({ outcome: 'parked', why: 'needs_reauth', failure: { reason: 'token revoked' } });
    expect(connections.reauth).toEqual([{ id: 'c1', reason: 'token revoked' }]);
  });

  it('disables the connection when the remote side asks for no more calls (its status shows it), keeping the work', async () => {
    const { calls: path, connections } = calls(aConnection());
    const result = await path.run('c1', 'consent', failing(new ConnectorError('disabled', 'the receiver answered 410 Gone')));
    expect(result).toMatchObject({ outcome: 'parked', why: 'disabled_by_remote', connection: { status: 'disabled' } });
    expect(connections.disabled).toEqual([{ id: 'c1', reason: 'the receiver answered 410 Gone' }]);
    expect(connections.reauth).toEqual([]);
  });

  it('relinks on not_found when the caller can, else the failure is dead, or isolated when the caller takes a batch apart', async () => {
    const { calls: path } = calls(aConnection());
    let relinked = 0;
    const gone = () => new ConnectorError('not_found', 'gone');
    await expect(path.run('c1', 'consent', failing(gone()), { relink: async () => void relinked++ })).resolves.toMatchObject({ outcome: 'relinked' });
    expect(relinked).toBe(1);
    await expect(path.run('c1', 'consent', failing(gone()))).resolves.toMatchObject({ outcome: 'dead', failure: { kind: 'not_found' } });
    let isolated = 0;
    await expect(path.run('c1', 'consent', failing(new ConnectorError('permanent', 'no')), { isolate: async () => void isolated++ })).resolves.toMatchObject({ outcome: 'isolated' });
    expect(isolated).toBe(1);
  });

  it('lets an error that is not a ConnectorError through unchanged', async () => {
    const bug = new TypeError('not the vendor');
    await expect(calls(aConnection()).calls.run('c1', 'consent', failing(bug))).rejects.toBe(bug);
  });
});
