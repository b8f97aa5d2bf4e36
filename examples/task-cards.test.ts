/**
 * The task-cards example page in real headless Chromium (Debian's /usr/bin/chromium,
 * playwright-core): one message starts two background tasks; the page shows exactly one card per
 * task, filled in place, and each task's end brings a continuation turn's text into the same reply.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumSuite } from '../test/helpers/chromium.js';
import { startTaskCardsApp, type TaskCardsApp } from './task-cards/server.js';

const ARTIFACTS = resolve(import.meta.dirname, '../test/artifacts');
const chrome = chromiumSuite();
let app: TaskCardsApp;
beforeAll(async () => {
  app = await startTaskCardsApp();
});
afterAll(async () => {
  await app?.close();
});

interface PageStats {
  maxCards: number;
  cardWrites: number;
  renders: number;
}

it('renders one card per task, updated in place, and a continuation turn per task end', async () => {
  const page = await chrome.open(app.url, { width: 900, height: 640 });
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
  await page.click('#send');

  // Both tasks appear as running cards, then fill: a card's percent moves while it stays one card.
  await page.waitForSelector('.card[data-status="running"] >> nth=1', { timeout: 10_000 });
  await page.waitForFunction(
    () => /^[1-9]\d*%$/.test(document.querySelector('.card .percent')?.textContent ?? ''),
    {
      timeout: 10_000,
    },
  );
  expect(await page.locator('.card').count()).toBe(2);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: resolve(ARTIFACTS, 'task-cards-running.png'), fullPage: true });

  await page.waitForSelector('body[data-state="done"]', { timeout: 30_000 });
  const cards = page.locator('.card');
  expect(await cards.count()).toBe(2);
  const ids = app.supervisor.list('chat-1').map((s) => s.task_id);
  expect(ids).toHaveLength(2);
  for (const id of ids) {
    const card = page.locator(`.card[data-task-id="${id}"]`);
    expect(await card.getAttribute('data-status')).toBe('completed');
    expect(await card.locator('.percent').textContent()).toBe('100%');
    expect(await card.locator('.result').textContent()).toContain('relevant pages');
    expect(app.supervisor.get(id)?.status).toBe('completed');
  }
  // Turn 1's answer, then one continuation per task end, in the order the tasks ended.
  expect(await page.locator('.assistant .text').allInnerTexts()).toEqual([
    "I started two research tasks; I'll report each as it finishes.",
    'Research on docs is done: 12 relevant pages.',
    'Research on blog is done: 7 relevant pages.',
  ]);
  const stats = await page.evaluate(() => (window as unknown as { taskCardStats: PageStats }).taskCardStats);
  // Many card writes arrived (spawn, five progress steps, the end, per task); never a third card.
  expect(stats.maxCards).toBe(2);
  expect(stats.cardWrites).toBeGreaterThanOrEqual(12);
  console.log(
    `[task-cards] ${stats.cardWrites} card writes rendered as ${stats.maxCards} cards over ${stats.renders} renders`,
  );

  await page.screenshot({ path: resolve(ARTIFACTS, 'task-cards.png'), fullPage: true });
}, 90_000);
