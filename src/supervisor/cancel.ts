import type { TaskId } from '../wire/types.js';
import type { TaskEntry } from './entry.js';
import type { Registry } from './registry.js';

/** Requests cancellation of one entry; `true` if it was live and not terminal. */
export type RequestCancel = (entry: TaskEntry) => boolean;

/**
 * Cancels `root` and every descendant by `parent_context.task_id`, any owner thread, each task
 * visited once (cycle-safe). Linear in the subtree: it walks the children index, never all tasks.
 * Returns how many live non-terminal tasks were signalled.
 */
export function cancelTree(registry: Registry, rootId: TaskId, request: RequestCancel): number {
  const root = registry.node(rootId);
  if (root === undefined) return 0;
  const seen = new Set<TaskEntry>([root]);
  const stack: TaskEntry[] = [root];
  let count = 0;
  while (stack.length > 0) {
    const entry = stack.pop()!;
    if (request(entry)) count++;
    for (const child of registry.children(entry.id)) {
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
    if (root.summary.status === 'running') count += cancelTree(registry, root.id, request);
  }
  return count;
}
