/**
 * `awaken-tasks demo`: a scripted agent run, no network. A coordinator sub-agent plans a research
 * job: it spawns tasks and sub-agents, messages one of them, cancels a runaway subtree (one of
 * whose pages waits in the queue: one `crawl_page` at a time), answers a task waiting for
 * approval, and one task fails. Everything is kept in SQLite; a second run restores the thread and reports the
 * tasks a crash orphaned.
 */
import { createTaskSupervisor } from '../supervisor/createTaskSupervisor.js';
import type { TaskContext, TaskSupervisor } from '../supervisor/types.js';
import { TaskResult } from '../wire/taskResult.js';
import type { TaskSummary } from '../wire/types.js';
import { SqliteTaskStore } from '../stores/sqlite/index.js';
import { CliError, oneLine } from './errors.js';
import { createDemoView, type DemoView, type ViewMode } from './liveView.js';

/**
 * The demo's owner thread.
 *
 * @example
 * supervisor.list(DEMO_THREAD);
 */
export const DEMO_THREAD = 'demo';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  db: string;
  /** Kill the process with SIGKILL this many ms after the round starts. */
  crashAfterMs?: number;
  mode: ViewMode;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `steps` timed steps, reported as progress (and as `progress` events to the task's inbox). */
async function work(
  view: DemoView,
  ctx: Pick<TaskContext, 'taskId' | 'signal'>,
  steps: number,
  stepMs: number,
) {
  for (let i = 1; i <= steps; i++) {
    await sleep(stepMs, ctx.signal);
    view.progress(ctx.taskId, i / steps);
    (ctx as Partial<TaskContext>).emit?.('progress', { done: i, of: steps });
  }
}

/** The coordinator's plan: the scripted "agent" this demo is about. */
async function scenario(sup: TaskSupervisor, view: DemoView, round: number): Promise<string> {
  const thread = DEMO_THREAD;
  const root = await sup.spawnAgent(
    {
      threadId: thread,
      description: `round ${round}: research XState supervision`,
      name: `coordinator-${round}`,
    },
    async (agent) => {
      const fetch = await sup.spawn(
        { threadId: thread, taskType: 'fetch', description: 'download 3 sources' },
        (ctx) => work(view, ctx, 10, 110).then(() => ({ sources: 3 })),
      );
      const analyst = await sup.spawnAgent(
        { threadId: thread, description: 'analyst: compare cancellation models', name: `analyst-${round}` },
        async (ctx) => {
          const msg = await ctx.inboxReceiver.recv(ctx.signal);
          const summarize = await sup.spawn(
            { threadId: thread, taskType: 'summarize', description: 'summarize findings' },
            (c) => work(view, c, 6, 90).then(() => 'cooperative cancellation wins'),
          );
          await work(view, ctx, 8, 110);
          const s = await sup.wait(summarize);
          return { instructions: msg ?? null, summary: s.result ?? null };
        },
      );
      const crawler = await sup.spawn(
        {
          threadId: thread,
          taskType: 'crawl',
          description: 'crawl the docs site (runaway)',
          name: `crawler-${round}`,
        },
        async (ctx) => {
          const pages = await Promise.all(
            ['/api', '/guides'].map((p) =>
              sup.spawn(
                { threadId: thread, taskType: 'crawl_page', description: `crawl ${p}` },
                async (c) => {
                  await work(view, c, 1000, 100); // never finishes on its own
                },
              ),
            ),
          );
          await ctx.cancelled();
          await Promise.all(pages.map((p) => sup.wait(p)));
          return TaskResult.cancelled();
        },
      );
      const approval = await sup.spawn(
        { threadId: thread, taskType: 'approve', description: 'ask before publishing' },
        async (ctx) => {
          const answer = await ctx.requestInput({ question: 'Publish the report?', choices: ['yes', 'no'] });
          return { published: answer === 'yes' };
        },
      );
      const flaky = await sup.spawn(
        { threadId: thread, taskType: 'search', description: 'web search' },
        async (ctx) => {
          await work(view, ctx, 4, 150);
          return TaskResult.failed('rate limited by the (scripted) search API');
        },
      );
      await sleep(350, agent.signal);
      const text = 'focus on cooperative cancellation';
      sup.sendTaskInboxMessage(analyst, thread, `coordinator-${round}`, text);
      view.note('message', `message → ${analyst} (analyst): "${text}"`, { task_id: analyst, content: text });
      await sleep(400, agent.signal);
      sup.provideInput(approval, 'yes');
      view.note('input', `provideInput(${approval}, "yes") → the approval goes on`, {
        task_id: approval,
        response: 'yes',
      });
      await sleep(750, agent.signal);
      const n = sup.cancelTree(crawler);
      view.note('cancel_tree', `cancelTree(${crawler}) → ${n} tasks signalled`, {
        task_id: crawler,
        signalled: n,
      });
      const results = await Promise.all([fetch, analyst, crawler, approval, flaky].map((id) => sup.wait(id)));
      return { children: results.map((r) => `${r.task_id}:${r.status}`) };
    },
  );
  await sup.wait(root);
  return root;
}

/**
 * Runs the demo: opens (or creates) the store, restores the thread and reports its orphans,
 * runs a fresh round with live output, and closes everything. Store problems are
 * {@link CliError}s.
 *
 * @example
 * await runDemo({ db: './awaken-tasks.db', mode: 'plain' });
 */
export async function runDemo(opts: DemoOptions): Promise<void> {
  let store: SqliteTaskStore;
  let before: Awaited<ReturnType<SqliteTaskStore['load']>>;
  try {
    store = new SqliteTaskStore(opts.db);
    before = await store.load(DEMO_THREAD);
  } catch (e) {
    throw new CliError(`cannot open ${opts.db}: ${oneLine(e)}`);
  }
  // One page crawl at a time: the second waits `queued` (and is cancelled there with its tree).
  const sup = createTaskSupervisor({
    store,
    cancelGraceMs: 3000,
    concurrency: { perType: { crawl_page: 1 } },
  });
  const list = (): TaskSummary[] => sup.list(DEMO_THREAD);
  const round = before.filter((r) => r.task_type === 'sub_agent' && !r.parent_context.task_id).length + 1;
  const view = createDemoView(opts.mode, {
    header: `awaken-tasks demo · thread ${DEMO_THREAD} · ${opts.db}`,
    list,
  });
  try {
    const wasRunning = before.filter((r) => r.status === 'running').map((r) => r.task_id);
    const restored = await sup.loadThread(DEMO_THREAD);
    const orphans = wasRunning
      .map((id) => sup.get(id))
      .filter((s): s is TaskSummary => s?.status === 'failed');
    const ids = orphans.map((o) => `${o.task_id} (${o.task_type})`).join(', ');
    view.note(
      'restored',
      `restored ${restored} task${restored === 1 ? '' : 's'} from ${opts.db}; ${orphans.length} orphaned` +
        (orphans.length > 0 ? `: ${ids} — ${orphans[0]?.error}` : ''),
      { restored, orphans },
    );
    sup.subscribe((c) => {
      if (c.thread_id === DEMO_THREAD) view.change(c);
    });
    if (opts.crashAfterMs !== undefined) {
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), opts.crashAfterMs);
    }
    await scenario(sup, view, round);
    await sup.stop();
    const old = new Set(before.map((r) => r.task_id));
    const mine = list().filter((s) => !old.has(s.task_id));
    const count = (st: string): number => mine.filter((s) => s.status === st).length;
    view.finish(list());
    view.note(
      'done',
      `done: ${mine.length} tasks — ${count('completed')} completed, ${count('failed')} failed, ` +
        `${count('cancelled')} cancelled. Saved in ${opts.db}; try: awaken-tasks tree --db ${opts.db}`,
      {
        tasks: mine.length,
        completed: count('completed'),
        failed: count('failed'),
        cancelled: count('cancelled'),
      },
    );
  } finally {
    view.finish(list());
    await sup.stop();
    await store.close();
  }
}
