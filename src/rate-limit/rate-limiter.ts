import { Inject, Injectable } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { isPublicRoute } from '../admin/access.guard';
import { apiKeyFrom } from '../admin/api-key.guard';
import { LOGGER } from '../common/logger';
import { ThrottledLog } from '../common/throttled-log';
import { type RateLimitHit, RateLimitStore } from './rate-limit.store';

export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * Rate limits of the operator API: each request counts against its client's address (Express's
 * req.ip, so behind TRUST_PROXY the forwarded one) and, when it presents one, against its API
 * key, checked before the key is (so a flood of bad keys costs no key lookups). Over either
 * limit: 429 with Retry-After. Probes, metrics and webhooks (the access guard's public routes)
 * are never counted: Meta and the CRMs must always be able to deliver. When the store cannot be
 * reached (Redis down), requests pass: the limits protect the API, they must not take it down.
 */
@Injectable()
export class RateLimiter {
  private readonly storeLog: ThrottledLog;

  constructor(
    private readonly store: RateLimitStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.storeLog = new ThrottledLog(logger, 60_000);
  }

  /** The counters a request counts in (none for public routes). */
  hitsOf(req: Request): RateLimitHit[] {
    if (isPublicRoute(req.path)) return [];
    const { perKeyPerMinute, perIpPerMinute } = this.config.rateLimit;
    const hits: RateLimitHit[] = [{ key: `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`, limit: perIpPerMinute }];
    const key = apiKeyFrom(req);
    // Counted by a digest: the store (Redis) never holds a key.
    if (key) hits.push({ key: `key:${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`, limit: perKeyPerMinute });
    return hits;
  }

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const hits = this.hitsOf(req);
      if (hits.length === 0) return next();
      this.store.hit(hits, RATE_LIMIT_WINDOW_MS).then(
        (verdict) => {
          if (verdict.allowed) return next();
          const per = verdict.exceeded.key.startsWith('ip:') ? 'client address' : 'API key';
          res
            .status(429)
            .setHeader('Retry-After', String(Math.ceil(verdict.retryAfterMs / 1000)))
            .json({ statusCode: 429, error: 'Too Many Requests', message: `rate limit exceeded: ${verdict.exceeded.limit} requests per minute per ${per}` });
        },
        (error: unknown) => {
          this.storeLog.warn('store', error, 'rate limit store unavailable; requests pass unlimited');
          next();
        },
      );
    };
  }
}
