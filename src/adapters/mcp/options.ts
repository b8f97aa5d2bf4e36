import type { TaskStore } from '../../stores/types.js';
import type { TaskSupervisor } from '../../supervisor/types.js';
import type { CustomTaskEvent } from '../../wire/types.js';

/** What `createSupervisedTaskStore` takes; every field is optional. */
export interface SupervisedTaskStoreOptions {
  /** Run tasks on this supervisor. Default: a new one on `store`. */
  supervisor?: TaskSupervisor;
  /** Where records live (give it with `supervisor` too, so expired rows can be deleted). Default: SQLite at `path`. */
  store?: TaskStore;
  /** The SQLite file used when neither `supervisor` nor `store` is given. Default `mcp-tasks.db`. */
  path?: string;
  /** The supervisor thread that owns the MCP tasks. Default `mcp`. */
  threadId?: string;
  /** The poll interval suggested to clients, in ms. Default 1 000. */
  pollIntervalMs?: number;
  /** TTL of a task whose request named none, and of tasks restored after a restart. Default 1 h. */
  defaultTtlMs?: number;
  /** The longest TTL granted (also for `ttl: null`). Default 24 h. */
  maxTtlMs?: number;
  /** How long `tasks/cancel` waits for the body to stop before answering. Default 5 000. */
  cancelWaitMs?: number;
  /** How often expired tasks are pruned; 0 disables the timer (call `sweep()`). Default 60 000. */
  sweepIntervalMs?: number;
  /** The clock. Default `Date.now`. */
  now?: () => number;
}

/** What `startTask` takes besides the body. */
export interface StartTaskOptions {
  /** Shown as the task's description (e.g. the tool name). */
  description: string;
  /** The TTL the client asked for (`undefined`: the default; `null`: the longest granted). */
  ttl?: number | null | undefined;
  sessionId?: string | undefined;
  /** Called with each custom event the task emits, in order. */
  onEvent?: (event: CustomTaskEvent) => void;
  /** Called once the task is terminal (its final status is what `getTask` shows). */
  onEnd?: (taskId: string) => void;
}
