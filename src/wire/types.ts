/**
 * (Object types are `type` aliases, not interfaces, so they are assignable to `Json`.)
 * Wire types: the JSON shapes the Rust `awaken-runtime` also reads and writes.
 * Field names are snake_case on purpose; optional fields are omitted, never `null`.
 */

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A task id, `bg_<n>` when minted by a supervisor. */
export type TaskId = string;

/** Lifecycle status of a task; every status but `running` is terminal. */
export type TaskStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** The statuses, in lifecycle order. */
export const TASK_STATUSES: readonly TaskStatus[] = Object.freeze([
  'running',
  'completed',
  'failed',
  'cancelled',
]);

/**
 * Whether a status is terminal (`completed`, `failed` or `cancelled`).
 *
 * @example
 * isTerminal('running'); // false
 */
export function isTerminal(status: TaskStatus): boolean {
  return status !== 'running';
}

/** Where a task came from: its parent task, and the run, tool call and agent that spawned it. */
export type TaskParentContext = {
  task_id?: string;
  run_id?: string;
  call_id?: string;
  agent_id?: string;
};

/**
 * Whether no lineage field is set (`undefined` members count as absent).
 *
 * @example
 * isEmptyParentContext({ run_id: undefined }); // true
 */
export function isEmptyParentContext(c: TaskParentContext): boolean {
  return (
    c.task_id === undefined && c.run_id === undefined && c.call_id === undefined && c.agent_id === undefined
  );
}

/** A task finished with a result (`result` always present, possibly `null`). */
export type CompletedTaskEvent = {
  kind: 'completed';
  task_id: TaskId;
  result: Json;
};
/** A task failed with an error message. */
export type FailedTaskEvent = {
  kind: 'failed';
  task_id: TaskId;
  error: string;
};
/** A task was cancelled. */
export type CancelledTaskEvent = {
  kind: 'cancelled';
  task_id: TaskId;
};
/** A task's own event, sent with `ctx.emit`. */
export type CustomTaskEvent = {
  kind: 'custom';
  task_id: TaskId;
  event_type: string;
  payload: Json;
};
/** The events a task reports to its inbox: custom ones, then exactly one terminal one. */
export type TaskEvent = CompletedTaskEvent | FailedTaskEvent | CancelledTaskEvent | CustomTaskEvent;
/** A terminal task event. */
export type TerminalTaskEvent = CompletedTaskEvent | FailedTaskEvent | CancelledTaskEvent;

/**
 * What a durable task's summary and record add, all optional and absent on plain tasks. While the
 * task waits between attempts or for its start it is `running`, with `phase` saying why.
 */
export type DurableSummaryFields = {
  /** Why a `running` task runs no body now: waiting for its start (`queued`) or its next attempt (`retrying`). */
  phase?: TaskPhase;
  /** Attempts claimed so far (1-based once the first started). */
  attempt?: number;
  max_attempts?: number;
  /** When the next attempt may start (ms since the epoch), while `retrying` or `queued`. */
  next_attempt_at_ms?: number;
  /** The latest failed attempt's error. */
  last_error?: string;
  /** Every failed attempt's error, in order. */
  attempt_errors?: string[];
  idempotency_key?: string;
};

/** What `get` and `list` return. No `name`, no `owner_thread_id`. */
export type TaskSummary = DurableSummaryFields & {
  task_id: TaskId;
  task_type: string;
  description: string;
  status: TaskStatus;
  error?: string;
  result?: Json;
  created_at_ms: number;
  completed_at_ms?: number;
  /** Omitted when empty. */
  parent_context?: TaskParentContext;
  /** A `running` task that is not running its body: waiting for a slot, or for input. Absent otherwise. */
  phase?: TaskPhase;
  /** What the task reported with `ctx.reportUsage`, summed. Absent until it reports. */
  usage?: TaskUsage;
  /** The limits it was spawned with (`budget`). Absent without one. */
  budget?: TaskUsage;
  /** Why it was asked to stop, on a task that ended `cancelled` (or was orphaned). */
  stop_reason?: TaskStopReason;
  /** What it asked for in `ctx.requestInput`, while it waits for the answer. */
  input_request?: Json;
};

/** What a `running` task is doing besides running its body (`phase` on the summary). */
export type TaskPhase = 'queued' | 'waiting' | 'retrying';

/** Usage, as reported by a task and summed (also the shape of a budget). Each field is optional. */
export type TaskUsage = {
  tokens?: number;
  cost_usd?: number;
  tool_calls?: number;
};

/** Why a task was stopped: by a caller, its parent, a run cancel, its deadline, its budget, a restart, `stop()`. */
export type TaskStopReason = 'user' | 'parent' | 'run' | 'timeout' | 'budget' | 'orphaned' | 'shutdown';

/** What stores hold: one record per task. */
export type PersistedTaskMeta = DurableSummaryFields & {
  task_id: TaskId;
  owner_thread_id: string;
  task_type: string;
  name?: string;
  description: string;
  status: TaskStatus;
  error?: string;
  result?: Json;
  created_at_ms: number;
  completed_at_ms?: number;
  /** Always present, possibly `{}`. */
  parent_context: TaskParentContext;
  /** Why it was stopped (see `TaskSummary.stop_reason`). */
  stop_reason?: TaskStopReason;
  /** Its reported usage, as of this record (see `TaskSummary.usage`). */
  usage?: TaskUsage;
  /** Its budget (see `TaskSummary.budget`). */
  budget?: TaskUsage;
  /** What it asked for while it waits for input (`phase` is then `waiting`; see `TaskSummary.input_request`). */
  input_request?: Json;
};
