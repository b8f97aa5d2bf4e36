import type { TaskSupervisor } from '../supervisor/types.js';
import type { TaskId } from '../wire/types.js';

/**
 * Closes the gap between a task's status turning terminal and its terminal event reaching the
 * inbox (the supervisor writes the store in between). It remembers the thread's tasks seen
 * running during a run; `settle()` waits, via `supervisor.wait` (which resolves once the terminal
 * event was delivered), for those that have ended since. A run that found "nothing pending" then
 * drains their events instead of ending without them.
 *
 * @example
 * const finished = new FinishedTasks(supervisor, 'thread-1');
 * await finished.settle(signal); // every task seen running and now ended has delivered its event
 * finished.close();
 */
export class FinishedTasks {
  readonly #supervisor: TaskSupervisor;
  readonly #seen = new Set<TaskId>();
  readonly #unsubscribe: () => void;

  constructor(supervisor: TaskSupervisor, threadId: string) {
    this.#supervisor = supervisor;
    for (const s of supervisor.list(threadId)) if (s.status === 'running') this.#seen.add(s.task_id);
    this.#unsubscribe = supervisor.subscribe((change) => {
      if (change.thread_id === threadId && change.summary.status === 'running')
        this.#seen.add(change.summary.task_id);
    });
  }

  /**
   * Waits until every remembered task that has ended has delivered its terminal event.
   *
   * @example
   * await finished.settle(AbortSignal.timeout(5_000));
   */
  async settle(signal: AbortSignal): Promise<void> {
    const ended: TaskId[] = [];
    for (const id of this.#seen) {
      if (this.#supervisor.get(id)?.status !== 'running') ended.push(id);
    }
    for (const id of ended) this.#seen.delete(id);
    if (ended.length === 0) return;
    await Promise.all(ended.map((id) => this.#supervisor.wait(id, { signal }).catch(() => undefined)));
  }

  /**
   * Stops listening to the supervisor.
   *
   * @example
   * finished.close();
   */
  close(): void {
    this.#unsubscribe();
  }
}
