/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core
 * (no browser download), one browser per test file, pages whose uncaught errors fail the test.
 */
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/** Headless, no sandbox (CI runs as root), nothing that reaches the network on its own. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS] });
}

/** One file's browser and the cleanups of its current test. */
export interface ChromiumSuite {
  /** The file's browser (launched in `beforeAll`). */
  readonly browser: Browser;
  /** Runs `cleanup` after the current test, the last deferred first. */
  defer(...cleanups: Array<() => Promise<unknown>>): void;
  /**
   * A new page at `url`; after the test it is closed and the test fails if the page threw an
   * uncaught error meanwhile.
   */
  open(url: string, viewport?: { width: number; height: number }): Promise<Page>;
}

/** Registers the hooks of a browser test file: launch before all, cleanups after each, close after all. */
export function chromiumSuite(): ChromiumSuite {
  let browser: Browser | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const suite: ChromiumSuite = {
    get browser(): Browser {
      if (browser === undefined) throw new Error('Chromium is not launched yet (use it inside a test)');
      return browser;
    },
    defer: (...more) => {
      cleanups.push(...more);
    },
    open: async (url, viewport = { width: 1280, height: 760 }) => {
      const page = await suite.browser.newPage({ viewport });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      suite.defer(
        () => page.close(),
        async () => expect(errors, 'uncaught errors in the page').toEqual([]),
      );
      await page.goto(url);
      return page;
    },
  };
  return suite;
}
