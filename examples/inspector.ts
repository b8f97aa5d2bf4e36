/**
 * Embed the live task-tree inspector in your own agent process: serve the inspector with the
 * supervisor's own events (so the page sees custom events; no inbox is wrapped), and open the
 * printed URL.
 *
 * Run: `npx tsc -p . && node dist/examples/inspector.js` (Ctrl-C to stop), or import
 * `startInspectorExample` in a test.
 *
 * @example
 * const { inspector, stop } = await startInspectorExample();
 * console.log(`${inspector.url}#token=${inspector.token}`);
 * await stop();
 */
import { pathToFileURL } from 'node:url';
import { type InspectorServer, serveInspector, supervisorEvents } from '../src/graph/index.js';
import { createInbox, createTaskSupervisor, TaskResult, type TaskSupervisor } from '../src/index.js';

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

/** Starts a supervisor with a small research tree and its inspector on `port` (0: any free port). */
export async function startInspectorExample(
  port = 0,
): Promise<{ supervisor: TaskSupervisor; inspector: InspectorServer; stop: () => Promise<void> }> {
  const inbox = createInbox();
  // Your agent loop reads `inbox.receiver`; the inspector observes the supervisor, not the inbox.
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
  const inspector = await serveInspector(supervisor, { port, events: supervisorEvents(supervisor) });

  const root = await supervisor.spawn(
    { threadId: 'chat-1', taskType: 'research', description: 'compare actor runtimes' },
    async (ctx) => {
      await ctx.cancelled();
      return TaskResult.cancelled();
    },
  );
  for (const topic of ['XState', 'Akka', 'Orleans']) {
    await supervisor.spawn(
      {
        threadId: 'chat-1',
        taskType: 'read',
        description: `read about ${topic}`,
        parentContext: { task_id: root },
      },
      async (ctx) => {
        for (let page = 1; ; page++) {
          await sleep(1000, ctx.signal);
          ctx.emit('page_read', { topic, page });
        }
      },
    );
  }
  // Drain the owner inbox as an agent loop would.
  void (async () => {
    for await (const _ of inbox.receiver);
  })();
  return {
    supervisor,
    inspector,
    async stop() {
      await inspector.close();
      await supervisor.stop();
      inbox.receiver.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { inspector, stop } = await startInspectorExample(4477);
  console.log(`inspector: ${inspector.url}#token=${inspector.token}  (Ctrl-C to stop)`);
  process.once('SIGINT', () => void stop());
}
