/**
 * The Server-Sent Events stream: a snapshot first, then batches of changes every `batchMs`,
 * coalesced per task (the latest summary and latest event win), so 1 000 busy tasks cost the page
 * one message per batch, not one per change. Each client holds one `subscribe` listener, removed
 * when its request closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TaskChange } from '../../supervisor/types.js';
import type { TaskId } from '../../wire/types.js';
import type { EventHistory, RecordedTaskEvent } from './events.js';
import { buildSnapshot, type InspectorNode, type InspectorSource, toNode } from './model.js';

/** One batch as sent to the page (`event: batch`). */
export interface InspectorBatch {
  changes: Array<InspectorNode & { type: TaskChange['type'] }>;
  events: RecordedTaskEvent[];
}

/**
 * The server side of the stream clients; `publishEvent` fans a recorded event out to each.
 *
 * @example
 * const hub = new SseHub(supervisor, history, 50);
 * createServer((req, res) => hub.open(req, res));
 */
export class SseHub {
  readonly #clients = new Set<{ event(rec: RecordedTaskEvent): void; end(): void }>();
  readonly #source: InspectorSource;
  readonly #history: EventHistory;
  readonly #batchMs: number;

  constructor(source: InspectorSource, history: EventHistory, batchMs: number) {
    this.#source = source;
    this.#history = history;
    this.#batchMs = batchMs;
  }

  /** Open streams. */
  get size(): number {
    return this.#clients.size;
  }

  publishEvent(rec: RecordedTaskEvent): void {
    for (const c of this.#clients) c.event(rec);
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const c of [...this.#clients]) c.end();
  }

  /** Serves `GET /events` on this request until it closes. */
  open(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const changes = new Map<TaskId, InspectorBatch['changes'][number]>();
    const events = new Map<TaskId, RecordedTaskEvent>();
    let timer: NodeJS.Timeout | undefined;
    let closed = false;

    const flush = (): void => {
      timer = undefined;
      if (closed || (changes.size === 0 && events.size === 0)) return;
      if (res.writableNeedDrain) {
        // A slow client: keep coalescing until its socket drains.
        res.once('drain', schedule);
        return;
      }
      const batch: InspectorBatch = { changes: [...changes.values()], events: [...events.values()] };
      changes.clear();
      events.clear();
      res.write(`event: batch\ndata: ${JSON.stringify(batch)}\n\n`);
    };
    const schedule = (): void => {
      if (timer === undefined && !closed) timer = setTimeout(flush, this.#batchMs);
    };
    const listener = (change: TaskChange): void => {
      const prev = changes.get(change.summary.task_id);
      const node = toNode(change.thread_id, change.summary, this.#history);
      changes.set(change.summary.task_id, {
        ...node,
        type: prev?.type === 'spawned' ? 'spawned' : change.type,
      });
      schedule();
    };
    const client = {
      event: (rec: RecordedTaskEvent) => {
        events.set(rec.event.task_id, rec);
        schedule();
      },
      end: () => res.end(),
    };
    // Subscribe and snapshot in one synchronous step: no change can fall between them.
    const unsubscribe = this.#source.subscribe(listener);
    this.#clients.add(client);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
    const cleanup = (): void => {
      if (closed) return;
      closed = true;
      unsubscribe();
      this.#clients.delete(client);
      clearInterval(heartbeat);
      if (timer !== undefined) clearTimeout(timer);
    };
    req.on('close', cleanup);
    res.on('close', cleanup);
    res.on('error', cleanup);
    res.write(
      `retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(buildSnapshot(this.#source, this.#history))}\n\n`,
    );
  }
}
