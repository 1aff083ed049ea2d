import { Inject, Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import type { ConnectorDefinition } from '../../connectors/_sdk/contract';
import { ConfigValidationError } from '../../config/env.validation';
import { Encryption } from '../common/encryption';
import { LOGGER } from '../common/logger';
import { CredentialsRejectedError, EgressRefusedConnectionError, InvalidConnectionInputError } from './connections.errors';
import { type ConnectionChanges, ConnectionsRepository } from './connections.repository';
import { ConnectionsService } from './connections.service';
import { ConnectorRegistry } from './connector-registry';
import { type CheckOutcome, CredentialsCheck } from './credentials-check';

/**
 * The environment connections are declared in (HUBSPOT_ACCESS_TOKEN, ZENDESK_API_TOKEN…).
 * Unbound, it is process.env; bind it to the env the service was started with.
 */
export const CONNECTION_ENV = Symbol('CONNECTION_ENV');
export type ConnectionEnv = Record<string, string | undefined>;

/** Connections declared by environment variables: created or brought up to date at every start. */
@Injectable()
export class DeclaredConnections implements OnApplicationBootstrap {
  private readonly env: ConnectionEnv;

  constructor(
    private readonly repo: ConnectionsRepository,
    private readonly registry: ConnectorRegistry,
    private readonly credentials: CredentialsCheck,
    private readonly connections: ConnectionsService,
    private readonly encryption: Encryption,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(CONNECTION_ENV) env?: ConnectionEnv,
  ) {
    this.env = env ?? process.env;
  }

  /**
   * Creates or updates the connections the environment declares (each connector's fromEnv). An
   * invalid declaration stops the start with a message naming the field; an unreachable vendor
   * does not (the connection is stored unchecked), and rejected credentials are stored as
   * needs_reauth with a log line saying so.
   */
  async onApplicationBootstrap(): Promise<void> {
    for (const definition of this.registry.list()) {
      const declared = definition.fromEnv?.(this.env);
      if (declared && 'missing' in declared) {
        throw new ConfigValidationError([
          `the ${definition.manifest.displayName} connection is declared by environment variables but ${declared.missing.join(', ')} ${declared.missing.length > 1 ? 'are' : 'is'} not set`,
        ]);
      }
      if (declared) await this.applyDeclared(definition, declared);
    }
  }

  private async applyDeclared(definition: ConnectorDefinition, declared: { name: string; credentials: object; settings: object }): Promise<void> {
    const displayName = definition.manifest.displayName;
    const existing = await this.repo.findByName(declared.name);
    if (existing && existing.connectorId !== definition.manifest.id) {
      this.logger.error(
        { connectionId: existing.id },
        `the environment declares a ${displayName} connection named '${declared.name}', but a ${existing.connectorId} connection has that name; left unchanged`,
      );
      return;
    }
    // Keys the environment declares win; settings an operator set through the API stay, and so do
    // credentials the environment does not declare (a signing secret the replies set-up stored):
    // a restart must not undo the set-up.
    const settingsInput = { ...(existing?.settings ?? {}), ...withoutUndefined(declared.settings) };
    const stored = existing ? this.credentials.stored(existing) : undefined;
    const credentialsInput = { ...(stored ?? {}), ...withoutUndefined(declared.credentials) };
    let validated: { credentials?: object; settings: object };
    try {
      validated = await this.credentials.validate(definition, credentialsInput, settingsInput, false);
    } catch (error) {
      // A bad variable stops the start like any other invalid configuration (main exits with 2).
      if (error instanceof InvalidConnectionInputError) {
        throw new ConfigValidationError([`the ${displayName} connection declared by environment variables is invalid: ${error.problems.join('; ')}`]);
      }
      throw error;
    }
    const credentials = validated.credentials!;

    if (!existing) {
      const check = await this.checkAtBoot(definition, credentials, validated.settings, declared.name);
      const stored = check.ok ? await this.credentials.withLearned(definition, credentials, check.learned) : credentials;
      const row = await this.repo.insertIfNameFree({
        connectorId: definition.manifest.id,
        name: declared.name,
        credentialsEnc: this.encryption.encrypt(JSON.stringify(stored)),
        settings: settingsInput,
        enabled: true,
        status: check.ok ? 'active' : 'needs_reauth',
        lastError: check.ok ? null : check.error.message,
        source: 'env',
      });
      if (row) this.logger.info({ connectionId: row.id, connector: row.connectorId }, `connection '${declared.name}' declared by the environment created`);
      return;
    }

    const storedJson = stored === undefined ? undefined : canonicalJson(stored);
    const sameCredentials = storedJson === canonicalJson(credentials);
    const sameSettings = canonicalJson(existing.settings) === canonicalJson(settingsInput);
    // A connector that learns values about its credentials (Zendesk's API user id) is asked at every
    // start (one request): the stored credentials hold the learned values, so they never equal the
    // declared ones, and a connection stored before the connector learned anything learns it now.
    const learns = this.credentials.learns(definition, credentials, validated.settings);
    if (sameCredentials && sameSettings && existing.source === 'env' && !learns) return;

    const changes: ConnectionChanges = {};
    if (existing.source !== 'env') changes.source = 'env';
    if (!sameSettings) changes.settings = settingsInput;
    if (!sameCredentials || learns) {
      const check = await this.checkAtBoot(definition, credentials, validated.settings, declared.name, existing.id);
      let next: object = check.ok ? await this.credentials.withLearned(definition, credentials, check.learned) : credentials;
      // Nothing could be learned (the vendor was unreachable) but the declared values are the stored
      // ones: keep what was learned before rather than forget it until the next start.
      if (check.ok && check.unchecked && learns && stored && declaredValuesKept(stored, credentials)) next = stored;
      if (canonicalJson(next) !== storedJson) changes.credentialsEnc = this.encryption.encrypt(JSON.stringify(next));
      if (!check.ok) {
        if (existing.status !== 'needs_reauth' || existing.lastError !== check.error.message) Object.assign(changes, { status: 'needs_reauth', lastError: check.error.message });
      } else if (existing.status === 'needs_reauth') Object.assign(changes, { status: 'active', failureCount: 0, lastError: null });
    }
    if (Object.keys(changes).length === 0) return;
    await this.connections.applyChanges(existing, changes);
    this.logger.info({ connectionId: existing.id, connector: existing.connectorId }, `connection '${declared.name}' declared by the environment updated`);
  }

  /** Checks credentials at start-up; never throws, so a vendor outage cannot stop the service. */
  private async checkAtBoot(definition: ConnectorDefinition, credentials: object, settings: object, name: string, connectionId?: string): Promise<CheckOutcome> {
    let outcome: CheckOutcome;
    try {
      outcome = await this.credentials.check(definition, credentials, settings, connectionId);
    } catch (error) {
      this.logger.warn({ err: error, connector: definition.manifest.id }, `could not check the credentials of connection '${name}'; stored them unchecked`);
      return { ok: true, unchecked: true };
    }
    if (outcome.ok) return outcome;
    // Nothing this connection does could reach its vendor: stop the boot, as for a bad variable.
    if (outcome.error instanceof EgressRefusedConnectionError) throw new ConfigValidationError([`connection '${name}' declared by environment variables: ${outcome.error.message}`]);
    if (outcome.error instanceof CredentialsRejectedError) {
      this.logger.error(
        { connector: definition.manifest.id },
        `connection '${name}' declared by the environment: ${outcome.error.message}. Stored as needs_reauth: fix its environment variables and restart, or PATCH /api/v1/connections/:id with new credentials`,
      );
      return outcome;
    }
    // The vendor's words go in `err`, whose serializer scrubs them; the message is ours.
    this.logger.warn({ connector: definition.manifest.id, err: outcome.error }, `connection '${name}' declared by the environment could not be checked; stored it unchecked`);
    return { ok: true, unchecked: true };
  }
}

/** Every value `declared` sets is in `stored` as it is (stored may hold more: learned values). */
function declaredValuesKept(stored: Record<string, unknown>, declared: object): boolean {
  return Object.entries(JSON.parse(JSON.stringify(declared)) as Record<string, unknown>).every(
    ([key, value]) => stored[key] !== undefined && canonicalJson(stored[key]) === canonicalJson(value),
  );
}

function withoutUndefined(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/** JSON with object keys sorted, so equal values compare equal whatever order they were written in. */
function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      return Object.fromEntries(
        Object.entries(v)
          .filter(([, x]) => x !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, x]) => [k, sort(x)]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(JSON.parse(JSON.stringify(value))));
}
