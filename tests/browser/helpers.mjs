// Shared helpers for the browser tests: Debian Chromium driven by playwright-core.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8787').replace(/\/$/, '');
// SCREENSHOTS_LABEL (e.g. offline, llm) keeps each backend's pictures in their own folder.
export const SHOTS = join(REPO_ROOT, 'test-artifacts', 'screenshots', process.env.SCREENSHOTS_LABEL || '');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Launches Chromium with the flags above. playwright-core refuses an explicit --user-data-dir in
 * launch(); it starts Chromium with a fresh temporary --user-data-dir of its own (and removes it on
 * close), and every test gets a new context on top. Returns { browser, close }.
 */
export async function launch() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return { browser, close: () => browser.close().catch(() => {}) };
}

/** A new context (fresh localStorage) with clipboard permissions and downloads, and a page on BASE_URL. */
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
    reducedMotion: 'reduce',
    ...opts,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
  const page = await context.newPage();
  page.setDefaultTimeout(Number(process.env.UI_TIMEOUT_MS || 30000));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.jsErrors = errors;
  return { context, page };
}

/** Saves a full-page screenshot to test-artifacts/screenshots/[<label>/]<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

export const tid = (id) => `[data-testid="${id}"]`;

/** Presses Tab until the focused element matches selector (keyboard-only navigation). */
export async function tabTo(page, selector, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** true when the page has no horizontal overflow. */
export async function noHorizontalOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
}

/**
 * Lets a test slow down the page's event streams so a screenshot can catch a turn in flight:
 * after `page.evaluate(() => { window.__slowSSE = 400; })` every SSE response from the API is
 * handed to the page one event at a time, that many milliseconds apart (the events themselves
 * are the real backend's, unchanged). 0 (the default) passes responses through untouched.
 */
export async function allowSlowStreams(context) {
  await context.addInitScript(() => {
    const realFetch = window.fetch.bind(window);
    window.__slowSSE = 0;
    window.fetch = async (...args) => {
      const res = await realFetch(...args);
      const ms = window.__slowSSE;
      if (!ms || !(res.headers.get('Content-Type') || '').includes('event-stream') || !res.body) return res;
      const reader = res.body.getReader();
      const enc = new TextEncoder();
      const dec = new TextDecoder();
      let buf = '';
      const body = new ReadableStream({
        async pull(ctrl) {
          for (;;) {
            const i = buf.indexOf('\n\n');
            if (i >= 0) {
              await new Promise((r) => setTimeout(r, ms));
              ctrl.enqueue(enc.encode(buf.slice(0, i + 2)));
              buf = buf.slice(i + 2);
              return;
            }
            const r = await reader.read();
            if (r.done) { if (buf) ctrl.enqueue(enc.encode(buf)); ctrl.close(); return; }
            buf += dec.decode(r.value, { stream: true });
          }
        },
        cancel() { reader.cancel().catch(() => {}); },
      });
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    };
  });
}
