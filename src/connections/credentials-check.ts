import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { ConnectorDefinition } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';
import { Encryption } from '../common/encryption';
import { EgressPolicy, egressRefusalIn } from '../common/egress';
import { LOGGER } from '../common/logger';
import { CredentialsRejectedError, EgressRefusedConnectionError, InvalidConnectionInputError, VendorUnreachableError } from './connections.errors';
import { ConnectorFactory } from './connector-factory';
import { ConnectorRegistry } from './connector-registry';
import type { ConnectionEntity } from './entities/connection.entity';

/** Input from the API is checked strictly: an unknown key is a typo the operator should hear about. */
const STRICT = { rejectUnknown: true };

/**
 * What a credentials check found. `learned`: values the connector learned about the credentials
 * (learnCredentials), to store with them. `unchecked`: the vendor could not be reached at start.
 */
export type CheckOutcome = { ok: true; learned?: Record<string, string>; unchecked?: boolean } | { ok: false; error: CredentialsRejectedError | VendorUnreachableError | EgressRefusedConnectionError };

/**
 * A connection's credentials and settings before they are stored: validated against the
 * connector's DTOs, their endpoints against the egress policy, and the credentials with the
 * vendor (with what the connector learns about them). Used by the API (ConnectionsService) and
 * by the connections the environment declares (DeclaredConnections).
 */
@Injectable()
export class CredentialsCheck {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly factory: ConnectorFactory,
    private readonly encryption: Encryption,
    private readonly egress: EgressPolicy,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The credentials as sent, with the values the connector makes up for fields left out
   * (ConnectorDefinition.generateCredentials, e.g. a signing secret), and those values alone, to
   * show once. Input that is not an object is returned as it is (validation refuses it).
   */
  withGenerated(definition: ConnectorDefinition, input: unknown): { credentials: unknown; generated?: Record<string, string> } {
    if (!definition.generateCredentials || !input || typeof input !== 'object' || Array.isArray(input)) return { credentials: input };
    const given = input as Record<string, unknown>;
    const generated = Object.fromEntries(Object.entries(definition.generateCredentials(given)).filter(([key]) => given[key] === undefined || given[key] === null || given[key] === ''));
    if (Object.keys(generated).length === 0) return { credentials: input };
    return { credentials: { ...given, ...generated }, generated };
  }

  /**
   * Validates credentials (when given) and settings, reporting the problems of both at once.
   * `strictSettings` false reads settings already stored, which may hold keys a newer connector dropped.
   */
  async validate(
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
  async check(definition: ConnectorDefinition, credentials: object, settings: object, connectionId?: string, options: { withVendor?: boolean } = {}): Promise<CheckOutcome> {
    const displayName = definition.manifest.displayName;
    // Where the connection would send requests is checked before any is sent (the socket-level
    // check would refuse them too, but as a network error rather than a reason the operator reads).
    const endpoints = definition.endpoints(credentials, settings);
    for (const url of endpoints) {
      const reason = await this.egress.checkUrl(url);
      if (reason) return { ok: false, error: new EgressRefusedConnectionError(displayName, url, reason) };
    }
    // Credentials threadbridge generated just now cannot be known to the vendor yet (a receiver is
    // given its secret from this call's answer): their first use is their check.
    if (options.withVendor === false) return { ok: true };
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
  learns(definition: ConnectorDefinition, credentials: object, settings: object): boolean {
    return typeof this.factory.forCredentialsCheck(definition, credentials, settings, this.registry.budget(definition, settings)).learnCredentials === 'function';
  }

  /**
   * The credentials with what the connector learned about them. A learned value the credentials
   * DTO would not accept is left out (a connector bug must not make the connection unusable).
   */
  async withLearned(definition: ConnectorDefinition, credentials: object, learned: Record<string, string> | undefined): Promise<object> {
    if (!learned || Object.keys(learned).length === 0) return credentials;
    try {
      return await this.registry.validateCredentials(definition, { ...JSON.parse(JSON.stringify(credentials)), ...learned }, STRICT);
    } catch (error) {
      if (!(error instanceof InvalidConnectionInputError)) throw error;
      this.logger.warn({ connector: definition.manifest.id, problems: error.problems }, 'a value the connector learned about its credentials is not valid; not stored');
      return credentials;
    }
  }

  /** The stored credentials as plain JSON, or undefined when they cannot be read. */
  stored(row: ConnectionEntity): Record<string, unknown> | undefined {
    try {
      return JSON.parse(this.encryption.decrypt(row.credentialsEnc)) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }
}

/** A vendor's message may quote what it was sent: remove every credential value from it. */
function scrubSecrets(message: string, credentials: object): string {
  const secrets = Object.values(credentials)
    .filter((v): v is string => typeof v === 'string' && v.length >= 4)
    .sort((a, b) => b.length - a.length);
  return secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), message);
}
