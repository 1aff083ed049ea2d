import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { capabilitiesOf, FACET_NAMES, type ConnectorCapabilities, type ConnectorDefinition, type ConnectorDeps, type ConnectorLogger, type CrmConnector, type FacetName, type MediaReader, type RequestBudget } from '../../connectors/_sdk/contract';
import { ConnectorError, type ConnectorErrorKind } from '../../connectors/_sdk/errors';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { EgressPolicy } from '../common/egress';
import { LOGGER } from '../common/logger';
import { type CrmOutcome, MetricsService } from '../health/metrics.service';
import { redactText } from '../common/redaction';
import { RequestBudgets } from '../tasks/request-budget';
import { MediaStore } from '../common/media-store';
import type { ResolvedConnection } from './connections.types';

/** A single credentials check spends one request; there is no connection to hold a budget yet. */
const UNMETERED: RequestBudget = { acquire: async () => undefined };

/**
 * Builds connectors with the ports the core hands them (connectors/_sdk/contract.ts): a logger that
 * goes through the service's redaction, the real clock, the connection's shared request budget,
 * the media store, the network through the egress policy and the configured request timeout.
 */
@Injectable()
export class ConnectorFactory {
  constructor(
    private readonly budgets: RequestBudgets,
    private readonly mediaStore: MediaStore,
    private readonly egress: EgressPolicy,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** A connector for one job of a resolved connection. Cheap: call it once per job. */
  create(resolved: ResolvedConnection): CrmConnector {
    const { connection, definition, credentials, settings, budget } = resolved;
    const connector = definition.create(credentials, settings, this.deps(definition, connection.id, this.budgets.forConnection(connection.id, budget)));
    return measured(connector, definition.manifest.id, this.metrics);
  }

  /**
   * What a connection with these credentials and settings can do: the facets of a connector built
   * for them (nothing is called; a connector leaves out what its settings switch off).
   */
  capabilities(definition: ConnectorDefinition, credentials: object, settings: object): ConnectorCapabilities {
    return capabilitiesOf(definition.create(credentials, settings, this.deps(definition, undefined, UNMETERED)));
  }

  /**
   * A connector to check credentials an operator is about to store. With the id of an existing
   * connection the check spends that connection's budget; a new connection has none yet.
   */
  forCredentialsCheck(definition: ConnectorDefinition, credentials: object, settings: object, budget: { requests: number; perMs: number }, connectionId?: string): CrmConnector {
    const requestBudget = connectionId ? this.budgets.forConnection(connectionId, budget) : UNMETERED;
    return measured(definition.create(credentials, settings, this.deps(definition, connectionId, requestBudget)), definition.manifest.id, this.metrics);
  }

  private deps(definition: ConnectorDefinition, connectionId: string | undefined, budget: RequestBudget): ConnectorDeps {
    return {
      logger: this.connectorLogger(this.logger.child({ connectionId: connectionId ?? null, connector: definition.manifest.id })),
      clock: { now: () => new Date() },
      budget,
      media: this.mediaReader(),
      http: this.egress,
      timeoutMs: this.config.sync.connectorTimeoutMs,
    };
  }

  private connectorLogger(log: Logger): ConnectorLogger {
    // The messages go through pino's redaction (paths and free text) like every other log line;
    // free-text values of the context are scrubbed too, as a vendor's error text may quote a
    // phone number or a token.
    const redact = this.config.log.redact;
    const clean = (context?: Record<string, unknown>): Record<string, unknown> => {
      if (!context || !redact) return context ?? {};
      return Object.fromEntries(Object.entries(context).map(([key, value]) => [key, typeof value === 'string' ? redactText(value) : value]));
    };
    return {
      debug: (message, context) => log.debug(clean(context), message),
      info: (message, context) => log.info(clean(context), message),
      warn: (message, context) => log.warn(clean(context), message),
      error: (message, context) => log.error(clean(context), message),
    };
  }

  private mediaReader(): MediaReader {
    return {
      read: async (media) => {
        if (!media.storageKey) throw new Error(`the media file is not stored${media.unavailableReason ? ` (${media.unavailableReason})` : ''}`);
        return this.mediaStore.get(media.storageKey);
      },
    };
  }
}

const OUTCOME_OF_KIND: Record<ConnectorErrorKind, CrmOutcome> = {
  rate_limited: 'rate_limited',
  transient: 'transient',
  conflict: 'transient',
  auth: 'auth',
  disabled: 'disabled',
  not_found: 'not_found',
  invalid_request: 'invalid',
  permanent: 'invalid',
};

const FACETS: ReadonlySet<string> = new Set<FacetName | 'contacts'>(['contacts', ...FACET_NAMES]);

/**
 * The connector with every asynchronous method (a call to the vendor) counted and timed in
 * threadbridge_crm_requests_total / threadbridge_crm_request_seconds, its outcome read from the
 * ConnectorError kind, so every caller (sync, replies, privacy, set-up) is measured the same way.
 * A facet's methods are named `<facet>.<method>` (e.g. timeline.append).
 */
function measured<T extends object>(connector: T, connectorId: string, metrics: MetricsService, prefix = ''): T {
  return new Proxy(connector, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof key !== 'string') return value;
      if (!prefix && FACETS.has(key) && value && typeof value === 'object') return measured(value, connectorId, metrics, `${key}.`);
      if (typeof value !== 'function') return value;
      const operation = prefix + key;
      return (...args: unknown[]) => {
        const started = performance.now();
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        const record = (outcome: CrmOutcome) => {
          metrics.crmRequests.inc({ connector: connectorId, operation, outcome });
          metrics.crmRequestSeconds.observe({ connector: connectorId, operation }, (performance.now() - started) / 1000);
        };
        return result.then(
          (v: unknown) => {
            record('ok');
            return v;
          },
          (error: unknown) => {
            record(ConnectorError.is(error) ? OUTCOME_OF_KIND[error.kind] : 'transient');
            throw error;
          },
        );
      };
    },
  });
}
