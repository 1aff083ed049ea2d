import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { QueryFailedError } from 'typeorm';
import type { ConnectorCapabilities, ConnectorDefinition } from '../../connectors/_sdk/contract';
import { DecryptionError, Encryption } from '../common/encryption';
import { LOGGER } from '../common/logger';
import { RequestBudgets } from '../tasks/request-budget';
import { TaskQueue } from '../tasks/task-queue';
import { ConnectionNotFoundError, DuplicateConnectionNameError, InvalidConnectionInputError } from './connections.errors';
import { type ConnectionChanges, ConnectionsRepository } from './connections.repository';
import type { ResolvedConnection } from './connections.types';
import { ConnectorFactory } from './connector-factory';
import { ConnectorRegistry } from './connector-registry';
import { CredentialsCheck } from './credentials-check';
import type { ConnectionEntity, ConnectionStatus } from './entities/connection.entity';

export type { ResolvedConnection };

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
  /**
   * Credential values threadbridge generated in this call (e.g. a webhook signing secret), shown
   * this once and never again: only in the answer to the create/update that made them.
   */
  generatedCredentials?: Record<string, string>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Configured instances of connectors: their administration through the API (credentials encrypted
 * at rest and checked with the vendor before they are stored, settings, enabling), and their
 * runtime state for the code that calls connectors (resolve, pause, needs_reauth, failures).
 * Connections declared by environment variables: DeclaredConnections.
 */
@Injectable()
export class ConnectionsService {
  /** Capabilities by connection and version (id@updatedAt): building a connector to read its facets once per change is enough. */
  private readonly capabilityCache = new Map<string, ConnectorCapabilities>();

  constructor(
    private readonly repo: ConnectionsRepository,
    private readonly registry: ConnectorRegistry,
    private readonly factory: ConnectorFactory,
    private readonly credentials: CredentialsCheck,
    private readonly encryption: Encryption,
    private readonly queue: TaskQueue,
    private readonly budgets: RequestBudgets,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

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
    const { credentials: given, generated } = this.credentials.withGenerated(definition, input.credentials ?? null);
    const validated = await this.credentials.validate(definition, given, input.settings ?? {});
    if (await this.repo.findByName(input.name)) throw new DuplicateConnectionNameError(input.name);
    const check = await this.credentials.check(definition, validated.credentials!, validated.settings, undefined, { withVendor: !generated });
    if (!check.ok) throw check.error;
    const credentials = await this.credentials.withLearned(definition, validated.credentials!, check.learned);
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
    this.logger.info({ connectionId: row.id, connector: row.connectorId, generated: generated ? Object.keys(generated) : undefined }, 'connection created');
    return { ...(await this.view(row)), ...(generated ? { generatedCredentials: generated } : {}) };
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
   * accepted for a connection that needed re-authentication or was disabled by the remote side, or
   * such a connection is enabled again, it becomes active again. Work that
   * waited for the connection (needs_reauth or disabled) is released at once when it can run again.
   */
  async update(id: string, input: UpdateConnectionInput): Promise<ConnectionView> {
    const current = await this.findOrFail(id);
    const definition = this.registry.get(current.connectorId);
    const changes: ConnectionChanges = {};
    const { credentials: givenCredentials, generated } = input.credentials === undefined ? { credentials: undefined, generated: undefined } : this.credentials.withGenerated(definition, input.credentials);

    if (input.name !== undefined && input.name !== current.name) {
      if (await this.repo.findByName(input.name)) throw new DuplicateConnectionNameError(input.name);
      changes.name = input.name;
    }
    if (input.credentials !== undefined || input.settings !== undefined) {
      // Stored settings are read leniently: only what the operator sends now must be spotless.
      const { credentials, settings } = await this.credentials.validate(definition, givenCredentials, input.settings ?? current.settings, input.settings !== undefined);
      if (input.settings !== undefined) changes.settings = input.settings as Record<string, unknown>;
      if (credentials) {
        const check = await this.credentials.check(definition, credentials, settings, current.id, { withVendor: !generated });
        if (!check.ok) throw check.error;
        changes.credentialsEnc = this.encryption.encrypt(JSON.stringify(await this.credentials.withLearned(definition, credentials, check.learned)));
        if (current.status !== 'active') Object.assign(changes, { status: 'active', failureCount: 0, lastError: null });
      }
    }
    if (input.enabled !== undefined && input.enabled !== current.enabled) changes.enabled = input.enabled;
    // Disabled by the remote side (status disabled): enabling it again is the operator's answer.
    if (input.enabled === true && current.status === 'disabled') Object.assign(changes, { status: 'active', failureCount: 0, lastError: null });

    await this.translateNameConflict(input.name ?? current.name, () => this.applyChanges(current, changes));
    this.logger.info({ connectionId: id, changed: Object.keys(changes).map((k) => (k === 'credentialsEnc' ? 'credentials' : k)) }, 'connection updated');
    return { ...(await this.get(id)), ...(generated ? { generatedCredentials: generated } : {}) };
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

  /**
   * The remote side asked not to be called any more (a webhook receiver's 410 Gone): the
   * connection's status becomes disabled, with the reason as its last error, and its work waits.
   * An operator enables it again with PATCH (enabled: true, or new credentials).
   */
  async markDisabledByRemote(id: string, reason: string): Promise<void> {
    await this.repo.markDisabled(id, reason);
    this.logger.warn({ connectionId: id, reason }, 'connection disabled by the remote side');
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

  private async findOrFail(id: string): Promise<ConnectionEntity> {
    const row = UUID.test(id) ? await this.repo.findById(id) : null;
    if (!row) throw new ConnectionNotFoundError(id);
    return row;
  }

  /** Writes the changes and, when the connection can run again, releases the work that waited for it. */
  async applyChanges(current: ConnectionEntity, changes: ConnectionChanges): Promise<void> {
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
      capabilities: this.capabilitiesOf(connection, definition, credentials, settings),
      budget: this.registry.budget(definition, settings),
    };
  }

  /** What the connection can do: the facets of its connector with these credentials and settings. */
  private capabilitiesOf(row: ConnectionEntity, definition: ConnectorDefinition, credentials: object, settings: object): ConnectorCapabilities {
    const key = `${row.id}@${row.updatedAt.getTime()}`;
    let capabilities = this.capabilityCache.get(key);
    if (!capabilities) {
      capabilities = this.factory.capabilities(definition, credentials, settings);
      if (this.capabilityCache.size >= 1_000) this.capabilityCache.clear();
      this.capabilityCache.set(key, capabilities);
    }
    return capabilities;
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
        budget = this.registry.budget(definition, effective);
        const credentials = await this.readCredentials(row, definition);
        // Unreadable credentials: no capabilities to show; the connection is marked needs_reauth when it next syncs.
        capabilities = credentials ? this.capabilitiesOf(row, definition, credentials, effective) : null;
      } catch (error) {
        if (!(error instanceof InvalidConnectionInputError)) throw error;
        // Shown as stored; the connection is marked needs_reauth with the problems when it next syncs.
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

  /** The stored credentials as the connector's DTO, or null when they cannot be read or are not valid. */
  private async readCredentials(row: ConnectionEntity, definition: ConnectorDefinition): Promise<object | null> {
    try {
      return await this.registry.validateCredentials(definition, JSON.parse(this.encryption.decrypt(row.credentialsEnc)));
    } catch (error) {
      if (error instanceof DecryptionError || error instanceof SyntaxError || error instanceof InvalidConnectionInputError) return null;
      throw error;
    }
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
