/** Test helpers: the real consumers of our output, Graphviz `dot` and mermaid in headless Chromium. */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';

/** Runs `dot -Tsvg` on `source`; returns its exit code, stderr and SVG. */
export function renderDot(source: string): { status: number | null; stderr: string; svg: string } {
  const r = spawnSync('dot', ['-Tsvg'], { input: source, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, svg: r.stdout };
}

/** A headless Chromium page with mermaid's own dist build loaded from node_modules (no network). */
export async function openMermaidPage(): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body></body></html>');
  const require = createRequire(import.meta.url);
  await page.addScriptTag({ path: require.resolve('mermaid/dist/mermaid.min.js') });
  await page.evaluate(() => {
    (globalThis as unknown as { mermaid: { initialize(o: object): void } }).mermaid.initialize({
      startOnLoad: false,
      securityLevel: 'strict',
    });
  });
  return { browser, page };
}

/**
 * For a describe block: a mermaid page opened before all and its browser closed after all; `check`
 * is {@link mermaidCheck} on that page.
 */
export function mermaidSuite(): { check(text: string): ReturnType<typeof mermaidCheck> } {
  let browser: Browser | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    ({ browser, page } = await openMermaidPage());
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    check: (text) => {
      if (page === undefined) throw new Error('the mermaid page is not open yet');
      return mermaidCheck(page, text);
    },
  };
}

/** Parses and renders `text` with mermaid in the page; returns `'ok'` with the SVG, or the error. */
export async function mermaidCheck(
  page: Page,
  text: string,
): Promise<{ ok: boolean; error?: string; svg?: string }> {
  return page.evaluate(async (src) => {
    const m = (
      globalThis as unknown as {
        mermaid: {
          parse(t: string): Promise<unknown>;
          render(id: string, t: string): Promise<{ svg: string }>;
        };
      }
    ).mermaid;
    try {
      await m.parse(src);
      const { svg } = await m.render(`m${Math.random().toString(36).slice(2)}`, src);
      return { ok: true, svg };
    } catch (e) {
      return { ok: false, error: String((e as Error)?.message ?? e) };
    }
  }, text);
}
