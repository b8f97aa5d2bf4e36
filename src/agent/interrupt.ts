import type { TaskSupervisor } from '../supervisor/types.js';
import type { TaskId } from '../wire/types.js';
import { cancelRunForThread } from './resolve.js';

/**
 * What aborting a run does to the background tasks it started: `cancel` them (with their
 * descendants, and fence the run id so a late spawn into it is refused), or `spare` them (they
 * keep running and report to the thread as usual).
 *
 * @example
 * const mode: RunAbortTasks = 'spare';
 */
export type RunAbortTasks = 'cancel' | 'spare';

/**
 * What an aborted run did to its tasks: the mode, the tasks it stopped (asked to cancel: running
 * or already cancelling when the run was aborted) and the thread's tasks it left running.
 *
 * @example
 * const i: RunInterrupt = { tasks: 'cancel', stopped: ['bg_0'], left_running: ['bg_3'] };
 */
export interface RunInterrupt {
  tasks: RunAbortTasks;
  /** The run's tasks this abort stopped: its tasks in the thread and its root tasks elsewhere. */
  stopped: TaskId[];
  /** The thread's tasks still running after the abort (the run's own ones when spared). */
  left_running: TaskId[];
}

/**
 * Applies `mode` to run `runId` of thread `threadId` and says what it did. `cancel` is
 * `cancelRunForThread` (descendants in other threads are cancelled along, through the task tree,
 * but listed only when they are roots of the run).
 *
 * @example
 * interruptRun(supervisor, 'thread-1', 'run-1', 'spare'); // { tasks: 'spare', stopped: [], left_running: ['bg_0'] }
 */
export function interruptRun(
  supervisor: TaskSupervisor,
  threadId: string,
  runId: string,
  mode: RunAbortTasks,
): RunInterrupt {
  const mine = new Set<TaskId>();
  for (const s of supervisor.list(threadId))
    if (s.status === 'running' && s.parent_context?.run_id === runId) mine.add(s.task_id);
  for (const s of supervisor.runningRootsOfRun(runId))
    if (supervisor.ownerThreadOf(s.task_id) === threadId) mine.add(s.task_id);
  if (mode === 'cancel') cancelRunForThread(supervisor, threadId, runId);
  const stopped = mode === 'cancel' ? [...mine] : [];
  const left: TaskId[] = [];
  for (const s of supervisor.list(threadId))
    if (s.status === 'running' && !(mode === 'cancel' && mine.has(s.task_id))) left.push(s.task_id);
  return { tasks: mode, stopped, left_running: left };
}
