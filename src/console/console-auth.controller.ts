import { Body, Controller, Get, Header, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CONSOLE_CSS, CONSOLE_JS, htmxScript } from './assets';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsoleSessionsService, cookieValue, SESSION_COOKIE, SESSION_TTL_MS } from './console-sessions.service';
import { html } from './html';
import { document } from './layout';

/** Only paths inside the console are followed after signing in (never another site). */
function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/console(\/[\w\-./?=&%]*)?$/.test(value) && !value.startsWith('/console/sign-') ? value : '/console/conversations';
}

/**
 * Signing in and out, and the console's static files. Open without a session (the console's
 * pages are guarded by ConsoleGuard).
 */
@ApiExcludeController()
@UseFilters(ConsoleExceptionFilter)
@Controller('console')
export class ConsoleAuthController {
  constructor(private readonly sessions: ConsoleSessionsService) {}

  @Get()
  root(@Res() res: Response): void {
    res.redirect(303, '/console/conversations');
  }

  @Get('sign-in')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  signInForm(@Query('next') next?: string, @Query('failed') failed?: string): string {
    return signInPage(safeReturnTo(next), failed === '1');
  }

  @Post('sign-in')
  async signIn(@Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const returnTo = safeReturnTo(body.next);
    const signedIn = typeof body.apiKey === 'string' ? await this.sessions.signIn(body.apiKey) : null;
    if (!signedIn) {
      res.status(401).type('html').send(signInPage(returnTo, true));
      return;
    }
    res.cookie(SESSION_COOKIE, signedIn.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/console',
      maxAge: SESSION_TTL_MS,
    });
    res.redirect(303, returnTo);
  }

  @Post('sign-out')
  async signOut(@Req() req: Request, @Res() res: Response): Promise<void> {
    // Signing out needs no CSRF check to be safe: the worst a forged one does is sign you out.
    await this.sessions.signOut(cookieValue(req.headers.cookie, SESSION_COOKIE));
    res.clearCookie(SESSION_COOKIE, { path: '/console' });
    res.redirect(303, '/console/sign-in');
  }

  @Get('assets/console.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  css(): string {
    return CONSOLE_CSS;
  }

  @Get('assets/console.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  js(): string {
    return CONSOLE_JS;
  }

  @Get('assets/htmx.min.js')
  htmx(@Res() res: Response): void {
    res.type('text/javascript').setHeader('cache-control', 'public, max-age=86400');
    res.send(htmxScript());
  }
}


function signInPage(returnTo: string, failed: boolean): string {
  return document(
    'Sign in',
    html`<main class="signin card">
      <h1>Sign in to threadbridge</h1>
      ${failed ? html`<p class="bad" role="alert">That key is not valid (unknown, revoked or mistyped).</p>` : ''}
      <form method="post" action="/console/sign-in">
        <label for="apiKey">API key</label>
        <input id="apiKey" name="apiKey" type="password" autocomplete="off" required autofocus />
        <input type="hidden" name="next" value="${returnTo}" />
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">Your role's permissions apply here exactly as in the API. <code>npm start</code> prints where the admin key is kept.</p>
    </main>`,
  );
}
