import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ConsoleForbidden, type ConsoleRequest, ConsoleSignInRequired } from './console.guard';
import { document, notice } from './layout';
import { html } from './html';

/** The console answers in pages: a missing session goes to the sign-in form, a refusal is a 403 page. */
@Catch(ConsoleSignInRequired, ConsoleForbidden)
export class ConsoleExceptionFilter implements ExceptionFilter {
  catch(error: ConsoleSignInRequired | ConsoleForbidden, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof ConsoleSignInRequired) {
      if (req.headers['hx-request']) {
        res.status(401).setHeader('HX-Redirect', '/console/sign-in').send('');
        return;
      }
      res.redirect(303, error.returnTo ? `/console/sign-in?next=${encodeURIComponent(error.returnTo)}` : '/console/sign-in');
      return;
    }
    const body = (req as Partial<ConsoleRequest>).consoleSession
      ? notice(req as ConsoleRequest, 'Not allowed', error.message)
      : document('Not allowed', html`<main class="card"><h1>Not allowed</h1><p>${error.message}</p></main>`);
    res.status(403).type('html').send(body);
  }
}
