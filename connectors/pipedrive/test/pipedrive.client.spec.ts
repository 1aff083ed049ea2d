/**
 * The client's pure rules: error translation, rate-limit waits, Pipedrive's two time formats —
 * and the definition's environment declaration, endpoints and budget.
 */
import { describe, expect, it } from '@jest/globals';
import { ConnectorError } from '../../_sdk/errors';
import { pipedrive } from '../index';
import { retryAfterOf, timeOf, TOKEN_COSTS, toConnectorError } from '../pipedrive.client';
import { PipedriveSettings } from '../pipedrive.credentials';

const NOW = Date.parse('2026-03-02T12:00:00Z');

describe('toConnectorError', () => {
  it.each([
    [401, 'auth'],
    [429, 'rate_limited'],
    [404, 'not_found'],
    [410, 'not_found'],
    [400, 'invalid_request'],
    [403, 'invalid_request'],
    [409, 'invalid_request'],
    [422, 'invalid_request'],
    [408, 'transient'],
    [500, 'transient'],
    [502, 'transient'],
    [503, 'transient'],
    [200, 'transient'],
  ] as const)('HTTP %i → %s', (status, kind) => {
    const error = toConnectorError({ operation: 'persons.get', status, body: { success: false, error: 'Something' } });
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind, vendorStatus: status });
  });

  it('names the operation and Pipedrive’s code and sentence, numbers redacted', () => {
    const error = toConnectorError({ operation: 'persons.add', status: 400, body: { success: false, error: 'phones[0]: +48 601 234 567 is invalid', code: 'ERR_SCHEMA_VALIDATION_FAILED' } });
    expect(error.message).toBe('Pipedrive persons.add was refused: HTTP 400 (ERR_SCHEMA_VALIDATION_FAILED: phones[0]: [redacted] is invalid)');
  });

  it.each([
    [{ code: 'ECONNRESET' }, 'transient', 'network error ECONNRESET'],
    [{ code: 'ECONNABORTED', isAxiosError: true }, 'transient', 'no response within 300 ms'],
    [{ code: 'ETIMEDOUT', isAxiosError: true }, 'transient', 'no response within 300 ms'],
    [{ name: 'CanceledError' }, 'transient', 'no response within 300 ms'],
    [{ isAxiosError: true, code: 'ERR_BAD_RESPONSE' }, 'transient', 'network error ERR_BAD_RESPONSE'],
    [new TypeError('x is not a function'), 'permanent', 'TypeError'],
  ])('a failure without an answer (%j) → %s', (cause, kind, text) => {
    const error = toConnectorError({ operation: 'notes.add', cause, timeoutMs: 300 });
    expect(error.kind).toBe(kind);
    expect(error.message).toContain(text);
  });
});

describe('retryAfterOf', () => {
  it.each([
    [{ 'retry-after': '3', 'x-ratelimit-reset': '1' }, 3_000],
    [{ 'Retry-After': 'Mon, 02 Mar 2026 12:00:05 GMT' }, 5_000],
    [{ 'x-ratelimit-reset': '2' }, 2_000],
    [{ 'x-ratelimit-reset': '0' }, 0],
    [{ 'x-ratelimit-reset': ['1'] }, 1_000],
    [{ 'x-ratelimit-reset': 'soon' }, 2_000],
    [{}, 2_000],
    [undefined, 2_000],
  ])('%j → %i ms', (headers, ms) => {
    expect(retryAfterOf(headers, NOW)).toBe(ms);
  });
});

describe('timeOf', () => {
  it.each([
    ['2026-03-02T12:00:00Z', NOW],
    ['2026-03-02 12:00:00', NOW],
    ['2026-03-02T13:00:00+01:00', NOW],
    ['', 0],
    [null, 0],
    ['yesterday', 0],
  ])('%j', (value, ms) => {
    expect(timeOf(value)).toBe(ms);
  });
});

describe('token costs', () => {
  it('prices API v2 at half of v1 for every kind both have', () => {
    for (const kind of ['get', 'list', 'write', 'delete', 'search'] as const) expect(TOKEN_COSTS.v2[kind] * 2).toBe(TOKEN_COSTS.v1[kind]);
  });
});

describe('the definition', () => {
  it('declares a connection from PIPEDRIVE_API_TOKEN (and PIPEDRIVE_BASE_URL)', () => {
    expect(pipedrive.fromEnv!({})).toBeUndefined();
    expect(pipedrive.fromEnv!({ PIPEDRIVE_API_TOKEN: ' tok ' })).toEqual({ name: 'Pipedrive', credentials: { apiToken: 'tok' }, settings: {} });
    expect(pipedrive.fromEnv!({ PIPEDRIVE_API_TOKEN: 'tok', PIPEDRIVE_BASE_URL: 'https://acme.pipedrive.com' })).toMatchObject({ credentials: { apiToken: 'tok', baseUrl: 'https://acme.pipedrive.com' } });
  });

  it('names what a partial declaration misses', () => {
    expect(pipedrive.fromEnv!({ PIPEDRIVE_BASE_URL: 'https://acme.pipedrive.com' })).toEqual({ missing: ['PIPEDRIVE_API_TOKEN'] });
    expect(pipedrive.fromEnv!({ PIPEDRIVE_API_TOKEN: '  ', PIPEDRIVE_BASE_URL: 'http://127.0.0.1:1' })).toEqual({ missing: ['PIPEDRIVE_API_TOKEN'] });
  });

  it('calls the base URL only (the core checks it against the egress policy)', () => {
    const settings = new PipedriveSettings();
    expect(pipedrive.endpoints({ apiToken: 't' }, settings)).toEqual(['https://api.pipedrive.com']);
    expect(pipedrive.endpoints({ apiToken: 't', baseUrl: 'https://acme.pipedrive.com/' }, settings)).toEqual(['https://acme.pipedrive.com']);
  });

  it('hands out the day’s tokens an hour’s share at a time', () => {
    expect(pipedrive.manifest.defaultBudget).toEqual({ requests: 1_250, perMs: 3_600_000 });
    expect(pipedrive.budgetFor!(Object.assign(new PipedriveSettings(), { dailyTokens: 2 * 5 * 30_000 }))).toEqual({ requests: 12_500, perMs: 3_600_000 });
  });
});
