/**
 * Custom events for the inspector. It takes an `events` source: a `subscribe`-style function or
 * an `AsyncIterable` of `TaskEvent`s. {@link supervisorEvents} makes one from the supervisor's own
 * event observers (every task's events, whatever inbox they go to, none taken from it);
 * {@link createEventTap} is the older way, wrapping the inbox the supervisor delivers to.
 */
import type { InboxSender } from '../../inbox/types.js';
import type { TaskSupervisor } from '../../supervisor/types.js';
import type { Json, TaskEvent, TaskId } from '../../wire/types.js';

/** A source of task events: `(listener) => unsubscribe`, or an async iterable (consumed by the inspector). */
export type InspectorEventSource =
  | ((listener: (event: TaskEvent) => void) => () => void)
  | AsyncIterable<TaskEvent>;

/** One event in a task's history, stamped with the time the inspector saw it. */
export interface RecordedTaskEvent {
  readonly at_ms: number;
  readonly event: TaskEvent;
}

const EVENT_KINDS = new Set(['completed', 'failed', 'cancelled', 'custom']);

/**
 * Whether `value` looks like a `TaskEvent` (cheap shape check: inboxes also carry raw messages).
 *
 * @example
 * isTaskEvent({ kind: 'custom', task_id: 'bg_0', event_type: 'p', payload: null }); // true
 */
export function isTaskEvent(value: unknown): value is TaskEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { kind?: unknown; task_id?: unknown };
  return typeof v.kind === 'string' && EVENT_KINDS.has(v.kind) && typeof v.task_id === 'string';
}

/**
 * The inspector's event source for a supervisor: its `onEvent` observers, so the page sees every
 * task's custom and terminal events — those sent to a sub-agent's inbox too — without wrapping
 * or draining any inbox.
 *
 * @example
 * const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
 * const inspector = await serveInspector(supervisor, { events: supervisorEvents(supervisor) });
 */
export function supervisorEvents(supervisor: Pick<TaskSupervisor, 'onEvent'>): InspectorEventSource {
  return (listener) => supervisor.onEvent((event) => listener(event));
}

/** A tap on inbox traffic: wrap the inboxes the supervisor delivers to, subscribe to what passes. */
export interface EventTap {
  /**
   * An `InboxSender` that reports every `TaskEvent` sent through it, then forwards it to `target`.
   *
   * @example
   * const supervisor = createTaskSupervisor({ ownerInbox: tap.wrap(inbox.sender) });
   */
  wrap(target: InboxSender): InboxSender;
  /**
   * An `InboxSender` that reports events and keeps nothing (for runs where no one reads the owner inbox).
   *
   * @example
   * const supervisor = createTaskSupervisor({ ownerInbox: tap.sink() });
   */
  sink(): InboxSender;
  /**
   * Listens to every event sent through a wrapped sender; returns the unsubscribe function.
   *
   * @example
   * const unsubscribe = tap.subscribe((event) => console.log(event.task_id, event.kind));
   */
  subscribe(listener: (event: TaskEvent) => void): () => void;
  /** The number of listeners (for leak checks). */
  readonly listenerCount: number;
}

/**
 * Makes an {@link EventTap} (for an inbox the supervisor does not own; with a supervisor at hand,
 * {@link supervisorEvents} is simpler and sees more). Give `tap.wrap(inbox.sender)` to the supervisor as its owner inbox
 * (or a spawn's `inbox`) and `tap.subscribe` to `serveInspector` as `events`: the page then shows
 * each task's latest custom event and its event history. Events sent to inboxes you did not wrap
 * (a sub-agent's own inbox, for its children) are not seen.
 *
 * @example
 * const tap = createEventTap();
 * const inbox = createInbox();
 * const supervisor = createTaskSupervisor({ ownerInbox: tap.wrap(inbox.sender) });
 * const inspector = await serveInspector(supervisor, { events: tap.subscribe });
 */
export function createEventTap(): EventTap {
  const listeners = new Set<(event: TaskEvent) => void>();
  const report = (msg: unknown): void => {
    if (!isTaskEvent(msg)) return;
    for (const l of listeners) {
      try {
        l(msg);
      } catch {
        // An observer must never break delivery to the real inbox.
      }
    }
  };
  const wrap = (target: InboxSender): InboxSender => ({
    send: (msg: Json) => {
      const ok = target.send(msg);
      if (ok) report(msg);
      return ok;
    },
    trySend: (msg: Json) => {
      const ok = target.trySend(msg);
      if (ok) report(msg);
      return ok;
    },
    isClosed: () => target.isClosed(),
    // The wrapped inbox's drop count stays visible to the supervisor's `stats()`.
    get dropped() {
      return target.dropped;
    },
    clone: () => wrap(target.clone()),
    close: () => target.close(),
  });
  const sink = (): InboxSender => {
    let closed = false;
    const s: InboxSender = {
      send: (msg) => {
        if (closed) return false;
        report(msg);
        return true;
      },
      trySend: (msg) => s.send(msg),
      isClosed: () => false,
      clone: () => sink(),
      close: () => {
        closed = true;
      },
    };
    return s;
  };
  return {
    wrap,
    sink,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    get listenerCount() {
      return listeners.size;
    },
  };
}

/**
 * Subscribes to an {@link InspectorEventSource}; returns the stop function. An async iterable is
 * read until it ends or the stop function runs (which calls the iterator's `return`).
 *
 * @example
 * const stop = listenToEvents(tap.subscribe, (e) => console.log(e.kind, e.task_id));
 * stop();
 */
export function listenToEvents(
  source: InspectorEventSource,
  listener: (event: TaskEvent) => void,
): () => void {
  if (typeof source === 'function') return source(listener);
  const iterator = source[Symbol.asyncIterator]();
  let stopped = false;
  void (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || stopped) return;
        if (isTaskEvent(next.value)) listener(next.value);
      }
    } catch {
      // A failing source just stops reporting.
    }
  })();
  return () => {
    stopped = true;
    void Promise.resolve(iterator.return?.()).catch(() => {});
  };
}

/**
 * Bounded per-task event history: at most `perTask` events for at most `maxTasks` tasks (oldest
 * tasks dropped first).
 *
 * @example
 * const h = new EventHistory();
 * h.add({ kind: 'custom', task_id: 'bg_0', event_type: 'p', payload: 1 }, Date.now());
 * h.latestCustom('bg_0')?.event; // the event above
 */
export class EventHistory {
  readonly #byTask = new Map<TaskId, RecordedTaskEvent[]>();
  readonly #perTask: number;
  readonly #maxTasks: number;

  constructor(perTask = 50, maxTasks = 20_000) {
    this.#perTask = perTask;
    this.#maxTasks = maxTasks;
  }

  /** Records `event`; returns the stamped record. */
  add(event: TaskEvent, atMs: number): RecordedTaskEvent {
    const rec: RecordedTaskEvent = { at_ms: atMs, event };
    let list = this.#byTask.get(event.task_id);
    if (list === undefined) {
      if (this.#byTask.size >= this.#maxTasks) {
        const oldest = this.#byTask.keys().next().value;
        if (oldest !== undefined) this.#byTask.delete(oldest);
      }
      list = [];
      this.#byTask.set(event.task_id, list);
    }
    list.push(rec);
    if (list.length > this.#perTask) list.splice(0, list.length - this.#perTask);
    return rec;
  }

  /** A task's recorded events, oldest first. */
  of(taskId: TaskId): readonly RecordedTaskEvent[] {
    return this.#byTask.get(taskId) ?? [];
  }

  /** A task's latest custom event, if any. */
  latestCustom(taskId: TaskId): RecordedTaskEvent | undefined {
    const list = this.#byTask.get(taskId);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.event.kind === 'custom') return list[i];
    return undefined;
  }
}
