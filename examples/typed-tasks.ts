/**
 * docs/typed-tasks.md, runnable: a typed task type, its events and latest progress, and a deadline.
 *
 * Run: `npx tsc -p . && node dist/examples/typed-tasks.js`, or import `main` in a test.
 *
 * @example
 * const report = await main();
 * report.crawl.result?.pages; // 3
 */
import { pathToFileURL } from 'node:url';
import { createTaskSupervisor, defineTask, TaskResult, type TypedTaskSummary } from '../src/index.js';
import type { TaskSummary } from '../src/index.js';

interface CrawlInput {
  url: string;
  maxPages?: number;
}
interface PageEvent {
  n: number;
  url: string;
}
interface CrawlResult {
  pages: number;
}

/** A task type declared once: input, events, result. */
export const crawl = defineTask<CrawlInput, { page: PageEvent; log: string }, CrawlResult>({
  taskType: 'crawl',
  run: async (ctx, input) => {
    const pages = input.maxPages ?? 3;
    for (let n = 1; n <= pages; n++) {
      if (ctx.signal.aborted) return TaskResult.cancelled();
      ctx.emit('page', { n, url: `${input.url}/${n}` });
    }
    return { pages };
  },
});

/** Runs the examples; returns what they observed. */
export async function main(log: (line: string) => void = () => {}): Promise<{
  crawl: TypedTaskSummary<CrawlResult>;
  pages: string[];
  latest: PageEvent | undefined;
  late: TaskSummary;
}> {
  const supervisor = createTaskSupervisor({ cancelGraceMs: 1_000 });
  // Open the stream before spawning: a stream sees events from the moment it is opened, and a
  // body may emit before `spawn` resolves.
  const stream = crawl.events(supervisor, { threadId: 'chat-1' });
  const id = await crawl.spawn(
    supervisor,
    { threadId: 'chat-1', description: 'crawl docs' },
    { url: 'https://example.com' },
  );
  const pages: string[] = [];
  for await (const e of stream) {
    if (e.task_id !== id) continue;
    if (e.kind !== 'custom') break; // its terminal event
    if (e.event_type === 'page') pages.push(e.payload.url);
  }
  const summary = await crawl.wait(supervisor, id);
  log(`crawl: ${summary.status}, ${summary.result?.pages} pages`);

  const slow = await supervisor.spawn(
    { threadId: 'chat-1', taskType: 'research', description: 'too slow', timeoutMs: 50 },
    async (ctx) => {
      await ctx.cancelled();
      throw ctx.signal.reason; // a TimeoutError
    },
  );
  const late = await supervisor.wait(slow);
  log(`research: ${late.status} (${late.error})`);
  const latest = crawl.latest(supervisor, id, 'page')?.payload;
  await supervisor.stop();
  return { crawl: summary, pages, latest, late };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(console.log);
