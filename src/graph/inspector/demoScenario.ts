/**
 * The scripted agent that `awaken-tasks demo --serve` runs under the inspector: rounds of a
 * coordinator sub-agent whose children report progress, finish, fail, and one runaway crawler
 * subtree left running for you to cancel from the page (auto-cancelled after `runawayMs`). No
 * network. A second thread runs a periodic housekeeping task, so the page shows two trees.
 */
import type { TaskContext, TaskSupervisor } from '../../supervisor/types.js';
import { TaskResult } from '../../wire/taskResult.js';

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of {@link runInspectorScenario}. */
export interface ScenarioOptions {
  /** Time between rounds; default 12 000 ms. */
  roundMs?: number;
  /** A runaway crawler nobody cancelled is cancelled after this long; default 45 000 ms. */
  runawayMs?: number;
  /** Stops the rounds (running tasks are left to `supervisor.stop()`). */
  signal: AbortSignal;
}

/** One round on thread `demo`: a coordinator and its children. */
async function round(sup: TaskSupervisor, n: number, runawayMs: number): Promise<void> {
  const thread = 'demo';
  await sup.spawnAgent(
    { threadId: thread, description: `round ${n}: research XState supervision` },
    async (agent) => {
      // Children report to the coordinator's inbox; the page sees their events through the
      // supervisor's observers all the same.
      const inbox = agent.inboxSender;
      const step = async (ctx: Pick<TaskContext, 'signal' | 'emit'>, steps: number, ms: number) => {
        for (let i = 1; i <= steps; i++) {
          await sleep(ms, ctx.signal);
          ctx.emit('progress', { done: i, of: steps });
        }
      };
      const spawn = (taskType: string, description: string, body: Parameters<TaskSupervisor['spawn']>[1]) =>
        sup.spawn({ threadId: thread, taskType, description, inbox }, body);
      const fetch = await spawn('fetch', 'download 3 sources', (ctx) =>
        step(ctx, 10, 300).then(() => ({ sources: 3 })),
      );
      const analyst = await spawn('analyze', 'compare cancellation models', async (ctx) => {
        const summarize = await spawn('summarize', 'summarize findings', (c) =>
          step(c, 6, 400).then(() => 'cooperative cancellation wins'),
        );
        await step(ctx, 8, 350);
        return (await sup.wait(summarize)).result ?? null;
      });
      const crawler = await spawn('crawl', 'crawl the docs site (runaway: cancel me)', async (ctx) => {
        const pages = await Promise.all(
          ['/api', '/guides'].map((p) =>
            spawn('crawl_page', `crawl ${p}`, async (c) => {
              for (let i = 1; ; i++) {
                await sleep(500, c.signal);
                c.emit('page', { url: `${p}/${i}` });
              }
            }),
          ),
        );
        await ctx.cancelled();
        await Promise.all(pages.map((p) => sup.wait(p)));
        return TaskResult.cancelled();
      });
      const search = await spawn('search', 'web search', async (ctx) => {
        await step(ctx, 4, 400);
        return TaskResult.failed('rate limited by the (scripted) search API');
      });
      // Read what the children report (the coordinator's "model" would see these).
      void (async () => {
        for await (const _ of agent.inboxReceiver) if (agent.isCancelled()) break;
      })();
      const timer = setTimeout(() => sup.cancelTree(crawler), runawayMs);
      await Promise.all([fetch, analyst, crawler, search].map((id) => sup.wait(id)));
      clearTimeout(timer);
      return { round: n };
    },
  );
}

/**
 * Runs rounds until `signal` aborts. Errors of a round (a stopped supervisor) end the loop quietly.
 *
 * @example
 * const stop = new AbortController();
 * void runInspectorScenario(supervisor, { signal: stop.signal });
 */
export async function runInspectorScenario(sup: TaskSupervisor, opts: ScenarioOptions): Promise<void> {
  const { roundMs = 12_000, runawayMs = 45_000, signal } = opts;
  await sup.spawn(
    { threadId: 'ops', taskType: 'housekeeping', description: 'prune finished tasks older than 2 minutes' },
    async (ctx) => {
      for (;;) {
        await sleep(5000, ctx.signal);
        ctx.emit('pruned', { tasks: sup.prune({ olderThanMs: 120_000 }) });
      }
    },
  );
  for (let n = 1; !signal.aborted; n++) {
    try {
      void round(sup, n, runawayMs).catch(() => {});
      await sleep(roundMs, signal);
    } catch {
      return;
    }
  }
}
