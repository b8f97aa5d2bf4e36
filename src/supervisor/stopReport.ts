import type { TaskId } from '../wire/types.js';
import type { TaskEntry } from './entry.js';
import { waitFor } from './wait.js';

/**
 * What a stop reached: tasks that ended on their own within the grace period, tasks the grace
 * timer settled `cancelled` because their bodies had not returned, and ids not found.
 *
 * @example
 * const { settled, forced, notFound } = await supervisor.cancelWithReport({ tree: id });
 */
export interface StopReport {
  /** Reached tasks whose bodies returned (or that were cancelled while queued). */
  readonly settled: TaskId[];
  /** Reached tasks settled `cancelled` by the grace timer. */
  readonly forced: TaskId[];
  /** Ids (of `tree`) this supervisor does not hold, or holds finished. */
  readonly notFound: TaskId[];
}

/**
 * What `cancelWithReport` cancels: trees rooted at the given ids, a thread's tasks, or a run.
 *
 * @example
 * const target: StopTarget = { runId: 'run-7' };
 */
export type StopTarget = { tree: TaskId | readonly TaskId[] } | { threadId: string } | { runId: string };

/** Waits for each reached task's terminal event and sorts them by how they ended. */
export async function reportOf(
  reached: readonly TaskEntry[],
  notFound: TaskId[],
  forceSettled: WeakSet<TaskEntry>,
): Promise<StopReport> {
  await Promise.all(reached.map((entry) => (entry.delivered ? undefined : waitFor(entry, {}))));
  const settled: TaskId[] = [];
  const forced: TaskId[] = [];
  for (const entry of reached) (forceSettled.has(entry) ? forced : settled).push(entry.id);
  return { settled, forced, notFound };
}
