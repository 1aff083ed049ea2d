import { Inject, Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { isDatabaseUnavailable } from '../common/errors';
import { LOGGER } from '../common/logger';
import { verifyMetaSignature } from './webhook-signature';
import { WebhookIngestService } from './webhook-ingest.service';

/**
 * POST /webhooks/whatsapp — Meta's notifications, the service's hottest path.
 *
 * Mounted as a plain Express handler ahead of Nest's router (src/app.setup.ts) rather than as a
 * controller route: the router, guards, interceptors and filters cost more per request than the
 * database work itself at the rates Meta can send (measured by `npm run bench:ingest`). The rules
 * stay in WebhookIngestService; this only checks the signature and maps the outcome to HTTP:
 * bad signature → 401 (nothing stored); stored, duplicate or quarantined → 200 after commit;
 * database unreachable → 503 with Retry-After, so Meta delivers again.
 */
@Injectable()
export class WhatsAppWebhookReceiver {
  constructor(
    private readonly ingest: WebhookIngestService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  handler() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (req.method !== 'POST' || (req.path !== '/' && req.path !== '')) return next();
      void this.receive(req, res);
    };
  }

  private async receive(req: Request, res: Response): Promise<void> {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifyMetaSignature(raw, req.header('x-hub-signature-256'), this.config.whatsapp.appSecrets)) {
      res.locals.webhookOutcome = 'unauthorized';
      res.status(401).json({ statusCode: 401, message: 'invalid or missing X-Hub-Signature-256' });
      return;
    }
    try {
      const result = await this.ingest.ingest(raw);
      res.locals.webhookOutcome = result.outcome;
      res.status(200).json({ received: true });
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        this.logger.warn({ err: error }, 'database unavailable; answering 503 so Meta retries');
        res.locals.webhookOutcome = 'unavailable';
        res.status(503).setHeader('Retry-After', '5').json({ statusCode: 503, message: 'temporarily unavailable, retry later' });
        return;
      }
      // Anything else is a fault of ours: 500 makes Meta deliver again later, and nothing was stored.
      this.logger.error({ err: error }, 'webhook ingest failed');
      res.locals.webhookOutcome = 'error';
      res.status(500).json({ statusCode: 500, message: 'internal error' });
    }
  }
}
