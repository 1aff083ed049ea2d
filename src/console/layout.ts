import type { Permission } from '../admin/permissions';
import { roleAllows } from '../admin/permissions';
import type { ConsoleRequest } from './console.guard';
import { type Html, html } from './html';

/** The console's sections: shown in the menu to the roles that may open them. */
const SECTIONS: { path: string; label: string; permission: Permission }[] = [
  { path: '/console/conversations', label: 'Conversations', permission: 'conversations:read' },
  { path: '/console/connections', label: 'Connections', permission: 'connections:read' },
  { path: '/console/problems', label: 'Problems', permission: 'dead-letters:read' },
  { path: '/console/customers', label: 'Customers', permission: 'contacts:read' },
  { path: '/console/reports', label: 'Reports', permission: 'reports:read' },
];

export interface PageOptions {
  title: string;
  body: Html;
  /** Extra menu entries (the sandbox, the queues) when this process offers them. */
  extraSections?: { path: string; label: string }[];
}

/** A whole console page: menu (by role), who is signed in, the sign-out form, and the body. */
export function page(req: ConsoleRequest, options: PageOptions): string {
  const session = req.consoleSession;
  const offered = [...SECTIONS.filter((s) => roleAllows(session.principal.role, s.permission)), ...(req.consoleMenu ?? []), ...(options.extraSections ?? [])];
  const sections = offered.filter((s, i) => offered.findIndex((o) => o.path === s.path) === i);
  return document(
    options.title,
    html`<header class="top">
        <a class="brand" href="/console">threadbridge</a>
        <nav aria-label="Sections">${sections.map((s) => html`<a href="${s.path}"${req.path.startsWith(s.path) ? html` aria-current="page"` : ''}>${s.label}</a>`)}</nav>
        <form method="post" action="/console/sign-out" class="who">
          <span>${session.principal.name} · ${session.principal.role}</span>
          <input type="hidden" name="_csrf" value="${session.csrfToken}" />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main id="main">${options.body}</main>`,
    session.csrfToken,
  );
}

/** The HTML document around a body (the sign-in form uses it without a session). */
export function document(title: string, body: Html, csrfToken?: string): string {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    ${csrfToken ? html`<meta name="csrf-token" content="${csrfToken}" />` : ''}
    <title>${title} · threadbridge</title>
    <link rel="stylesheet" href="/console/assets/console.css" />
    <script src="/console/assets/htmx.min.js" defer></script>
    <script src="/console/assets/console.js" defer></script>
  </head>
  <body>
    ${body}
  </body>
</html>`.value;
}

/** A short message page (403, not found) inside the console's frame. */
export function notice(req: ConsoleRequest, title: string, message: string): string {
  return page(req, { title, body: html`<h1>${title}</h1><p class="notice">${message}</p>` });
}
