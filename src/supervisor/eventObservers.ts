import type { TaskEvent, TaskId } from '../wire/types.js';

/** Which events an observer sees: one thread's, one task's, or (neither given) every event. */
export interface TaskEventFilter {
  readonly threadId?: string;
  readonly taskId?: TaskId;
}

/** Called with each task event as the supervisor produces it, and the task's owner thread. */
export type TaskEventListener = (event: TaskEvent, threadId: string) => void;

/** One `onEvent` registration. Internal. */
export interface Observer {
  readonly listener: TaskEventListener;
  readonly threadId: string | undefined;
  readonly taskId: TaskId | undefined;
}

/**
 * The observers of task events. Observing never takes an event from an inbox: observers see a
 * copy of the stream (custom events, then the one terminal event, per task in order).
 */
export class EventObservers {
  readonly #observers = new Set<Observer>();

  /** The registrations, which the emit path reads directly (`EmitRoute.observers`). */
  get set(): ReadonlySet<Observer> {
    return this.#observers;
  }

  get size(): number {
    return this.#observers.size;
  }

  add(listener: TaskEventListener, filter: TaskEventFilter = {}): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`Expected \`listener\` to be a function, got ${typeof listener}`);
    }
    if (filter === null || typeof filter !== 'object') {
      throw new TypeError(
        `Expected \`filter\` to be an object, got ${filter === null ? 'null' : typeof filter}`,
      );
    }
    const { threadId, taskId } = filter;
    if (threadId !== undefined && typeof threadId !== 'string') {
      throw new TypeError(`Expected \`filter.threadId\` to be a string, got ${typeof threadId}`);
    }
    if (taskId !== undefined && typeof taskId !== 'string') {
      throw new TypeError(`Expected \`filter.taskId\` to be a string, got ${typeof taskId}`);
    }
    const observer: Observer = { listener, threadId, taskId };
    this.#observers.add(observer);
    return () => {
      this.#observers.delete(observer);
    };
  }

  emit(event: TaskEvent, threadId: string): void {
    notifyObservers(this.#observers, event, threadId);
  }
}

/**
 * Shows `event` to each observer whose filter takes it; an observer that throws is reported as a
 * process warning and does not stop the others.
 *
 * @example
 * notifyObservers(new Set(), { kind: 'custom', task_id: 'bg_1', event_type: 'x', payload: null }, 't');
 */
export function notifyObservers(observers: ReadonlySet<Observer>, event: TaskEvent, threadId: string): void {
  for (const o of observers) {
    if (o.threadId !== undefined && o.threadId !== threadId) continue;
    if (o.taskId !== undefined && o.taskId !== event.task_id) continue;
    try {
      o.listener(event, threadId);
    } catch (error) {
      // An observer's bug must not break a task's lifecycle; surface it without throwing here.
      process.emitWarning(`awaken-tasks: an onEvent listener threw: ${String(error)}`);
    }
  }
}
