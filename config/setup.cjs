#!/usr/bin/env node
// One-step set-up used by `npm start` and `npm test`: installs dependencies on a fresh
// checkout (from package-lock.json) and compiles TypeScript when sources changed.
// Plain CommonJS with no dependencies, because it runs before node_modules exists.
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' });

const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs) {
  console.log('[setup] installing dependencies…');
  // A fresh checkout installs exactly the lock file (npm ci); a stale install after the lock file
  // changed is brought up to it. Neither rewrites package-lock.json: it lists every platform's
  // optional packages, so starting never changes a tracked file.
  const fresh = !fs.existsSync(path.join(root, 'node_modules'));
  run(fresh ? 'npm ci --no-audit --no-fund --loglevel=error' : 'npm install --no-audit --no-fund --loglevel=error');
}

// The console's browser tests drive Debian's Chromium (playwright-core downloads no browser):
// `npm test` installs it on a machine that lacks it, when it may (root with apt).
if (process.argv.includes('--tests')) {
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!fs.existsSync(chromium)) {
    if (process.getuid && process.getuid() === 0 && fs.existsSync('/usr/bin/apt-get')) {
      console.log('[setup] installing Chromium for the browser tests…');
      run('apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)');
    } else {
      console.log(`[setup] no Chromium at ${chromium}: install Debian's chromium package (or set CHROMIUM_PATH) for the browser tests`);
    }
  }
}

if (process.argv.includes('--no-build')) process.exit(0);

const stamp = path.join(root, 'dist', '.build-stamp');
function newest(dir) {
  let max = 0;
  if (!fs.existsSync(dir)) return max;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
  }
  return max;
}
const sources = Math.max(
  ...['src', 'connectors', 'config', 'test'].map((d) => newest(path.join(root, d))),
  fs.statSync(path.join(root, 'ormconfig.ts')).mtimeMs,
  fs.statSync(path.join(root, 'package.json')).mtimeMs,
);
if (!fs.existsSync(stamp) || fs.statSync(stamp).mtimeMs < sources) {
  console.log('[setup] compiling TypeScript…');
  run('npx tsc -p config/tsconfig.build.json');
  fs.writeFileSync(stamp, new Date().toISOString());
}

// The embedded database's template cluster: initialising one is PGlite's most memory-hungry step,
// so it happens here once per build, and a new DATA_DIR starts from a copy
// (src/database/embedded-postgres.ts). Rebuilt when the PGlite version changes.
const template = path.join(root, 'dist', 'pgdata-template');
const pglite = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')).version;
const templateStamp = path.join(template, '.pglite-version');
if (!fs.existsSync(templateStamp) || fs.readFileSync(templateStamp, 'utf8') !== pglite) {
  console.log('[setup] creating the embedded database template…');
  fs.rmSync(template, { recursive: true, force: true });
  run(`node dist/src/database/embedded-postgres.server.js --db=${JSON.stringify(template)} --init-only`);
  fs.rmSync(path.join(template, 'postmaster.pid'), { force: true });
  fs.writeFileSync(templateStamp, pglite);
}
