/**
 * Live-state lookups for the tools: they read the supervisor's live state, never a snapshot. The supervisor's summaries carry no `name`, so a lookup by name reads
 * `persistedSnapshot()` (O(all tasks)) — and only when the id lookup found nothing. Status is always
 * taken from the live summary.
 */
import type { TaskSupervisor } from '../supervisor/types.js';
import type { PersistedTaskMeta, TaskId, TaskSummary } from '../wire/types.js';

function isLive(s: TaskSummary | undefined): s is TaskSummary {
  return s !== undefined && s.status === 'running';
}

function byName(
  supervisor: TaskSupervisor,
  name: string,
  accept: (meta: PersistedTaskMeta) => boolean,
): PersistedTaskMeta[] {
  return Object.values(supervisor.persistedSnapshot()).filter((m) => m.name === name && accept(m));
}

/**
 * A non-terminal direct child of task `parentId` whose id, else whose name, is `name`. Children in
 * any owner thread count: in Task scope the task hierarchy decides, as in the Rust runtime.
 *
 * @example
 * findLiveChildOfTask(supervisor, 'bg_0', 'researcher'); // 'bg_3' or undefined
 */
export function findLiveChildOfTask(
  supervisor: TaskSupervisor,
  parentId: TaskId,
  name: string,
): TaskId | undefined {
  const direct = supervisor.get(name);
  if (isLive(direct) && direct.parent_context?.task_id === parentId) return direct.task_id;
  for (const meta of byName(supervisor, name, (m) => m.parent_context.task_id === parentId)) {
    if (isLive(supervisor.get(meta.task_id))) return meta.task_id;
  }
  return undefined;
}

/**
 * A non-terminal root task of run `runId` (`parent_context.run_id === runId`, no parent task)
 * owned by `threadId`, whose id, else whose name, is `name`.
 *
 * @example
 * findLiveChildOfRun(supervisor, 'thread-1', 'run-1', 'crawler'); // 'bg_1' or undefined
 */
export function findLiveChildOfRun(
  supervisor: TaskSupervisor,
  threadId: string,
  runId: string,
  name: string,
): TaskId | undefined {
  const roots = supervisor
    .list(threadId)
    .filter((s) => isLive(s) && s.parent_context?.run_id === runId && s.parent_context.task_id === undefined);
  const direct = roots.find((s) => s.task_id === name);
  if (direct !== undefined) return direct.task_id;
  if (roots.length === 0) return undefined;
  const ids = new Set(roots.map((s) => s.task_id));
  return byName(supervisor, name, (m) => m.owner_thread_id === threadId && ids.has(m.task_id))[0]?.task_id;
}

/**
 * A non-terminal task owned by `threadId` whose id, else whose name, is `name` (send_message's child route).
 *
 * @example
 * findLiveTaskOfThread(supervisor, 'thread-1', 'researcher'); // 'bg_0' or undefined
 */
export function findLiveTaskOfThread(
  supervisor: TaskSupervisor,
  threadId: string,
  name: string,
): TaskId | undefined {
  const live = supervisor.list(threadId).filter(isLive);
  const direct = live.find((s) => s.task_id === name);
  if (direct !== undefined) return direct.task_id;
  if (live.length === 0) return undefined;
  const ids = new Set(live.map((s) => s.task_id));
  return byName(supervisor, name, (m) => m.owner_thread_id === threadId && ids.has(m.task_id))[0]?.task_id;
}

/**
 * Cancels run `runId` for a caller on `threadId`: when every non-terminal root of the run is owned
 * by that thread, `cancelDescendantsForRun` (which also fences late spawns into the run); otherwise
 * only that thread's roots, each with `cancelTree`, so one thread cannot cancel another's tasks by
 * reusing a run id. Returns how many tasks were signalled.
 *
 * @example
 * cancelRunForThread(supervisor, 'thread-1', 'run-1'); // 2
 */
export function cancelRunForThread(supervisor: TaskSupervisor, threadId: string, runId: string): number {
  const foreign = Object.values(supervisor.persistedSnapshot()).some(
    (m) =>
      m.owner_thread_id !== threadId &&
      m.parent_context.run_id === runId &&
      m.parent_context.task_id === undefined &&
      isLive(supervisor.get(m.task_id)),
  );
  if (!foreign) return supervisor.cancelDescendantsForRun(runId);
  let count = 0;
  for (const s of supervisor.list(threadId)) {
    if (isLive(s) && s.parent_context?.run_id === runId && s.parent_context.task_id === undefined) {
      count += supervisor.cancelTree(s.task_id);
    }
  }
  return count;
}
