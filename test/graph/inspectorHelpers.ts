/** Test helpers for the inspector: gated task bodies, raw HTTP requests, SSE readers. */
import { request } from 'node:http';
import { type InspectorServer, serveInspector } from '../../src/graph/index.js';
import { createTaskSupervisor } from '../../src/supervisor/createTaskSupervisor.js';
import type { SupervisorOptions, TaskContext, TaskSupervisor } from '../../src/supervisor/types.js';
import { createEventTap, type EventTap } from '../../src/graph/inspector/events.js';

/** A promise with its resolver (Node 20 has no `Promise.withResolvers`). */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

/** A body that emits `started`, waits for `g` (then completes) or cancellation (then ends cancelled). */
export const gated =
  (g: { promise: Promise<void> }, result: string = 'done') =>
  async (ctx: TaskContext): Promise<string> => {
    ctx.emit('started', { task: ctx.taskId });
    await Promise.race([g.promise, ctx.cancelled()]);
    if (ctx.isCancelled()) throw ctx.signal.reason;
    return result;
  };

/** A supervisor (`options` added) whose owner inbox is a tap sink, and the tap. */
export function tappedSupervisor(options: SupervisorOptions = {}): { sup: TaskSupervisor; tap: EventTap } {
  const tap = createEventTap();
  return { sup: createTaskSupervisor({ ownerInbox: tap.sink(), cancelGraceMs: 2000, ...options }), tap };
}

/**
 * A tapped supervisor (`options` added), the inspector serving it, and a gate for its bodies.
 * `defer` takes their cleanups (stop the supervisor, close the server, open the gate), to run after
 * the test, the last first.
 */
export async function servedInspector(
  defer: (...cleanups: Array<() => Promise<unknown>>) => void,
  options: SupervisorOptions = {},
): Promise<{ sup: TaskSupervisor; server: InspectorServer; g: ReturnType<typeof gate> }> {
  const { sup, tap } = tappedSupervisor(options);
  const g = gate();
  const server = await serveInspector(sup, { events: tap.subscribe });
  defer(
    () => sup.stop(),
    () => server.close(),
    async () => g.open(),
  );
  return { sup, server, g };
}

/**
 * The scripted tree of the tests, on thread `main`: root → {fetch, crawl → {page_a, page_b}},
 * plus one task on thread `side`. Every body waits on `g`.
 */
export async function scriptedTree(sup: TaskSupervisor, g: { promise: Promise<void> }) {
  const root = await sup.spawn({ threadId: 'main', taskType: 'plan', description: 'coordinate' }, gated(g));
  const fetch = await sup.spawn(
    { threadId: 'main', taskType: 'fetch', description: 'download', parentContext: { task_id: root } },
    gated(g),
  );
  const crawl = await sup.spawn(
    {
      threadId: 'main',
      taskType: 'crawl',
      description: 'crawl <docs> & "site"',
      parentContext: { task_id: root },
    },
    gated(g),
  );
  const pageA = await sup.spawn(
    { threadId: 'main', taskType: 'crawl_page', description: '/api', parentContext: { task_id: crawl } },
    gated(g),
  );
  const pageB = await sup.spawn(
    { threadId: 'main', taskType: 'crawl_page', description: '/guides', parentContext: { task_id: crawl } },
    gated(g),
  );
  const side = await sup.spawn({ threadId: 'side', taskType: 'cron', description: 'housekeeping' }, gated(g));
  return { root, fetch, crawl, pageA, pageB, side };
}

/** A raw HTTP request; resolves with status and body text. */
export function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** One SSE message. */
export interface SseMessage {
  event: string;
  data: unknown;
}

/**
 * Opens `GET url` as an event stream; `messages` fills as they arrive; `close()` destroys the
 * connection. `opened` resolves with the first message (the snapshot).
 */
export function openSse(url: string): {
  messages: SseMessage[];
  opened: Promise<SseMessage>;
  close: () => void;
} {
  const messages: SseMessage[] = [];
  let first!: (m: SseMessage) => void;
  const opened = new Promise<SseMessage>((r) => {
    first = r;
  });
  let buf = '';
  const req = request(url, (res) => {
    res.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i = buf.indexOf('\n\n');
      while (i !== -1) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data !== '') {
          const m = { event, data: JSON.parse(data) as unknown };
          messages.push(m);
          if (messages.length === 1) first(m);
        }
        i = buf.indexOf('\n\n');
      }
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end();
  return { messages, opened, close: () => req.destroy() };
}

/** The supervisor's change-listener count (its implementation's public getter). */
export const listenerCount = (sup: TaskSupervisor): number =>
  (sup as unknown as { listenerCount: number }).listenerCount;
