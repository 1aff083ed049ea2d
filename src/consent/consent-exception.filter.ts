import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { ConsentError } from './consent.errors';

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found' };

/** Answers the consent API's domain errors (their messages hold no personal data). */
@Catch(ConsentError)
export class ConsentExceptionFilter implements ExceptionFilter {
  catch(error: ConsentError, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(error.httpStatus)
      .json({ statusCode: error.httpStatus, error: REASONS[error.httpStatus] ?? 'Error', message: error.message });
  }
}
