import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { hasFacet, type ConnectionUpdate } from '../../connectors/_sdk/contract';
import { ConnectorError } from '../../connectors/_sdk/errors';
import { LOGGER } from '../common/logger';
import { ConnectionsService, type ConnectionView } from '../connections/connections.service';
import { ConnectorFactory } from '../connections/connector-factory';
import { RepliesNotSupportedError, ReplySetupFailedError, ReplyTargetNotFoundError } from './replies.errors';
import { connectionWebhookPath } from './webhook-url';

export interface ReplySetupResult {
  /** Where the vendor now sends agent replies. */
  callbackUrl: string;
  /** Which credential and setting keys the set-up stored (never their values). */
  stored: { credentials: string[]; settings: string[] };
  connection: ConnectionView;
}

/**
 * Sets up the vendor's side of agent replies for a connection (webhooks, triggers, channels)
 * through its connector, pointing at this service's webhook for the connection, and stores what
 * the vendor returns (a signing secret, a channel id) with the connection.
 */
@Injectable()
export class ReplySetupService {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly factory: ConnectorFactory,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * @param publicBase this service's public origin (PUBLIC_URL, or the request's).
   * Throws ReplyTargetNotFoundError, RepliesNotSupportedError, ReplySetupFailedError, or the
   * connections' own errors when storing the result fails.
   */
  async setUp(connectionId: string, publicBase: string): Promise<ReplySetupResult> {
    const resolved = await this.connections.resolve(connectionId);
    if (!resolved) throw new ReplyTargetNotFoundError('connection', connectionId);
    const { definition } = resolved;
    const connector = this.factory.create(resolved);
    if (!hasFacet(connector, 'replySetup')) {
      throw new RepliesNotSupportedError(`${definition.manifest.displayName} connections cannot set up agent replies through threadbridge`);
    }
    const callbackUrl = `${publicBase}${connectionWebhookPath(connectionId)}`;
    let result: ConnectionUpdate;
    try {
      result = await connector.replySetup.setUp(callbackUrl);
    } catch (error) {
      if (!(error instanceof ConnectorError)) throw error;
      const retryable = error.kind === 'transient' || error.kind === 'rate_limited';
      throw new ReplySetupFailedError(`${definition.manifest.displayName} refused the set-up of agent replies: ${error.message}`, retryable ? 502 : 400);
    }

    // Merged over what is stored (shallowly: a connector returns whole top-level values).
    const credentials = result.credentials && Object.keys(result.credentials).length ? { ...plain(resolved.credentials), ...result.credentials } : undefined;
    const settings = result.settings && Object.keys(result.settings).length ? { ...resolved.connection.settings, ...result.settings } : undefined;
    const connection = credentials || settings ? await this.connections.update(connectionId, { credentials, settings }) : await this.connections.get(connectionId);
    const stored = { credentials: Object.keys(result.credentials ?? {}), settings: Object.keys(result.settings ?? {}) };
    this.logger.info({ connectionId, stored }, 'agent replies set up');
    return { callbackUrl, stored, connection };
  }
}

/** A validated DTO instance back to plain JSON (what the connection stores). */
function plain(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
