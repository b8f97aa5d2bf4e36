/**
 * The Server-Sent Events stream: a snapshot first, then batches of changes every `batchMs`,
 * coalesced per task (the latest summary and latest event win), so 1 000 busy tasks cost the page
 * one message per batch, not one per change. Each client holds one `subscribe` listener, removed
 * when its request closes. A client that stops reading is dropped once its unsent bytes stay above
 * a bound without shrinking, so it cannot pin its snapshot in the server's memory.
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

/** Bounds on one stream's unsent data. */
export interface SseLimits {
  /** Unsent bytes (`res.writableLength`) a client may hold while it makes no progress. */
  maxBufferedBytes: number;
  /** How long a client over `maxBufferedBytes` may go without its unsent bytes shrinking. */
  stallMs: number;
}

interface Client {
  event(rec: RecordedTaskEvent): void;
  end(): void;
  res: ServerResponse;
  /** Unsent bytes at the last stall check. */
  lastUnsent: number;
}

/**
 * The server side of the stream clients; `publishEvent` fans a recorded event out to each.
 *
 * @example
 * const hub = new SseHub(supervisor, history, 50, { maxBufferedBytes: 1 << 20, stallMs: 2000 });
 * createServer((req, res) => hub.open(req, res));
 */
export class SseHub {
  readonly #clients = new Set<Client>();
  readonly #source: InspectorSource;
  readonly #history: EventHistory;
  readonly #batchMs: number;
  readonly #limits: SseLimits;
  #watchdog: NodeJS.Timeout | undefined;
  #lastCheck = 0;
  /** Clients dropped for not reading. */
  dropped = 0;

  constructor(
    source: InspectorSource,
    history: EventHistory,
    batchMs: number,
    limits: SseLimits = { maxBufferedBytes: 1024 * 1024, stallMs: 2000 },
  ) {
    this.#source = source;
    this.#history = history;
    this.#batchMs = batchMs;
    this.#limits = limits;
  }

  /** Drops every client over the byte bound whose unsent bytes did not shrink since the last check. */
  #checkStalled(): void {
    const now = performance.now();
    // After a blocked event loop no client could have made progress: judge none this time.
    const lagged = now - this.#lastCheck > 1.5 * this.#limits.stallMs;
    this.#lastCheck = now;
    for (const c of this.#clients) {
      const unsent = c.res.writableLength;
      if (!lagged && unsent > this.#limits.maxBufferedBytes && unsent >= c.lastUnsent) {
        this.dropped++;
        // destroy() frees the queued snapshot at once; end() would wait for the client to read it.
        c.res.destroy();
      } else c.lastUnsent = unsent;
    }
  }

  #watch(): void {
    if (this.#watchdog !== undefined || this.#clients.size === 0) return;
    this.#lastCheck = performance.now();
    this.#watchdog = setInterval(() => {
      this.#checkStalled();
      if (this.#clients.size === 0) {
        clearInterval(this.#watchdog);
        this.#watchdog = undefined;
      }
    }, this.#limits.stallMs);
    this.#watchdog.unref();
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
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
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
    const client: Client = {
      event: (rec: RecordedTaskEvent) => {
        events.set(rec.event.task_id, rec);
        schedule();
      },
      end: () => res.end(),
      res,
      lastUnsent: Number.POSITIVE_INFINITY,
    };
    // Subscribe and snapshot in one synchronous step: no change can fall between them.
    const unsubscribe = this.#source.subscribe(listener);
    this.#clients.add(client);
    this.#watch();
    // A backed-up stream needs no keep-alive: it is not idle, and the bytes would only pile up.
    const heartbeat = setInterval(() => {
      if (!res.writableNeedDrain) res.write(': keep-alive\n\n');
    }, 15_000);
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
    // One Buffer, queued by reference: the snapshot's JSON string is garbage as soon as it is encoded.
    res.write(
      Buffer.from(
        `retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(buildSnapshot(this.#source, this.#history))}\n\n`,
      ),
    );
  }
}
