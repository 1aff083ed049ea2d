import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from 'pino';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable } from './errors';
import { LOGGER } from './logger';
import { InvalidCursorError } from './pagination';

/**
 * The one place domain errors become HTTP answers. Database outages answer 503 with Retry-After,
 * so webhook senders (Meta) deliver again later instead of losing the message.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof HttpException) {
      const body = error.getResponse();
      res.status(error.getStatus()).json(typeof body === 'string' ? { statusCode: error.getStatus(), message: body } : body);
      return;
    }
    if (error instanceof InvalidCursorError) {
      res.status(400).json({ statusCode: 400, message: error.message });
      return;
    }
    if (isDatabaseUnavailable(error) || error instanceof QueryFailedError) {
      this.logger.warn({ err: error }, 'database unavailable; answering 503');
      res.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('Retry-After', '5').json({ statusCode: 503, message: 'temporarily unavailable, retry later' });
      return;
    }
    this.logger.error({ err: error }, 'unhandled error');
    // Never echo internal messages: they may quote data or secrets.
    res.status(500).json({ statusCode: 500, message: 'internal error' });
  }
}
