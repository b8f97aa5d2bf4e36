/**
 * Live-state lookups for the tools: the supervisor's live state, never a snapshot. Every lookup is
 * an index read (`get`, `ownerThreadOf`, `findRunningByName`, `findRunningChildByName`,
 * `runningRootsOfRun`), so its cost does not grow with the number of tasks. Status is always taken from the live summary.
 */
import type { TaskSupervisor } from '../supervisor/types.js';
import type { TaskId, TaskSummary } from '../wire/types.js';

function isLive(s: TaskSummary | undefined): s is TaskSummary {
  return s !== undefined && s.status === 'running';
}

/**
 * The running task of `threadId` whose id, else whose spawn name, is `idOrName`; `undefined` when
 * there is none. The building block of the tools' name lookups: O(1) at any number of tasks.
 *
 * @example
 * findRunningInThread(supervisor, 'thread-1', 'bg_0');       // the summary of bg_0, if t1 owns it
 * findRunningInThread(supervisor, 'thread-1', 'researcher'); // the running task named so, if any
 */
export function findRunningInThread(
  supervisor: TaskSupervisor,
  threadId: string,
  idOrName: string,
): TaskSummary | undefined {
  return findRunningWhere(supervisor, threadId, idOrName, () => true);
}

/** The running task of `threadId` addressed as `idOrName` (its id first, then its name) that `accept` takes. */
function findRunningWhere(
  supervisor: TaskSupervisor,
  threadId: string,
  idOrName: string,
  accept: (s: TaskSummary) => boolean,
): TaskSummary | undefined {
  const direct = supervisor.get(idOrName);
  if (isLive(direct) && accept(direct) && supervisor.ownerThreadOf(idOrName) === threadId) return direct;
  const named = supervisor.findRunningByName(threadId, idOrName);
  return isLive(named) && accept(named) ? named : undefined;
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
  const named = supervisor.findRunningChildByName(parentId, name);
  return isLive(named) ? named.task_id : undefined;
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
  const isRoot = (s: TaskSummary): boolean =>
    s.parent_context?.run_id === runId && s.parent_context.task_id === undefined;
  return findRunningWhere(supervisor, threadId, name, isRoot)?.task_id;
}

/**
 * A non-terminal task owned by `threadId` whose id, else whose name, is `name`; with `rootsOnly`,
 * only tasks without a parent task count.
 *
 * @example
 * findLiveTaskOfThread(supervisor, 'thread-1', 'researcher'); // 'bg_0' or undefined
 */
export function findLiveTaskOfThread(
  supervisor: TaskSupervisor,
  threadId: string,
  name: string,
  rootsOnly = false,
): TaskId | undefined {
  const found = findRunningInThread(supervisor, threadId, name);
  if (found === undefined || (rootsOnly && found.parent_context?.task_id !== undefined)) return undefined;
  return found.task_id;
}

/**
 * The live task a tool call on `threadId` addresses as `name` (a task id, else a task name), the
 * one resolution `cancel_task` (child, Run scope) and `send_message` (child) share. The current
 * run's root tasks come first; then the thread's live tasks from earlier runs, so a chat app that
 * starts a new run per user message can still reach a task an earlier turn started. Another
 * thread's tasks are never candidates. With `rootsOnly` (what `cancel_task` asks for) a task that
 * has a parent task is not a candidate: it is that task's child, not the run's.
 *
 * @example
 * // turn 1 (run-1) spawned 'research'; turn 3 (run-3) finds it:
 * findLiveTaskForCaller(supervisor, { threadId: 'thread-1', runId: 'run-3', name: 'research', rootsOnly: true }); // 'bg_0'
 */
export function findLiveTaskForCaller(
  supervisor: TaskSupervisor,
  query: { threadId: string; runId?: string | undefined; name: string; rootsOnly?: boolean },
): TaskId | undefined {
  const { threadId, runId, name, rootsOnly = false } = query;
  if (runId !== undefined && runId.trim() !== '') {
    const inRun = findLiveChildOfRun(supervisor, threadId, runId, name);
    if (inRun !== undefined) return inRun;
  }
  return findLiveTaskOfThread(supervisor, threadId, name, rootsOnly);
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
  const roots = supervisor.runningRootsOfRun(runId);
  const mine = roots.filter((s) => supervisor.ownerThreadOf(s.task_id) === threadId);
  if (mine.length === roots.length) return supervisor.cancelDescendantsForRun(runId);
  let count = 0;
  for (const s of mine) count += supervisor.cancelTree(s.task_id);
  return count;
}
