import type { StopReason } from '../../machines/task.machine.js';
import type { TaskId } from '../wire/types.js';
import type { TaskEntry } from './entry.js';
import type { Registry } from './registry.js';

/** Requests cancellation of one entry; `true` if it was live and not terminal. */
export type RequestCancel = (entry: TaskEntry, reason?: StopReason) => boolean;

/**
 * Cancels `rootId` and every descendant by `parent_context.task_id`, any owner thread, each id
 * visited once (cycle-safe). Linear in the subtree: it walks the children index, never all tasks.
 * The walk goes by id, so it passes through pruned tasks (their records still say whose child
 * is whose) and starts even from an id this supervisor no longer holds; an id that nothing names
 * as its parent and that is not held gives 0. Returns how many live non-terminal tasks were signalled.
 */
export function cancelTree(
  registry: Registry,
  rootId: TaskId,
  request: RequestCancel,
  rootReason: StopReason = 'user',
): number {
  const seen = new Set<TaskId>([rootId]);
  const stack: TaskId[] = [rootId];
  let count = 0;
  while (stack.length > 0) {
    const id = stack.pop()!;
    const entry = registry.byId.get(id);
    if (entry !== undefined && request(entry, id === rootId ? rootReason : 'parent')) count++;
    for (const child of registry.children(id)) {
      if (!seen.has(child)) {
        seen.add(child);
        stack.push(child);
      }
    }
  }
  return count;
}

/** Cancels the live tasks owned by `threadId` (no cascade into other threads). */
export function cancelAll(registry: Registry, threadId: string, request: RequestCancel): number {
  let count = 0;
  for (const entry of registry.thread(threadId)) if (request(entry)) count++;
  return count;
}

/** Σ `cancelTree(root)` over the run's non-terminal roots (`run_id` set, no parent task). */
export function cancelDescendantsForRun(registry: Registry, runId: string, request: RequestCancel): number {
  let count = 0;
  for (const root of Array.from(registry.runRoots(runId))) {
    if (root.summary.status === 'running') count += cancelTree(registry, root.id, request, 'run');
  }
  return count;
}
