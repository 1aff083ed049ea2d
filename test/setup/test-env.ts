/** Where the integration tests find Postgres and Redis (started by .ci/run, or already running). */
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_BASE_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * The database migrations run into once per test run; each test file clones it. Named per run
 * (global setup sets it before the workers start), so concurrent runs never collide.
 */
export function templateDb(): string {
  return process.env.THREADBRIDGE_TEMPLATE_DB ?? 'threadbridge_test_template';
}

export function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * EGRESS_ALLOW naming exactly these fakes (each one's host:port), for a service that must reach
 * them: the egress policy refuses loopback otherwise, as it would in production.
 */
export function allowFakes(...fakes: ({ url: string } | string | undefined)[]): string {
  return fakes
    .filter((f): f is { url: string } | string => f !== undefined)
    .map((f) => new URL(typeof f === 'string' ? f : f.url).host)
    .join(',');
}
