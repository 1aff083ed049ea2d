import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The console's static files, served by the service itself (no build step): its stylesheet, a few
 * lines of script, and htmx from node_modules for the small progressive enhancements (every page
 * and form also works without script).
 */
export const CONSOLE_CSS = `
:root { --fg: #1d232a; --muted: #5b6570; --line: #d9dee3; --bg: #f6f7f9; --accent: #0b6e4f; --bad: #b42318; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
header.top nav { display: flex; flex-wrap: wrap; gap: .25rem .9rem; flex: 1; }
header.top nav a { text-decoration: none; padding: .2rem 0; }
header.top nav a[aria-current="page"] { font-weight: 600; border-bottom: 2px solid var(--accent); }
header.top .who { display: flex; gap: .5rem; align-items: center; color: var(--muted); font-size: .9em; }
main { padding: 1rem; max-width: 1100px; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: .45rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85em; color: var(--muted); font-weight: 600; }
.table-wrap { overflow-x: auto; }
form.inline { display: inline; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: 1rem; align-items: end; }
label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); gap: .15rem; }
input, select, button, textarea { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--fg); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.muted { color: var(--muted); }
.bad { color: var(--bad); }
.warn { color: var(--warn); }
.ok { color: var(--accent); }
.notice { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--warn); padding: .75rem 1rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
.signin { max-width: 420px; margin: 12vh auto; }
.signin form { display: flex; flex-direction: column; gap: .75rem; }
.bubble { max-width: 80%; padding: .5rem .75rem; border-radius: 10px; margin: .35rem 0; background: #fff; border: 1px solid var(--line); }
.bubble.outbound { margin-left: auto; background: #e7f6ee; }
.pager { margin-top: 1rem; display: flex; gap: 1rem; }
@media (max-width: 640px) { main { padding: .6rem; } th, td { padding: .35rem; } .bubble { max-width: 95%; } }
`;

/** htmx sends the session's CSRF token with every request it makes (forms carry it as a field). */
export const CONSOLE_JS = `
document.addEventListener('htmx:configRequest', function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.headers['X-CSRF-Token'] = meta.getAttribute('content');
});
`;

let htmx: Buffer | undefined;

/** htmx's minified build, read once from node_modules. */
export function htmxScript(): Buffer {
  if (!htmx) {
    const file = typeof require === 'function' ? require.resolve('htmx.org/dist/htmx.min.js') : path.join(process.cwd(), 'node_modules', 'htmx.org', 'dist', 'htmx.min.js');
    htmx = readFileSync(file);
  }
  return htmx;
}
