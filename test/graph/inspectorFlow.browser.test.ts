/**
 * The inspector in real headless Chromium shows queued and waiting tasks (phases of `running`):
 * their own colour class, a data attribute, counts in the header and the request in the panel.
 */
import { expect, it } from 'vitest';
import { type InspectorServer, PHASE_COLORS } from '../../src/graph/index.js';
import { until } from '../helpers/async.js';
import { chromiumSuite } from '../helpers/chromium.js';
import { servedInspector } from './inspectorHelpers.js';

const chrome = chromiumSuite();
const open = (server: InspectorServer) => chrome.open(`${server.url}#token=${server.token}`);

const node = (id: string): string => `.node[data-task-id="${id}"]`;

it('queued and waiting tasks are shown as such, with their colours, counts and the request; they move on live', async () => {
  const { sup, server, g: hold } = await servedInspector(chrome.defer, { concurrency: { global: 1 } });
  const th = { threadId: 'main' };
  const asker = await sup.spawn({ ...th, taskType: 'deploy', description: 'asks first' }, (ctx) =>
    ctx.requestInput({ question: 'Deploy to production?' }),
  );
  await until(() => sup.get(asker)?.phase === 'waiting');
  const holder = await sup.spawn(
    { ...th, taskType: 'build', description: 'holds the slot' },
    () => hold.promise,
  );
  const queued = await sup.spawn(
    { ...th, taskType: 'test', description: 'waits for a slot' },
    () => 'tested',
  );
  expect(sup.get(queued)?.phase).toBe('queued');

  const page = await open(server);
  await page.waitForSelector(`${node(asker)}[data-phase="waiting"].ph-waiting`, { timeout: 10_000 });
  await page.waitForSelector(`${node(queued)}[data-phase="queued"].ph-queued`);
  expect(await page.locator(`${node(holder)}[data-phase]`).count()).toBe(0);
  await expect
    .poll(() => page.locator(node(queued)).textContent(), { timeout: 10_000 })
    .toContain('running · queued');
  const fill = await page.locator(node(asker)).evaluate((e) => getComputedStyle(e).backgroundColor);
  expect(fill).toBe('rgb(255, 243, 205)'); // PHASE_COLORS.waiting.fill
  expect(PHASE_COLORS.waiting.fill).toBe('#fff3cd');
  await page.waitForSelector('[data-count="queued"]:has-text("queued 1")');
  await page.waitForSelector('[data-count="waiting"]:has-text("waiting 1")');

  await page.click(node(asker));
  await page.waitForSelector('#detail dd:has-text("Deploy to production?")');

  // The answer comes while the slot is taken: still waiting; the holder ends, the asker goes on first.
  expect(sup.provideInput(asker, 'yes')).toBe(true);
  hold.open();
  await page.waitForSelector(`${node(asker)}[data-status="completed"]`, { timeout: 10_000 });
  await page.waitForSelector(`${node(queued)}[data-status="completed"]`, { timeout: 10_000 });
  expect(await page.locator('.node[data-phase]').count()).toBe(0);
}, 60_000);
