import type { ActivityDeltaEvent, ActivitySnapshotEvent, JsonPatchOperation } from '@ag-ui/core';
import type { TaskSupervisor } from '../../supervisor/types.js';
import type { TaskId } from '../../wire/types.js';
import { type TaskCard, TaskCardWatch } from '../taskCards.js';
import { agUi } from './peer.js';

/** The AG-UI events a task's activity is made of: one snapshot, then deltas. */
export type TaskActivityEvent = ActivitySnapshotEvent | ActivityDeltaEvent;

/** What `TaskActivityMapper` takes. */
export interface TaskActivityOptions {
  /** The activity type AG-UI front ends pick a renderer by. Default `'background_task'`. */
  activityType?: string;
  /** The activity message id of a task. Default `task:<task_id>`. */
  messageId?: (taskId: TaskId) => string;
  /** The events' `timestamp` (ms). Default `Date.now`. */
  now?: () => number;
}

/**
 * Maps task cards (the state of one background task, `TaskCard`) to AG-UI activity events: the
 * first card of a task becomes an `ACTIVITY_SNAPSHOT` whose `content` is the card, every later
 * one an `ACTIVITY_DELTA` whose JSON Patch changes exactly the card's fields that changed
 * (`add` for a new or changed field, `remove` for a field that went away), or nothing when
 * nothing changed. One activity message per task (`messageId`), so a CopilotKit-style front end
 * renders one live widget per task.
 *
 * @example
 * const mapper = new TaskActivityMapper({ activityType: 'research' });
 * mapper.map(card);                           // { type: 'ACTIVITY_SNAPSHOT', messageId: 'task:bg_0', content: card, … }
 * mapper.map({ ...card, status: 'completed' }); // { type: 'ACTIVITY_DELTA', patch: [{ op: 'add', path: '/status', value: 'completed' }], … }
 */
export class TaskActivityMapper {
  readonly #activityType: string;
  readonly #messageId: (taskId: TaskId) => string;
  readonly #now: () => number;
  readonly #last = new Map<TaskId, TaskCard>();

  constructor(options: TaskActivityOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        `Expected \`options\` to be an object, got ${options === null ? 'null' : typeof options}`,
      );
    }
    const {
      activityType = 'background_task',
      messageId = (id: TaskId) => `task:${id}`,
      now = Date.now,
    } = options;
    if (typeof activityType !== 'string' || activityType === '') {
      throw new TypeError(
        `Expected \`options.activityType\` to be a non-empty string, got ${JSON.stringify(activityType)}`,
      );
    }
    if (typeof messageId !== 'function') {
      throw new TypeError(`Expected \`options.messageId\` to be a function, got ${typeof messageId}`);
    }
    if (typeof now !== 'function') {
      throw new TypeError(`Expected \`options.now\` to be a function, got ${typeof now}`);
    }
    this.#activityType = activityType;
    this.#messageId = messageId;
    this.#now = now;
  }

  /**
   * The AG-UI event for `card`: a snapshot for a task not seen before, else a delta of what changed
   * since its last card (`undefined` when nothing did).
   *
   * @example
   * const event = mapper.map(card);
   * if (event !== undefined) subscriber.next(event);
   */
  map(card: TaskCard): TaskActivityEvent | undefined {
    const last = this.#last.get(card.task_id);
    this.#last.set(card.task_id, card);
    const base = {
      messageId: this.#messageId(card.task_id),
      activityType: this.#activityType,
      timestamp: this.#now(),
    };
    if (last === undefined) {
      return { type: agUi.EventType.ACTIVITY_SNAPSHOT, ...base, content: { ...card }, replace: true };
    }
    const patch = diff(last, card);
    return patch.length === 0 ? undefined : { type: agUi.EventType.ACTIVITY_DELTA, ...base, patch };
  }

  /**
   * Forgets a task, so its next card is a snapshot again (e.g. for a client that reconnected).
   *
   * @example
   * mapper.forget('bg_0');
   */
  forget(taskId: TaskId): void {
    this.#last.delete(taskId);
  }
}

/** The JSON Patch from one card to the next, top-level fields only (a card is flat but for values). */
function diff(from: TaskCard, to: TaskCard): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  const a = from as Record<string, unknown>;
  const b = to as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!(key in a) || JSON.stringify(a[key]) !== JSON.stringify(b[key])) {
      ops.push({ op: 'add', path: `/${pointerToken(key)}`, value: b[key] });
    }
  }
  for (const key of Object.keys(a)) {
    if (!(key in b)) ops.push({ op: 'remove', path: `/${pointerToken(key)}` });
  }
  return ops;
}

function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** What `forwardTaskActivities` takes. */
export interface ForwardTaskActivitiesOptions extends TaskActivityOptions {
  /** The thread whose tasks to forward. */
  threadId: string;
  /** Receives each AG-UI event, e.g. `(e) => subscriber.next(e)` in an AG-UI agent's `run`. */
  emit: (event: TaskActivityEvent) => void;
}

/**
 * Forwards a thread's background tasks to an AG-UI event stream as activities, live: a snapshot
 * for each task running now and each task spawned later, then a delta on each status change and
 * each custom event (`progress`, `events`, then `status`, `result`/`error`, `completed_at_ms`).
 * Returns the function that stops forwarding. An `emit` that throws is reported as a process
 * warning and never disturbs a task.
 *
 * @example
 * // In an AG-UI agent's run(input): Observable<BaseEvent>
 * const stop = forwardTaskActivities(supervisor, { threadId: input.threadId, emit: (e) => subscriber.next(e) });
 * // … when the run ends: stop();
 */
export function forwardTaskActivities(
  supervisor: TaskSupervisor,
  options: ForwardTaskActivitiesOptions,
): () => void {
  if (supervisor === null || typeof supervisor !== 'object' || typeof supervisor.subscribe !== 'function') {
    throw new TypeError(
      `Expected \`supervisor\` to be a TaskSupervisor, got ${supervisor === null ? 'null' : typeof supervisor}`,
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `Expected \`options\` to be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const { threadId, emit, ...rest } = options;
  if (typeof threadId !== 'string') {
    throw new TypeError(`Expected \`options.threadId\` to be a string, got ${typeof threadId}`);
  }
  if (typeof emit !== 'function') {
    throw new TypeError(`Expected \`options.emit\` to be a function, got ${typeof emit}`);
  }
  const mapper = new TaskActivityMapper(rest);
  const watch = new TaskCardWatch(supervisor, threadId, (card) => {
    const event = mapper.map(card);
    if (event === undefined) return;
    try {
      emit(event);
    } catch (error) {
      process.emitWarning(`awaken-tasks: an AG-UI emit threw: ${String(error)}`);
    }
  });
  watch.start();
  return () => watch.stop();
}
