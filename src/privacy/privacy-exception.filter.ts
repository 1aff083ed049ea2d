import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { ContactNotFoundError, ErasureNotFoundError, MediaNotStoredError } from './privacy.errors';

/** Unknown contacts, erasures and media files answer 404; every other error goes on to the application's filter. */
@Catch(ContactNotFoundError, ErasureNotFoundError, MediaNotStoredError)
export class PrivacyExceptionFilter implements ExceptionFilter {
  catch(error: ContactNotFoundError | ErasureNotFoundError | MediaNotStoredError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    // A download's headers may be set already; the 404 must not claim to be the file.
    res.removeHeader('Content-Disposition');
    res.status(404).json({ statusCode: 404, error: 'Not Found', message: error.message });
  }
}
