/**
 * The one fan-out rule: which connections get a task when something happens that a CRM hears of
 * (a message to sync, a conversation's transcript). Every enabled connection gets one; a disabled
 * connection gets none. What a connection can do with it — its capabilities, which depend on the
 * connector's code and the connection's settings, so SQL cannot see them — is checked when the task
 * runs (ConnectorCalls.guard in connections/), or before writing by a TypeScript caller that
 * resolves the connections anyway (ConnectionsService.listEnabledWith).
 *
 * A SQL predicate over the `connections` row aliased `alias`, for callers to interpolate. The
 * ingest function (whatsapp/ingest.functions.ts) writes the same predicate out in its own text,
 * which the migrations deploy; ingest.functions.spec.ts checks the two agree.
 */
export function fanOutTargets(alias: string): string {
  return `${alias}.enabled`;
}
