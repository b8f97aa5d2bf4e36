import type { TaskSupervisor } from '../supervisor/types.js';
import type { TaskSummary } from '../wire/types.js';

export { type UndeliverableReason, undeliverableDetail } from '../supervisor/undeliverable.js';

/**
 * The latest task of `threadId` addressed as `name` (its id, else its spawn name) that is no longer
 * running, or `undefined`. Linear in the thread's held tasks: only asked once no running task matched.
 *
 * @example
 * findFinishedInThread(supervisor, 'thread-1', 'researcher')?.status; // 'completed'
 */
export function findFinishedInThread(
  supervisor: TaskSupervisor,
  threadId: string,
  name: string,
): TaskSummary | undefined {
  const direct = supervisor.get(name);
  if (direct !== undefined && direct.status !== 'running' && supervisor.ownerThreadOf(name) === threadId)
    return direct;
  const all = supervisor.list(threadId);
  for (let i = all.length - 1; i >= 0; i--) {
    const s = all[i]!;
    if (s.status !== 'running' && supervisor.taskName(s.task_id) === name) return s;
  }
  return undefined;
}
