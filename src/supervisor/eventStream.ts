import type { TaskEvent, TaskId } from '../wire/types.js';
import type { TaskEventFilter, TaskEventListener } from './eventObservers.js';

/** Options of `supervisor.events()`: which events, until when, and how many may wait unread. */
export interface TaskEventStreamOptions extends TaskEventFilter {
  /** Ends the stream (at once; unread events are discarded) when aborted. */
  readonly signal?: AbortSignal;
  /**
   * How many events may wait unread; default 1024. Past it the oldest unread custom event is
   * dropped (and counted in `dropped`); terminal events are never dropped.
   */
  readonly bufferSize?: number;
}

/**
 * An async iterator of task events that a supervisor pushes into a bounded buffer. Ends when its
 * signal aborts, when the supervisor has stopped (after the buffered events), after the terminal
 * event of the task it follows (a `taskId` filter), or on `close()`/`return()` (a `break` out of
 * `for await`).
 */
export interface TaskEventStream extends AsyncIterableIterator<TaskEvent> {
  /** How many custom events were dropped because the reader fell `bufferSize` behind. */
  readonly dropped: number;
  /**
   * Ends the stream now; unread events are discarded.
   *
   * @example
   * const stream = supervisor.events({ threadId: 'thread-1' });
   * setTimeout(() => stream.close(), 5_000);
   * for await (const event of stream) console.log(event.kind);
   */
  close(): void;
}

/** What a stream needs from its supervisor. */
export interface EventStreamHost {
  onEvent(listener: TaskEventListener, filter: TaskEventFilter): () => void;
  /** Calls `onStopped` once the supervisor has stopped (at once if it has); returns the unsubscribe. */
  whenStopped(onStopped: () => void): () => void;
  /** Whether the task's terminal event was already delivered (`undefined`: unknown task). */
  terminalDelivered(taskId: TaskId): boolean | undefined;
}

const DEFAULT_BUFFER = 1024;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

function checkOptions(opts: unknown): asserts opts is TaskEventStreamOptions {
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`Expected \`opts\` to be an object, got ${opts === null ? 'null' : typeof opts}`);
  }
  const { signal, bufferSize } = opts as Record<string, unknown>;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Expected \`opts.signal\` to be an AbortSignal, got ${typeof signal}`);
  }
  if (bufferSize !== undefined && !(Number.isInteger(bufferSize) && (bufferSize as number) > 0)) {
    throw new TypeError(`Expected \`opts.bufferSize\` to be a positive integer, got ${String(bufferSize)}`);
  }
}

/**
 * Opens a {@link TaskEventStream} on `host` (what `supervisor.events()` does). Throws `TypeError`
 * for bad options or an unknown `taskId`.
 *
 * @example
 * const stream = openEventStream(host, { threadId: 'thread-1', bufferSize: 100 });
 */
export function openEventStream(host: EventStreamHost, opts: TaskEventStreamOptions = {}): TaskEventStream {
  checkOptions(opts);
  const { threadId, taskId, signal } = opts;
  const bound = opts.bufferSize ?? DEFAULT_BUFFER;
  let delivered: boolean | undefined;
  if (taskId !== undefined) {
    delivered = host.terminalDelivered(taskId);
    if (delivered === undefined) throw new TypeError(`unknown task '${taskId}'`);
  }
  const buffer: TaskEvent[] = [];
  let head = 0;
  let dropped = 0;
  let ended = false;
  let reader: ((r: IteratorResult<TaskEvent>) => void) | undefined;
  let unsubscribe: (() => void) | undefined;
  let unwatchStop: (() => void) | undefined;

  const size = (): number => buffer.length - head;
  const detach = (): void => {
    ended = true;
    unsubscribe?.();
    unwatchStop?.();
    signal?.removeEventListener('abort', close);
    unsubscribe = undefined;
    unwatchStop = undefined;
  };
  // Graceful end: what is buffered is still read.
  const finish = (): void => {
    detach();
    if (reader !== undefined && size() === 0) {
      const r = reader;
      reader = undefined;
      r(DONE);
    }
  };
  function close(): void {
    detach();
    buffer.length = 0;
    head = 0;
    const r = reader;
    reader = undefined;
    r?.(DONE);
  }
  const dropOldestCustom = (): boolean => {
    for (let i = head; i < buffer.length; i++) {
      if ((buffer[i] as TaskEvent).kind === 'custom') {
        buffer.splice(i, 1);
        dropped++;
        return true;
      }
    }
    return false;
  };
  const push = (event: TaskEvent): void => {
    if (ended) return;
    const r = reader;
    if (r !== undefined) {
      reader = undefined;
      r({ done: false, value: event });
    } else {
      // Full: the oldest unread custom event makes room. With none left, a custom event is the
      // one dropped; a terminal event is kept over the bound (one per task at most).
      if (size() >= bound && !dropOldestCustom() && event.kind === 'custom') {
        dropped++;
        return;
      }
      buffer.push(event);
    }
    if (taskId !== undefined && event.kind !== 'custom') finish();
  };

  const ready = !(signal?.aborted ?? false) && delivered !== true;
  if (ready) {
    const filter: { threadId?: string; taskId?: TaskId } = {};
    if (threadId !== undefined) filter.threadId = threadId;
    if (taskId !== undefined) filter.taskId = taskId;
    unsubscribe = host.onEvent((event) => push(event), filter);
    signal?.addEventListener('abort', close, { once: true });
    unwatchStop = host.whenStopped(finish);
  } else ended = true;

  const stream: TaskEventStream = {
    get dropped() {
      return dropped;
    },
    close,
    next(): Promise<IteratorResult<TaskEvent>> {
      if (size() > 0) {
        const value = buffer[head++] as TaskEvent;
        if (head > 64 && head * 2 > buffer.length) {
          buffer.splice(0, head);
          head = 0;
        }
        return Promise.resolve({ done: false, value });
      }
      if (ended) return Promise.resolve(DONE);
      if (reader !== undefined)
        return Promise.reject(new TypeError('events(): next() called while a read is pending'));
      return new Promise((resolve) => {
        reader = resolve;
      });
    },
    return(): Promise<IteratorResult<TaskEvent>> {
      close();
      return Promise.resolve(DONE);
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
