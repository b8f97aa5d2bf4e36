import { AsyncLocalStorage } from 'node:async_hooks';
import type { TaskId, TaskParentContext } from '../wire/types.js';
import type { InboxSender } from '../inbox/types.js';

/** The tool-call lineage that tasks spawned inside a tool inherit. */
export interface ToolLineage {
  run_id?: string;
  call_id?: string;
  agent_id?: string;
  /**
   * Where tasks spawned in this scope report, unless their spawn names an inbox. Set by
   * `runAgentLoop` so tools need not thread an inbox through.
   */
  inbox?: InboxSender;
}

/**
 * What a running body's scope carries: its task id and the parent context its record names (a
 * task's own summary fits, so entering a body allocates nothing).
 */
export interface TaskScope {
  readonly task_id: TaskId;
  readonly parent_context?: TaskParentContext;
}

// One storage per process (Symbol.for), so two copies of the package still see each other's scopes.
// The task key is versioned: its value was a bare id before it carried the task's run.
const TOOL_KEY = Symbol.for('awaken-tasks.lineage.tool');
const TASK_KEY = Symbol.for('awaken-tasks.lineage.task.v2');
const g = globalThis as Record<symbol, unknown>;
const toolStorage = (g[TOOL_KEY] ??= new AsyncLocalStorage<ToolLineage>()) as AsyncLocalStorage<ToolLineage>;
const taskStorage = (g[TASK_KEY] ??= new AsyncLocalStorage<TaskScope>()) as AsyncLocalStorage<TaskScope>;

/**
 * Runs `fn` with an ambient tool lineage: tasks spawned inside it (across `await`) get
 * `run_id`, `call_id` and `agent_id` in their parent context unless the spawn sets them.
 *
 * @example
 * await withToolLineage({ run_id: 'run-1', call_id: 'call-1' }, () => supervisor.spawn(opts, body));
 */
export function withToolLineage<T>(lineage: ToolLineage, fn: () => T): T {
  return toolStorage.run(lineage, fn);
}

/**
 * The ambient tool lineage, if any.
 *
 * @example
 * withToolLineage({ run_id: 'run-1' }, () => currentToolLineage()?.run_id); // 'run-1'
 */
export function currentToolLineage(): ToolLineage | undefined {
  return toolStorage.getStore();
}

/**
 * The id of the task whose body is running, across supervisors and `await`s.
 *
 * @example
 * supervisor.spawn(opts, async () => currentTaskId()); // resolves to that task's id
 */
export function currentTaskId(): TaskId | undefined {
  return taskStorage.getStore()?.task_id;
}

/**
 * The scope of the task whose body is running (its id and parent context), across supervisors
 * and `await`s. Internal: spawns read the enclosing task's `run_id` from it.
 */
export function currentTaskScope(): TaskScope | undefined {
  return taskStorage.getStore();
}

/**
 * Runs `fn` as the body of the task `task` describes: sets the ambient task and clears the
 * spawner's tool lineage (a body outlives the tool call that spawned it; its own spawns are linked
 * by task id and inherit its run id, as upstream's task-locals do).
 */
export function runAsTask<A, T>(task: TaskScope, fn: (arg: A) => T, arg: A): T {
  return taskStorage.run(task, callOutsideTool<A, T>, fn, arg);
}

/** Calls `fn(arg)` without the ambient tool lineage (module-level: no closure per body). */
function callOutsideTool<A, T>(fn: (arg: A) => T, arg: A): T {
  return toolStorage.getStore() === undefined ? fn(arg) : toolStorage.exit(fn, arg);
}
