import { INPUT_REQUIRED_EVENT } from '../supervisor/input.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type {
  Json,
  TaskId,
  TaskPhase,
  TaskStatus,
  TaskStopReason,
  TaskSummary,
  TaskUsage,
} from '../wire/types.js';

/**
 * One background task as a UI card (snake_case, a wire object): the `data` of the task's `data-*`
 * UI message part in `awaken-tasks/ai-sdk` (`streamUntilIdle` rewrites the same part, keyed by
 * `task_id`, on every change, so `useChat` shows one card per task that updates in place), and
 * the `content` of the task's activity in `awaken-tasks/ag-ui`.
 *
 * @example
 * const card: TaskCard = {
 *   task_id: 'bg_0', task_type: 'crawl', description: 'crawl example.com', status: 'running',
 *   events: 2, progress: { event_type: 'progress', payload: { pages: 2 } }, created_at_ms: 0,
 * };
 */
export type TaskCard = {
  task_id: TaskId;
  task_type: string;
  description: string;
  status: TaskStatus;
  /** The task's latest custom event (`ctx.emit`), absent while it has emitted none. */
  progress?: { event_type: string; payload: Json };
  /** Custom events the task emitted while the stream watched it. */
  events: number;
  /** Present once the task completed. */
  result?: Json;
  /** Present once the task failed. */
  error?: string;
  created_at_ms: number;
  completed_at_ms?: number;
  /** The task that started this one, if any. */
  parent_task_id?: TaskId;
  /** While `running` but not running its body: `queued`, `waiting` (for input) or `retrying`. */
  phase?: TaskPhase;
  /** What it asked for with `ctx.requestInput`, while it waits for the answer. */
  input_request?: Json;
  /** What it reported with `ctx.reportUsage`, summed. */
  usage?: TaskUsage;
  /** Why it was stopped, once it ended `cancelled`. */
  stop_reason?: TaskStopReason;
};

/**
 * The AI SDK UI data parts `streamUntilIdle` writes, for typing `useChat`: with the default part name
 * `'task'`, a message's parts include `{ type: 'data-task', id: task_id, data: TaskCard }`.
 *
 * @example
 * import type { UIMessage } from 'ai';
 * type ChatMessage = UIMessage<unknown, TaskCardDataParts>;
 */
export type TaskCardDataParts = { task: TaskCard };

/** The card of `summary`, with its latest custom event and how many the stream saw. */
export function cardOf(summary: TaskSummary, progress: TaskCard['progress'], events: number): TaskCard {
  const card: TaskCard = {
    task_id: summary.task_id,
    task_type: summary.task_type,
    description: summary.description,
    status: summary.status,
    events,
    created_at_ms: summary.created_at_ms,
  };
  if (progress !== undefined) card.progress = progress;
  if (summary.result !== undefined) card.result = summary.result;
  if (summary.error !== undefined) card.error = summary.error;
  if (summary.completed_at_ms !== undefined) card.completed_at_ms = summary.completed_at_ms;
  const parent = summary.parent_context?.task_id;
  if (parent !== undefined) card.parent_task_id = parent;
  if (summary.phase !== undefined) card.phase = summary.phase;
  if (summary.input_request !== undefined) card.input_request = summary.input_request;
  if (summary.usage !== undefined) card.usage = summary.usage;
  if (summary.stop_reason !== undefined) card.stop_reason = summary.stop_reason;
  return card;
}

interface Tracked {
  summary: TaskSummary;
  progress: TaskCard['progress'];
  events: number;
}

/**
 * Keeps one card per task of a thread and hands each change to `write`: the thread's running
 * tasks at `start()`, then every task spawned on it, each updated on its status changes and custom
 * events. Counts the thread's terminal and `input_required` events for the waiting loop (`ended`).
 */
export class TaskCardWatch {
  readonly #supervisor: TaskSupervisor;
  readonly #threadId: string;
  readonly #write: (card: TaskCard) => void;
  readonly #tracked = new Map<TaskId, Tracked>();
  readonly #stops: Array<() => void> = [];
  readonly #wakers = new Set<() => void>();
  /** Terminal and `input_required` events of the thread's tasks since the last `takeEnded()`. */
  #ended = 0;

  constructor(supervisor: TaskSupervisor, threadId: string, write: (card: TaskCard) => void) {
    this.#supervisor = supervisor;
    this.#threadId = threadId;
    this.#write = write;
  }

  start(): void {
    this.#stops.push(
      this.#supervisor.subscribe((change) => {
        if (change.thread_id !== this.#threadId) return;
        const t = this.#tracked.get(change.summary.task_id);
        if (t === undefined) this.#track(change.summary);
        else {
          t.summary = change.summary;
          this.#emit(t);
        }
      }),
      this.#supervisor.onEvent(
        (event) => {
          const t = this.#tracked.get(event.task_id);
          if (event.kind === 'custom') {
            if (t !== undefined) {
              t.progress = { event_type: event.event_type, payload: event.payload };
              t.events++;
              this.#emit(t);
            }
            // A task asking for input waits for an answer: like an end, it wakes the waiting loop.
            if (event.event_type !== INPUT_REQUIRED_EVENT) return;
          }
          this.#ended++;
          for (const wake of this.#wakers) wake();
        },
        { threadId: this.#threadId },
      ),
    );
    for (const summary of this.#supervisor.list(this.#threadId)) {
      if (summary.status === 'running') this.#track(summary);
    }
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  /** How many of the thread's tasks ended since the last call, and resets the count. */
  takeEnded(): number {
    const n = this.#ended;
    this.#ended = 0;
    return n;
  }

  /** Calls `wake` on each terminal event of the thread until the returned function runs. */
  onEnded(wake: () => void): () => void {
    this.#wakers.add(wake);
    return () => this.#wakers.delete(wake);
  }

  /** The tracked tasks still running. */
  running(): TaskId[] {
    return [...this.#tracked.values()]
      .filter((t) => t.summary.status === 'running')
      .map((t) => t.summary.task_id);
  }

  #track(summary: TaskSummary): void {
    const latest = this.#supervisor.latestEvent(summary.task_id);
    const t: Tracked = {
      summary,
      progress: latest === undefined ? undefined : { event_type: latest.event_type, payload: latest.payload },
      events: 0,
    };
    this.#tracked.set(summary.task_id, t);
    this.#emit(t);
  }

  #emit(t: Tracked): void {
    this.#write(cardOf(t.summary, t.progress, t.events));
  }
}
