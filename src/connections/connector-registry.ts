import { Inject, Injectable, Optional } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import type { ConnectorDefinition } from '../../connectors/_sdk/contract';
import { CONNECTORS } from '../../connectors/index';
import { InvalidConnectionInputError, UnknownConnectorError } from './connections.errors';
import { CORE_SETTING_KEYS, CoreConnectionSettingsDto } from './connection-settings';

export { InvalidConnectionInputError, UnknownConnectorError };

/**
 * The connector definitions the registry serves. ConnectionsModule binds it to connectors/index.ts's
 * list (the only list); tests of the core bind an in-memory connector instead
 * (connectors/_sdk/testing/fake-crm.connector.ts) with overrideProvider.
 */
export const CONNECTOR_DEFINITIONS = Symbol('CONNECTOR_DEFINITIONS');

/** CONNECTOR_DEFINITIONS bound to connectors/index.ts's list; this file stays the core's one door to it. */
export const SHIPPED_CONNECTORS = { provide: CONNECTOR_DEFINITIONS, useValue: CONNECTORS as readonly ConnectorDefinition[] };

export interface Budget {
  requests: number;
  perMs: number;
}

export interface ValidateOptions {
  /**
   * Refuse properties the DTO does not declare (an operator's typo) instead of dropping them.
   * Stored values are read leniently, so a setting a newer connector version dropped never
   * breaks an existing connection.
   */
  rejectUnknown?: boolean;
}

/**
 * The connectors of this build (connectors/index.ts is the only list) and what the core needs to
 * know about each: its DTOs and request budget (what a connection can do is the facets its
 * connector has: ConnectorFactory.capabilities). The core reaches vendor code only
 * through this class and never branches on a connector's id.
 */
@Injectable()
export class ConnectorRegistry {
  private readonly byId: ReadonlyMap<string, ConnectorDefinition>;

  constructor(@Optional() @Inject(CONNECTOR_DEFINITIONS) definitions: readonly ConnectorDefinition[] = SHIPPED_CONNECTORS.useValue) {
    this.byId = new Map(definitions.map((definition) => [definition.manifest.id, definition]));
  }

  /** The connector with this id; UnknownConnectorError when this build has none. */
  get(connectorId: string): ConnectorDefinition {
    const definition = this.byId.get(connectorId);
    if (!definition) throw new UnknownConnectorError(connectorId, [...this.byId.keys()]);
    return definition;
  }

  /** The connector with this id, or undefined. */
  find(connectorId: string): ConnectorDefinition | undefined {
    return this.byId.get(connectorId);
  }

  list(): ConnectorDefinition[] {
    return [...this.byId.values()];
  }

  /** The request budget of a connection with these settings (a higher vendor tier, or the default). */
  budget(definition: ConnectorDefinition, settings: object): Budget {
    const budget = definition.budgetFor?.(settings) ?? definition.manifest.defaultBudget;
    return { requests: budget.requests, perMs: budget.perMs };
  }

  /** Credentials as an instance of the connector's credentials DTO, or InvalidConnectionInputError. */
  validateCredentials(definition: ConnectorDefinition, plain: unknown, options: ValidateOptions = {}): Promise<object> {
    return this.validateAgainst(definition.credentials, plain, 'credentials', options);
  }

  /**
   * Settings as an instance of the connector's settings DTO, with the DTO's defaults filled in for
   * absent keys (`{}` and undefined are valid when every setting has a default).
   */
  async validateSettings(definition: ConnectorDefinition, plain: unknown, options: ValidateOptions = {}): Promise<object> {
    const input = plain ?? {};
    if (typeof input !== 'object' || Array.isArray(input)) return this.validateAgainst(definition.settings, input, 'settings', options);
    // Core settings (CORE_SETTING_KEYS) are checked here and kept beside the connector's own.
    const entries = Object.entries(input);
    const core = Object.fromEntries(entries.filter(([key]) => CORE_SETTING_KEYS.includes(key)));
    const own = Object.fromEntries(entries.filter(([key]) => !CORE_SETTING_KEYS.includes(key)));
    const problems: string[] = [];
    const collect = (work: Promise<object>) =>
      work.catch((error: unknown) => {
        if (!(error instanceof InvalidConnectionInputError)) throw error;
        problems.push(...error.problems);
        return {};
      });
    const settings = await collect(this.validateAgainst(definition.settings, own, 'settings', options));
    const coreSettings = await collect(this.validateAgainst(CoreConnectionSettingsDto, core, 'settings', options));
    if (problems.length > 0) throw new InvalidConnectionInputError(problems);
    for (const [key, value] of Object.entries(coreSettings)) if (value !== undefined) Object.assign(settings, { [key]: value });
    return settings;
  }

  private async validateAgainst(dto: new () => object, plain: unknown, part: string, options: ValidateOptions): Promise<object> {
    if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
      throw new InvalidConnectionInputError([`${part}: must be a JSON object`]);
    }
    // exposeDefaultValues keeps the DTO's initialisers for keys that are absent or undefined,
    // including inside nested DTOs (@Type), so partial settings get every default.
    const instance = plainToInstance(dto, plain, { exposeDefaultValues: true });
    const errors = await validate(instance, {
      whitelist: true,
      forbidNonWhitelisted: options.rejectUnknown === true,
      forbidUnknownValues: false,
      validationError: { target: false, value: false },
    });
    if (errors.length > 0) {
      const lines = describe(errors, part);
      throw new InvalidConnectionInputError(part === 'credentials' ? lines.map((line) => scrub(line, plain)) : lines);
    }
    return instance;
  }
}

/** One line per field problem, with the path to nested fields ("settings.tickets.pipeline: …"). */
function describe(errors: ValidationError[], prefix: string): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const path = `${prefix}.${error.property}`;
    if (error.constraints) lines.push(`${path}: ${Object.values(error.constraints).join(', ')}`);
    if (error.children?.length) lines.push(...describe(error.children, path));
  }
  return lines;
}

/**
 * Removes every credentials string the operator sent from a message: a DTO's custom message may
 * quote the value ($value), and a credentials value is a secret.
 */
function scrub(message: string, plain: unknown): string {
  const values: string[] = [];
  const collect = (value: unknown, depth: number) => {
    if (depth > 5) return;
    if (typeof value === 'string' && value.length >= 4) values.push(value);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) collect(v, depth + 1);
  };
  collect(plain, 0);
  return values.sort((a, b) => b.length - a.length).reduce((text, value) => text.split(value).join('[redacted]'), message);
}
