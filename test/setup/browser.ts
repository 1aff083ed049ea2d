import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (apt package `chromium`; `npm test` installs it when missing, see config/setup.cjs). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots go: test artifacts, never committed (.gitignore). */
export const ARTIFACTS_DIR = path.join(process.cwd(), 'test-artifacts', 'screenshots');

/** A headless Chromium as PITFALLS.md measured it working on these machines. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Saves a full-page screenshot of the page as `<name>.png` under test-artifacts/screenshots. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Signs in through the console's form with an API key; the page ends on the console. */
export async function signIn(page: Page, baseUrl: string, apiKey: string): Promise<void> {
  await page.goto(`${baseUrl}/console/sign-in`);
  await page.fill('input[name="apiKey"]', apiKey);
  await Promise.all([page.waitForURL(/\/console\/(?!sign-in)/), page.click('button[type="submit"]')]);
}
