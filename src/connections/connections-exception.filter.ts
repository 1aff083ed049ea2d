import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { ConnectionError, InvalidConnectionInputError } from './connections.errors';

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 502: 'Bad Gateway' };

/**
 * Answers the connection errors of the connections API (their messages are written for operators
 * and hold no secret); every other error goes on to the application's filter.
 */
@Catch(ConnectionError)
export class ConnectionsExceptionFilter implements ExceptionFilter {
  catch(error: ConnectionError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.status(error.httpStatus).json({
      statusCode: error.httpStatus,
      error: REASONS[error.httpStatus] ?? 'Error',
      message: error.message,
      ...(error instanceof InvalidConnectionInputError ? { problems: error.problems } : {}),
    });
  }
}
