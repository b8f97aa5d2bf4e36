// The README's example, run by examples/readme.test.ts against the sources.
import { createInbox, createTaskSupervisor, type TaskEvent, TaskResult } from '../src/index.js';
import { SqliteTaskStore } from '../src/stores/sqlite/index.js';

/** Stands in for real I/O: resolves after `ms`, rejects with the signal's reason when aborted. */
const fetchPage = (page: number, { signal }: { signal: AbortSignal }) =>
  new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => resolve(page), 10);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** Runs the README example on a SQLite file; returns the events seen and the final summary. */
export async function main(dbPath = 'tasks.db') {
  const inbox = createInbox();
  const supervisor = createTaskSupervisor({ store: new SqliteTaskStore(dbPath), ownerInbox: inbox.sender });
  await supervisor.loadThread('thread-1'); // restore; tasks that were running when we died are now failed (orphaned)

  const crawl = await supervisor.spawn(
    { threadId: 'thread-1', taskType: 'http', description: 'crawl docs', name: 'crawler' },
    async (ctx) => {
      for (let page = 1; page <= 3 && !ctx.isCancelled(); page++) {
        await fetchPage(page, { signal: ctx.signal });
        ctx.emit('progress', { page });
      }
      return ctx.isCancelled() ? TaskResult.cancelled() : { pages: 3 };
    },
  );
  const events: TaskEvent[] = [];
  for await (const event of inbox.receiver) {
    events.push(event as TaskEvent); // {kind:'custom',…} ×3, then exactly one terminal event
    if ((event as TaskEvent).kind !== 'custom') break;
  }
  const summary = supervisor.get(crawl); // { task_id: 'bg_…', status: 'completed', result: { pages: 3 }, … }
  await supervisor.stop();
  return { events, summary };
}
