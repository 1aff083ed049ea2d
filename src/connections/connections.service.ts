import { Inject, Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { QueryFailedError } from 'typeorm';
import type { ConnectorCapabilities, ConnectorDefinition } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';
import { ConfigValidationError } from '../../config/env.validation';
import { DecryptionError, Encryption } from '../common/encryption';
import { EgressPolicy, egressRefusalIn } from '../common/egress';
import { LOGGER } from '../common/logger';
import { RequestBudgets } from '../tasks/request-budget';
import { TaskQueue } from '../tasks/task-queue';
import {
  ConnectionNotFoundError,
  CredentialsRejectedError,
  DuplicateConnectionNameError,
  EgressRefusedConnectionError,
  InvalidConnectionInputError,
  VendorUnreachableError,
} from './connections.errors';
import { type ConnectionChanges, ConnectionsRepository } from './connections.repository';
import type { ResolvedConnection } from './connections.types';
import { ConnectorFactory } from './connector-factory';
import { ConnectorRegistry } from './connector-registry';
import type { ConnectionEntity, ConnectionStatus } from './entities/connection.entity';

export type { ResolvedConnection };

/**
 * The environment connections are declared in (HUBSPOT_ACCESS_TOKEN, ZENDESK_API_TOKEN…).
 * Unbound, it is process.env; bind it to the env the service was started with.
 */
export const CONNECTION_ENV = Symbol('CONNECTION_ENV');
export type ConnectionEnv = Record<string, string | undefined>;

export interface CreateConnectionInput {
  connectorId: string;
  name: string;
  credentials: unknown;
  settings?: unknown;
  enabled?: boolean;
}

export interface UpdateConnectionInput {
  name?: string;
  enabled?: boolean;
  /** Replaces the settings as a whole. */
  settings?: unknown;
  /** Replaces the credentials as a whole, after the vendor accepted them. */
  credentials?: unknown;
}

/** What the API shows of a connection: everything but the secrets. */
export interface ConnectionView {
  id: string;
  connectorId: string;
  /** The connector's display name; null when this build no longer has the connector. */
  connectorName: string | null;
  name: string;
  enabled: boolean;
  status: ConnectionStatus;
  /** The settings in effect (the stored ones with the connector's defaults filled in). */
  settings: Record<string, unknown>;
  capabilities: ConnectorCapabilities | null;
  budget: { requests: number; perMs: number } | null;
  retryAfter: Date | null;
  failureCount: number;
  lastError: string | null;
  source: string;
  createdAt: Date;
  updatedAt: Date;
  /** Which credential fields are set, never their values. */
  credentials: Record<string, 'set'>;
}

/** Input from the API is checked strictly: an unknown key is a typo the operator should hear about. */
const STRICT = { rejectUnknown: true };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What a credentials check found. `learned`: values the connector learned about the credentials
 * (learnCredentials), to store with them. `unchecked`: the vendor could not be reached at start.
 */
type CheckOutcome = { ok: true; learned?: Record<string, string>; unchecked?: boolean } | { ok: false; error: CredentialsRejectedError | VendorUnreachableError | EgressRefusedConnectionError };

/**
 * Configured instances of connectors: their credentials (encrypted at rest, checked against the
 * vendor before they are stored), settings, status and sync state, and the connections declared by
 * environment variables.
 */
@Injectable()
export class ConnectionsService implements OnApplicationBootstrap {
  private readonly env: ConnectionEnv;

  constructor(
    private readonly repo: ConnectionsRepository,
    private readonly registry: ConnectorRegistry,
    private readonly factory: ConnectorFactory,
    private readonly encryption: Encryption,
    private readonly queue: TaskQueue,
    private readonly budgets: RequestBudgets,
    private readonly egress: EgressPolicy,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(CONNECTION_ENV) env?: ConnectionEnv,
  ) {
    this.env = env ?? process.env;
  }

  // ---------------------------------------------------------------------------------------------
  // Administration

  /**
   * Creates a connection after validating its credentials and settings against the connector's
   * DTOs and checking the credentials with the vendor. Throws UnknownConnectorError,
   * InvalidConnectionInputError, DuplicateConnectionNameError, CredentialsRejectedError or
   * VendorUnreachableError; nothing is stored then.
   */
  async create(input: CreateConnectionInput): Promise<ConnectionView> {
    const definition = this.registry.get(input.connectorId);
    const validated = await this.validateInput(definition, input.credentials ?? null, input.settings ?? {});
    if (await this.repo.findByName(input.name)) throw new DuplicateConnectionNameError(input.name);
    const check = await this.checkCredentials(definition, validated.credentials!, validated.settings);
    if (!check.ok) throw check.error;
    const credentials = await this.withLearned(definition, validated.credentials!, check.learned);
    const row = await this.translateNameConflict(input.name, () =>
      this.repo.insert({
        connectorId: definition.manifest.id,
        name: input.name,
        credentialsEnc: this.encryption.encrypt(JSON.stringify(credentials)),
        settings: (input.settings ?? {}) as Record<string, unknown>,
        enabled: input.enabled ?? true,
        status: 'active',
        source: 'api',
      }),
    );
    this.logger.info({ connectionId: row.id, connector: row.connectorId }, 'connection created');
    return this.view(row);
  }

  /** Every connection, oldest first, without secrets. */
  async list(): Promise<ConnectionView[]> {
    const rows = await this.repo.list();
    return Promise.all(rows.map((row) => this.view(row)));
  }

  /** One connection without secrets; ConnectionNotFoundError when unknown. */
  async get(id: string): Promise<ConnectionView> {
    return this.view(await this.findOrFail(id));
  }

  /**
   * Changes a connection. New credentials are validated and checked with the vendor first; when
   * accepted for a connection that needed re-authentication, it becomes active again. Work that
   * waited for the connection (needs_reauth or disabled) is released at once when it can run again.
   */
  async update(id: string, input: UpdateConnectionInput): Promise<ConnectionView> {
    const current = await this.findOrFail(id);
    const definition = this.registry.get(current.connectorId);
    const changes: ConnectionChanges = {};

    if (input.name !== undefined && input.name !== current.name) {
      if (await this.repo.findByName(input.name)) throw new DuplicateConnectionNameError(input.name);
      changes.name = input.name;
    }
    if (input.credentials !== undefined || input.settings !== undefined) {
      // Stored settings are read leniently: only what the operator sends now must be spotless.
      const { credentials, settings } = await this.validateInput(definition, input.credentials, input.settings ?? current.settings, input.settings !== undefined);
      if (input.settings !== undefined) changes.settings = input.settings as Record<string, unknown>;
      if (credentials) {
        const check = await this.checkCredentials(definition, credentials, settings, current.id);
        if (!check.ok) throw check.error;
        changes.credentialsEnc = this.encryption.encrypt(JSON.stringify(await this.withLearned(definition, credentials, check.learned)));
        if (current.status === 'needs_reauth') Object.assign(changes, { status: 'active', failureCount: 0, lastError: null });
      }
    }
    if (input.enabled !== undefined && input.enabled !== current.enabled) changes.enabled = input.enabled;

    await this.translateNameConflict(input.name ?? current.name, () => this.applyChanges(current, changes));
    this.logger.info({ connectionId: id, changed: Object.keys(changes).map((k) => (k === 'credentialsEnc' ? 'credentials' : k)) }, 'connection updated');
    return this.get(id);
  }

  /** Deletes a connection; its outbox rows, remote links and leases go with it (foreign keys). */
  async remove(id: string): Promise<void> {
    if (!UUID.test(id) || !(await this.repo.delete(id))) throw new ConnectionNotFoundError(id);
    this.logger.info({ connectionId: id }, 'connection deleted');
  }

  /**
   * Rewrites credentials encrypted under the previous key (ENCRYPTION_KEY_PREVIOUS) with the
   * current one. Returns how many were rewritten; after it, the previous key can be dropped.
   */
  async reencryptAll(): Promise<number> {
    let rewritten = 0;
    for (const row of await this.repo.listCredentials()) {
      if (!this.encryption.needsReencryption(row.credentialsEnc)) continue;
      let plaintext: string;
      try {
        plaintext = this.encryption.decrypt(row.credentialsEnc);
      } catch (error) {
        // One damaged value must not stop the rotation of the others; resolve() reports it.
        this.logger.warn({ connectionId: row.id, err: error }, 'credentials cannot be decrypted; left as they are');
        continue;
      }
      if (await this.repo.replaceCredentialsIf(row.id, row.credentialsEnc, this.encryption.encrypt(plaintext))) rewritten++;
    }
    return rewritten;
  }

  // ---------------------------------------------------------------------------------------------
  // For the sync engine

  /**
   * The connection with its credentials decrypted and validated, ready for ConnectorFactory.create.
   * Null when it does not exist, or when its stored credentials or settings cannot be used (then it
   * is marked needs_reauth with the reason, so an operator sees what to fix).
   */
  async resolve(connectionId: string): Promise<ResolvedConnection | null> {
    if (!UUID.test(connectionId)) return null;
    const connection = await this.repo.findById(connectionId);
    return connection ? this.resolveRow(connection) : null;
  }

  /** Enabled connections whose connector (with their settings) has this capability. */
  async listEnabledWith(capability: keyof ConnectorCapabilities): Promise<ResolvedConnection[]> {
    const resolved: ResolvedConnection[] = [];
    for (const row of await this.repo.findEnabled()) {
      const r = await this.resolveRow(row);
      if (r?.capabilities[capability]) resolved.push(r);
    }
    return resolved;
  }

  /** The vendor refused the credentials: no work runs for this connection until an operator fixes them. */
  async markNeedsReauth(id: string, reason: string): Promise<void> {
    await this.repo.markNeedsReauth(id, reason);
  }

  /** No call to this connection's vendor before `until` (null clears the pause). */
  async setRetryAfter(id: string, until: Date | null): Promise<void> {
    await this.repo.setRetryAfter(id, until);
  }

  /**
   * No call to this connection's vendor for `delayMs`, from any worker or task: the shared request
   * budget is paused (calls already waiting on it wait longer) and the pause is stored with the
   * connection (drains and tasks that start later see it). `failure` also counts a failed call; a
   * rate limit is the vendor pacing us, not a failure, so it passes none. Returns when it ends.
   */
  async pause(id: string, delayMs: number, failure?: string): Promise<Date> {
    const until = new Date(Date.now() + delayMs);
    await this.budgets.pauseFor(id, delayMs);
    await this.repo.setRetryAfter(id, until);
    if (failure !== undefined) await this.repo.recordFailure(id, failure);
    return until;
  }

  /** Counts a failed call and keeps its reason for the operator. */
  async recordFailure(id: string, message: string): Promise<void> {
    await this.repo.recordFailure(id, message);
  }

  /** A call succeeded: clears the failure count and last error (writes only when there is something to clear). */
  async recordSuccess(id: string): Promise<void> {
    await this.repo.recordSuccess(id);
  }

  // ---------------------------------------------------------------------------------------------
  // Connections declared by environment variables

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
    const stored = existing ? this.storedCredentials(existing) : undefined;
    const credentialsInput = { ...(stored ?? {}), ...withoutUndefined(declared.credentials) };
    let validated: { credentials?: object; settings: object };
    try {
      validated = await this.validateInput(definition, credentialsInput, settingsInput, false);
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
      const stored = check.ok ? await this.withLearned(definition, credentials, check.learned) : credentials;
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
    const learns = this.learnsCredentials(definition, credentials, validated.settings);
    if (sameCredentials && sameSettings && existing.source === 'env' && !learns) return;

    const changes: ConnectionChanges = {};
    if (existing.source !== 'env') changes.source = 'env';
    if (!sameSettings) changes.settings = settingsInput;
    if (!sameCredentials || learns) {
      const check = await this.checkAtBoot(definition, credentials, validated.settings, declared.name, existing.id);
      let next: object = check.ok ? await this.withLearned(definition, credentials, check.learned) : credentials;
      // Nothing could be learned (the vendor was unreachable) but the declared values are the stored
      // ones: keep what was learned before rather than forget it until the next start.
      if (check.ok && check.unchecked && learns && stored && declaredValuesKept(stored, credentials)) next = stored;
      if (canonicalJson(next) !== storedJson) changes.credentialsEnc = this.encryption.encrypt(JSON.stringify(next));
      if (!check.ok) {
        if (existing.status !== 'needs_reauth' || existing.lastError !== check.error.message) Object.assign(changes, { status: 'needs_reauth', lastError: check.error.message });
      } else if (existing.status === 'needs_reauth') Object.assign(changes, { status: 'active', failureCount: 0, lastError: null });
    }
    if (Object.keys(changes).length === 0) return;
    await this.applyChanges(existing, changes);
    this.logger.info({ connectionId: existing.id, connector: existing.connectorId }, `connection '${declared.name}' declared by the environment updated`);
  }

  /** Checks credentials at start-up; never throws, so a vendor outage cannot stop the service. */
  private async checkAtBoot(definition: ConnectorDefinition, credentials: object, settings: object, name: string, connectionId?: string): Promise<CheckOutcome> {
    let outcome: CheckOutcome;
    try {
      outcome = await this.checkCredentials(definition, credentials, settings, connectionId);
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

  // ---------------------------------------------------------------------------------------------

  private async findOrFail(id: string): Promise<ConnectionEntity> {
    const row = UUID.test(id) ? await this.repo.findById(id) : null;
    if (!row) throw new ConnectionNotFoundError(id);
    return row;
  }

  /**
   * Validates credentials (when given) and settings, reporting the problems of both at once.
   * `strictSettings` false reads settings already stored, which may hold keys a newer connector dropped.
   */
  private async validateInput(
    definition: ConnectorDefinition,
    credentialsInput: unknown,
    settingsInput: unknown,
    strictSettings = true,
  ): Promise<{ credentials?: object; settings: object }> {
    const problems: string[] = [];
    const collect = async <T>(work: Promise<T>): Promise<T | undefined> => {
      try {
        return await work;
      } catch (error) {
        if (!(error instanceof InvalidConnectionInputError)) throw error;
        problems.push(...error.problems);
        return undefined;
      }
    };
    const credentials = credentialsInput === undefined ? undefined : await collect(this.registry.validateCredentials(definition, credentialsInput, STRICT));
    const settings = await collect(this.registry.validateSettings(definition, settingsInput, strictSettings ? STRICT : {}));
    if (problems.length > 0) throw new InvalidConnectionInputError(problems);
    return { credentials, settings: settings! };
  }

  /**
   * Asks the vendor whether it accepts the credentials, and what the connector learns about them
   * (learnCredentials). Errors other than ConnectorError propagate.
   */
  private async checkCredentials(definition: ConnectorDefinition, credentials: object, settings: object, connectionId?: string): Promise<CheckOutcome> {
    const displayName = definition.manifest.displayName;
    // Where the connection would send requests is checked before any is sent (the socket-level
    // check would refuse them too, but as a network error rather than a reason the operator reads).
    const endpoints = definition.endpoints(credentials, settings);
    for (const url of endpoints) {
      const reason = await this.egress.checkUrl(url);
      if (reason) return { ok: false, error: new EgressRefusedConnectionError(displayName, url, reason) };
    }
    const connector = this.factory.forCredentialsCheck(definition, credentials, settings, this.registry.budget(definition, settings), connectionId);
    try {
      await connector.verifyCredentials();
    } catch (error) {
      if (!ConnectorError.is(error)) throw error;
      // Refused at connect time: a redirect, or a name that resolves elsewhere than it did above.
      const refused = egressRefusalIn(error);
      if (refused) return { ok: false, error: new EgressRefusedConnectionError(displayName, endpoints[0] ?? '', refused.reason ?? refused.message) };
      const reason = scrubSecrets(error.message, credentials);
      if (error.kind === 'transient' || error.kind === 'rate_limited') return { ok: false, error: new VendorUnreachableError(displayName, reason) };
      return { ok: false, error: new CredentialsRejectedError(displayName, reason) };
    }
    if (!connector.learnCredentials) return { ok: true };
    try {
      return { ok: true, learned: await connector.learnCredentials() };
    } catch (error) {
      // The credentials work; what could not be learned now is learned at the next check.
      if (!ConnectorError.is(error)) throw error;
      this.logger.warn({ connector: definition.manifest.id, kind: error.kind, reason: scrubSecrets(error.message, credentials) }, 'credentials accepted, but what the connector learns about them could not be read');
      return { ok: true };
    }
  }

  /** Whether the connector learns values about its credentials (learnCredentials). */
  private learnsCredentials(definition: ConnectorDefinition, credentials: object, settings: object): boolean {
    return typeof this.factory.forCredentialsCheck(definition, credentials, settings, this.registry.budget(definition, settings)).learnCredentials === 'function';
  }

  /**
   * The credentials with what the connector learned about them. A learned value the credentials
   * DTO would not accept is left out (a connector bug must not make the connection unusable).
   */
  private async withLearned(definition: ConnectorDefinition, credentials: object, learned: Record<string, string> | undefined): Promise<object> {
    if (!learned || Object.keys(learned).length === 0) return credentials;
    try {
      return await this.registry.validateCredentials(definition, { ...JSON.parse(JSON.stringify(credentials)), ...learned }, STRICT);
    } catch (error) {
      if (!(error instanceof InvalidConnectionInputError)) throw error;
      this.logger.warn({ connector: definition.manifest.id, problems: error.problems }, 'a value the connector learned about its credentials is not valid; not stored');
      return credentials;
    }
  }

  /** Writes the changes and, when the connection can run again, releases the work that waited for it. */
  private async applyChanges(current: ConnectionEntity, changes: ConnectionChanges): Promise<void> {
    const after = { ...current, ...changes };
    const wasParked = !current.enabled || current.status !== 'active';
    const runsNow = after.enabled && after.status === 'active';
    const released = await this.repo.transaction(async (manager) => {
      await this.repo.update(current.id, changes, manager);
      return wasParked && runsNow ? this.repo.releasePendingWork(current.id, manager) : [];
    });
    if (released.length > 0) {
      // After the commit, so a worker that picks a task up sees the connection active.
      await this.queue.enqueue(released);
      this.logger.info({ connectionId: current.id, tasks: released.length }, 'connection can sync again; waiting work released');
    }
  }

  private async translateNameConflict<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const code = error instanceof QueryFailedError ? (error.driverError as { code?: string } | undefined)?.code : undefined;
      if (code === '23505') throw new DuplicateConnectionNameError(name);
      throw error;
    }
  }

  private async resolveRow(connection: ConnectionEntity): Promise<ResolvedConnection | null> {
    const definition = this.registry.find(connection.connectorId);
    if (!definition) {
      await this.repo.markNeedsReauth(connection.id, `connector '${connection.connectorId}' is not part of this version of threadbridge`);
      return null;
    }
    const displayName = definition.manifest.displayName;
    let plain: unknown;
    try {
      plain = JSON.parse(this.encryption.decrypt(connection.credentialsEnc));
    } catch (error) {
      if (!(error instanceof DecryptionError) && !(error instanceof SyntaxError)) throw error;
      const reason = error instanceof DecryptionError ? error.message : 'they are not JSON';
      await this.repo.markNeedsReauth(connection.id, `the stored credentials cannot be read (${reason}); enter them again`);
      return null;
    }
    let credentials: object;
    let settings: object;
    try {
      credentials = await this.registry.validateCredentials(definition, plain);
      settings = await this.registry.validateSettings(definition, connection.settings);
    } catch (error) {
      if (!(error instanceof InvalidConnectionInputError)) throw error;
      await this.repo.markNeedsReauth(connection.id, `the stored configuration is not valid for ${displayName}: ${error.problems.join('; ')}`);
      return null;
    }
    return {
      connection,
      definition,
      credentials,
      settings,
      capabilities: this.registry.capabilities(definition, settings),
      budget: this.registry.budget(definition, settings),
    };
  }

  /** The stored credentials as plain JSON, or undefined when they cannot be read. */
  private storedCredentials(row: ConnectionEntity): Record<string, unknown> | undefined {
    try {
      return JSON.parse(this.encryption.decrypt(row.credentialsEnc)) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  private async view(row: ConnectionEntity): Promise<ConnectionView> {
    const definition = this.registry.find(row.connectorId);
    let settings: Record<string, unknown> = row.settings;
    let capabilities: ConnectorCapabilities | null = null;
    let budget: { requests: number; perMs: number } | null = null;
    if (definition) {
      try {
        const effective = await this.registry.validateSettings(definition, row.settings);
        settings = JSON.parse(JSON.stringify(effective)) as Record<string, unknown>;
        capabilities = this.registry.capabilities(definition, effective);
        budget = this.registry.budget(definition, effective);
      } catch (error) {
        if (!(error instanceof InvalidConnectionInputError)) throw error;
        // Shown as stored; the connection is marked needs_reauth with the problems when it next syncs.
        capabilities = definition.manifest.capabilities;
        budget = definition.manifest.defaultBudget;
      }
    }
    return {
      id: row.id,
      connectorId: row.connectorId,
      connectorName: definition?.manifest.displayName ?? null,
      name: row.name,
      enabled: row.enabled,
      status: row.status,
      settings,
      capabilities,
      budget,
      retryAfter: row.retryAfter,
      failureCount: row.failureCount,
      lastError: row.lastError,
      source: row.source,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      credentials: this.credentialFieldsSet(row),
    };
  }

  private credentialFieldsSet(row: ConnectionEntity): Record<string, 'set'> {
    let plain: unknown;
    try {
      plain = JSON.parse(this.encryption.decrypt(row.credentialsEnc));
    } catch {
      return {};
    }
    const fields: Record<string, 'set'> = {};
    for (const [key, value] of Object.entries(plain as Record<string, unknown>)) {
      if (value !== undefined && value !== null && value !== '') fields[key] = 'set';
    }
    return fields;
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

/** A vendor's message may quote what it was sent: remove every credential value from it. */
function scrubSecrets(message: string, credentials: object): string {
  const secrets = Object.values(credentials)
    .filter((v): v is string => typeof v === 'string' && v.length >= 4)
    .sort((a, b) => b.length - a.length);
  return secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), message);
}
