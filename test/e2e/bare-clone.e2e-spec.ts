import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repositoryRoot } from '../fakes/meta-openapi';

const run = promisify(execFile);

/**
 * Nothing outside the repository is needed: a clone of this commit, in a folder with no ../shared
 * beside it (so no Meta OpenAPI document) and no META_OPENAPI_PATH, runs `npm run demo` to the end.
 * The clone is real (git clone of HEAD, then the demo's own `npm run setup` compiles it); only the
 * dependencies are borrowed from this checkout, so the test needs no network. It tests what is
 * committed: uncommitted changes are not in the clone.
 */
describe('a bare clone', () => {
  const root = repositoryRoot();
  let parent: string;
  let clone: string;

  beforeAll(async () => {
    parent = mkdtempSync(path.join(os.tmpdir(), 'threadbridge-bare-'));
    clone = path.join(parent, 'threadbridge');
    const { stdout: head } = await run('git', ['-C', root, 'rev-parse', 'HEAD']);
    await run('git', ['clone', '--quiet', '--no-checkout', `file://${root}`, clone]);
    await run('git', ['-C', clone, 'checkout', '--quiet', '--detach', head.trim()]);

    const modules = realpathSync(path.join(root, 'node_modules'));
    symlinkSync(modules, path.join(clone, 'node_modules'), 'dir');
    // A fresh clone's package-lock.json is newer than any install, and config/setup.cjs would then run
    // `npm install` (network, and into the borrowed node_modules). Dating the lock just before the
    // install says what is true here: the dependencies were installed from a lock like it.
    const installedAt = statSync(path.join(modules, '.package-lock.json')).mtime.getTime() / 1000 - 60;
    utimesSync(path.join(clone, 'package-lock.json'), installedAt, installedAt);
  });

  afterAll(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('runs `npm run demo` to the end without ../shared or META_OPENAPI_PATH', async () => {
    expect(existsSync(path.join(parent, 'shared'))).toBe(false);
    // Not this run's environment: no META_OPENAPI_PATH, none of Jest's or npm's variables.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(META_OPENAPI_PATH|JEST_|NODE_OPTIONS$|npm_)/.test(name)),
    );

    const { stdout, stderr } = await run('npm', ['run', 'demo'], { cwd: clone, env, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 });

    expect(stdout).toContain('[setup] compiling TypeScript');
    expect(stdout).not.toContain('[setup] installing dependencies');
    expect(stdout).toContain('received a template message');
    expect(stdout).toMatch(/Done\. HubSpot calls: \d+, Zendesk calls: \d+, WhatsApp sends: 2/);
    expect(stderr).not.toContain('demo failed');
    // Said once, although the fake checks every send.
    expect(stderr.match(/spec validation is off/g)).toEqual(['spec validation is off']);
    expect(stderr).toContain(path.join(parent, 'shared/specs/meta/business-messaging-api_v23.0.yaml'));
  }, 180_000);
});
