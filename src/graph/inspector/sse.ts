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
  /** Bytes this stream keeps in memory for its client: the whole snapshot until it is sent, then the unsent bytes. */
  held(): number;
  /** Bytes the socket has taken so far (grows while the client reads). */
  taken(): number;
  /** `taken()` at the last stall check. */
  lastTaken: number;
}

/** Snapshot bytes handed to the socket at a time, so a stalled client never queues all of it. */
const CHUNK = 64 * 1024;

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
  /**
   * The encoded snapshot, shared by every client that connects before the next change: N clients
   * pin one copy, not N. Every client's listener invalidates it on a change (a cache exists only
   * while some client does), as does any event; it is dropped with the last client.
   */
  #cached: Buffer | undefined;
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

  /** Drops every client holding more than the byte bound whose socket took nothing since the last check. */
  #checkStalled(): void {
    const now = performance.now();
    // After a blocked event loop no client could have made progress: judge none this time.
    const lagged = now - this.#lastCheck > 1.5 * this.#limits.stallMs;
    this.#lastCheck = now;
    for (const c of this.#clients) {
      const taken = c.taken();
      if (!lagged && c.held() > this.#limits.maxBufferedBytes && taken === c.lastTaken) {
        this.dropped++;
        // destroy() frees the queued snapshot at once; end() would wait for the client to read it.
        c.res.destroy();
      } else c.lastTaken = taken;
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
    this.#cached = undefined;
    for (const c of this.#clients) c.event(rec);
  }

  #snapshotBytes(): Buffer {
    this.#cached ??= Buffer.from(
      `retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(buildSnapshot(this.#source, this.#history))}\n\n`,
    );
    return this.#cached;
  }

  #release(): void {
    if (this.#clients.size === 0) this.#cached = undefined;
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const c of [...this.#clients]) c.end();
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    this.#release();
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
    let waitingDrain = false;
    let written = 0;
    let snapshot: Buffer | undefined;
    let offset = 0;
    const write = (data: Buffer | string): boolean => {
      written += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      return res.write(data);
    };
    const afterDrain = (then: () => void): void => {
      if (waitingDrain) return;
      waitingDrain = true;
      res.once('drain', () => {
        waitingDrain = false;
        then();
      });
    };
    // The snapshot goes out a chunk at a time as the socket drains, so a client that stops reading
    // is seen as stalled (its socket takes nothing) instead of silently queuing everything.
    const pump = (): void => {
      while (snapshot !== undefined && !closed) {
        const end = Math.min(offset + CHUNK, snapshot.length);
        const ok = write(snapshot.subarray(offset, end));
        offset = end;
        if (offset >= snapshot.length) snapshot = undefined;
        if (!ok) {
          afterDrain(pump);
          return;
        }
      }
      schedule();
    };

    const flush = (): void => {
      timer = undefined;
      if (closed || snapshot !== undefined || (changes.size === 0 && events.size === 0)) return;
      if (res.writableNeedDrain) {
        // A slow client: keep coalescing until its socket drains.
        afterDrain(schedule);
        return;
      }
      const batch: InspectorBatch = { changes: [...changes.values()], events: [...events.values()] };
      changes.clear();
      events.clear();
      write(`event: batch\ndata: ${JSON.stringify(batch)}\n\n`);
    };
    const schedule = (): void => {
      if (timer === undefined && !closed) timer = setTimeout(flush, this.#batchMs);
    };
    const listener = (change: TaskChange): void => {
      this.#cached = undefined;
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
      held: () => (snapshot === undefined ? res.writableLength : snapshot.length),
      taken: () => written - res.writableLength,
      lastTaken: -1,
    };
    // Subscribe and snapshot in one synchronous step: no change can fall between them.
    const unsubscribe = this.#source.subscribe(listener);
    this.#clients.add(client);
    this.#watch();
    // A backed-up stream needs no keep-alive: it is not idle, and the bytes would only pile up.
    const heartbeat = setInterval(() => {
      if (snapshot === undefined && !res.writableNeedDrain) write(': keep-alive\n\n');
    }, 15_000);
    heartbeat.unref();
    const cleanup = (): void => {
      if (closed) return;
      closed = true;
      unsubscribe();
      this.#clients.delete(client);
      this.#release();
      clearInterval(heartbeat);
      if (timer !== undefined) clearTimeout(timer);
    };
    req.on('close', cleanup);
    res.on('close', cleanup);
    res.on('error', cleanup);
    // One shared Buffer, sent in slices: the JSON string is garbage as soon as it is encoded.
    snapshot = this.#snapshotBytes();
    pump();
  }
}
