import type { TaskSummary } from '../wire/types.js';
import type { Registry } from './registry.js';
import { waitUntil } from './wait.js';

/**
 * A thread has no work left: none of its tasks is running, and every ended task's terminal event
 * has been delivered. `finished` lists the tasks that ended since the thread's previous idle
 * event (in the order their ends were delivered), so a host can tell the agent what its
 * background work produced.
 *
 * @example
 * const event: ThreadIdleEvent = { kind: 'idle', thread_id: 'thread-1', finished: [], at_ms: Date.now() };
 */
export interface ThreadIdleEvent {
  readonly kind: 'idle';
  readonly thread_id: string;
  /**
   * The thread's tasks that ended since its previous idle event (or since this supervisor first
   * watched for idleness, by the first `whenIdle`/`onIdle` call), in delivery order. Empty when
   * `whenIdle` found the thread idle already.
   */
  readonly finished: readonly TaskSummary[];
  /** When the thread became idle (the supervisor's `now`). */
  readonly at_ms: number;
}

/** Called once each time a watched thread becomes idle. */
export type ThreadIdleListener = (event: ThreadIdleEvent) => void;

/**
 * Options of `whenIdle`.
 *
 * @example
 * const opts: WhenIdleOptions = { signal: AbortSignal.timeout(60_000) };
 */
export interface WhenIdleOptions {
  /** Rejects the wait with `signal.reason` when aborted (the tasks keep running). */
  readonly signal?: AbortSignal;
  /** Rejects the wait with a `TimeoutError` DOMException after this many milliseconds. */
  readonly timeoutMs?: number;
}

interface IdleObserver {
  readonly listener: ThreadIdleListener;
  readonly threadId: string | undefined;
}

/**
 * Per-thread idleness: `whenIdle` promises and `onIdle` listeners. Costs nothing until the first
 * `whenIdle`/`onIdle` call; from then on each delivered terminal event records its summary under
 * its thread, and the thread's last one emits the idle event.
 *
 * Across replicas a thread's tasks are those this supervisor spawned or loaded (`loadThread`); a
 * remote task's end counts once its terminal record was read and its stored events were handed
 * to this process's inbox (the idle check runs after that delivery).
 */
export class IdleWatch {
  readonly #registry: Registry;
  readonly #now: () => number;
  #active = false;
  readonly #finished = new Map<string, TaskSummary[]>();
  readonly #waiters = new Map<string, Set<(event: ThreadIdleEvent) => void>>();
  readonly #observers = new Set<IdleObserver>();
  /** Threads whose idle check waits for a delivery in progress (a replica refresh). */
  readonly #holds = new Map<string, number>();

  constructor(registry: Registry, now: () => number) {
    this.#registry = registry;
    this.#now = now;
  }

  /** A task's end was delivered (or, for a remote task, read): record it, then check the thread. */
  ended(threadId: string, summary: TaskSummary): void {
    if (!this.#active) return;
    const list = this.#finished.get(threadId);
    if (list === undefined) this.#finished.set(threadId, [summary]);
    else list.push(summary);
    this.check(threadId);
  }

  /** Something that may have made the thread idle without a task ending (a spawn that failed). */
  check(threadId: string): void {
    if (!this.#active || this.#holds.has(threadId) || !this.#isIdle(threadId)) return;
    const finished = this.#finished.get(threadId);
    const waiters = this.#waiters.get(threadId);
    if (finished === undefined && waiters === undefined) return;
    this.#finished.delete(threadId);
    this.#waiters.delete(threadId);
    const event: ThreadIdleEvent = Object.freeze({
      kind: 'idle',
      thread_id: threadId,
      finished: Object.freeze(finished ?? []),
      at_ms: this.#now(),
    });
    if (waiters !== undefined) for (const resolve of waiters) resolve(event);
    for (const o of this.#observers) {
      if (o.threadId !== undefined && o.threadId !== threadId) continue;
      try {
        o.listener(event);
      } catch (error) {
        process.emitWarning(`awaken-tasks: an onIdle listener threw: ${String(error)}`);
      }
    }
  }

  /** Defers the thread's idle check until the returned release runs. */
  hold(threadId: string): () => void {
    this.#holds.set(threadId, (this.#holds.get(threadId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#holds.get(threadId) ?? 1) - 1;
      if (n > 0) this.#holds.set(threadId, n);
      else {
        this.#holds.delete(threadId);
        this.check(threadId);
      }
    };
  }

  whenIdle(threadId: string, opts: WhenIdleOptions = {}): Promise<ThreadIdleEvent> {
    if (typeof threadId !== 'string')
      return Promise.reject(new TypeError(`Expected \`threadId\` to be a string, got ${typeOf(threadId)}`));
    if (opts === null || typeof opts !== 'object')
      return Promise.reject(new TypeError(`Expected \`opts\` to be an object, got ${typeOf(opts)}`));
    const { signal, timeoutMs } = opts;
    if (signal !== undefined && !(signal instanceof AbortSignal))
      return Promise.reject(
        new TypeError(`Expected \`opts.signal\` to be an AbortSignal, got ${typeOf(signal)}`),
      );
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)))
      return Promise.reject(
        new TypeError(`Expected \`opts.timeoutMs\` to be a non-negative number, got ${String(timeoutMs)}`),
      );
    this.#active = true;
    if (!this.#holds.has(threadId) && this.#isIdle(threadId)) {
      const finished = this.#finished.get(threadId) ?? [];
      this.#finished.delete(threadId);
      return Promise.resolve(
        Object.freeze({
          kind: 'idle',
          thread_id: threadId,
          finished: Object.freeze(finished),
          at_ms: this.#now(),
        }),
      );
    }
    return waitUntil<ThreadIdleEvent>(
      opts,
      () => `thread '${threadId}' was not idle within ${timeoutMs} ms`,
      (done) => {
        let set = this.#waiters.get(threadId);
        if (set === undefined) this.#waiters.set(threadId, (set = new Set()));
        set.add(done);
        return () => {
          const waiting = this.#waiters.get(threadId);
          waiting?.delete(done);
          if (waiting?.size === 0) this.#waiters.delete(threadId);
        };
      },
    );
  }

  onIdle(listener: ThreadIdleListener, filter: { readonly threadId?: string } = {}): () => void {
    if (typeof listener !== 'function')
      throw new TypeError(`Expected \`listener\` to be a function, got ${typeOf(listener)}`);
    if (filter === null || typeof filter !== 'object')
      throw new TypeError(`Expected \`filter\` to be an object, got ${typeOf(filter)}`);
    const { threadId } = filter;
    if (threadId !== undefined && typeof threadId !== 'string')
      throw new TypeError(`Expected \`filter.threadId\` to be a string, got ${typeOf(threadId)}`);
    this.#active = true;
    const observer: IdleObserver = { listener, threadId };
    this.#observers.add(observer);
    return () => {
      this.#observers.delete(observer);
    };
  }

  /** No running task, and no ended task whose terminal event is still on its way. */
  #isIdle(threadId: string): boolean {
    if (this.#registry.hasRunning(threadId)) return false;
    for (const e of this.#registry.thread(threadId)) if (e.local && !e.delivered) return false;
    return true;
  }
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : typeof value;
}
