import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { RepliesError } from './replies.errors';

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 502: 'Bad Gateway' };

/** Answers the replies API's domain errors; everything else goes on to the application's filter. */
@Catch(RepliesError)
export class RepliesExceptionFilter implements ExceptionFilter {
  catch(error: RepliesError, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(error.httpStatus)
      .json({ statusCode: error.httpStatus, error: REASONS[error.httpStatus] ?? 'Error', message: error.message });
  }
}
