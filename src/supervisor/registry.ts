import type { TaskId } from '../wire/types.js';
import type { TaskEntry } from './entry.js';

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set === undefined) index.set(key, new Set([value]));
  else set.add(value);
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/**
 * The supervisor's indexed state: tasks by id, by owner thread (creation order), children by
 * parent task, run roots by run, running names by thread. Every operation is O(1) or linear in
 * what it returns, so a spawn costs the same with 100 or 100 000 live tasks. (An XState context
 * or an immer-drafted Map would copy on each change: O(n) per spawn.)
 */
export class Registry {
  readonly byId = new Map<TaskId, TaskEntry>();
  readonly #byThread = new Map<string, Set<TaskEntry>>();
  /**
   * Child ids by parent id: the lineage, which `prune` keeps (an id string per pruned task) so
   * cascades stay exact through and from pruned tasks, as upstream's walk over the store does.
   */
  readonly #children = new Map<TaskId, Set<TaskId>>();
  readonly #runRoots = new Map<string, Set<TaskEntry>>();
  readonly #names = new Map<string, Map<string, TaskEntry>>();
  /** Running named entries by name, across threads (a name is unique per thread, not globally). */
  readonly #namedAnywhere = new Map<string, Set<TaskEntry>>();
  readonly #running = new Map<string, number>();
  live = 0;
  retained = 0;

  add(entry: TaskEntry): void {
    this.byId.set(entry.id, entry);
    addTo(this.#byThread, entry.ownerThreadId, entry);
    if (entry.parentTaskId !== undefined) addTo(this.#children, entry.parentTaskId, entry.id);
    const runId = entry.summary.parent_context?.run_id;
    if (runId !== undefined && entry.parentTaskId === undefined) addTo(this.#runRoots, runId, entry);
    if (entry.summary.status === 'running') {
      this.#running.set(entry.ownerThreadId, (this.#running.get(entry.ownerThreadId) ?? 0) + 1);
      if (entry.name !== undefined) {
        let names = this.#names.get(entry.ownerThreadId);
        if (names === undefined) this.#names.set(entry.ownerThreadId, (names = new Map()));
        names.set(entry.name, entry);
        addTo(this.#namedAnywhere, entry.name, entry);
      }
      if (!entry.remote) this.live++;
    } else {
      this.retained++;
    }
  }

  /** Bookkeeping when a running entry becomes terminal. */
  markTerminal(entry: TaskEntry, wasRemote = false): void {
    const n = (this.#running.get(entry.ownerThreadId) ?? 1) - 1;
    if (n === 0) this.#running.delete(entry.ownerThreadId);
    else this.#running.set(entry.ownerThreadId, n);
    const names = entry.name === undefined ? undefined : this.#names.get(entry.ownerThreadId);
    if (names !== undefined && names.get(entry.name!) === entry) {
      names.delete(entry.name!);
      if (names.size === 0) this.#names.delete(entry.ownerThreadId);
    }
    if (entry.name !== undefined) removeFrom(this.#namedAnywhere, entry.name, entry);
    if (!wasRemote) this.live--;
    this.retained++;
  }

  remove(entry: TaskEntry): void {
    this.byId.delete(entry.id);
    removeFrom(this.#byThread, entry.ownerThreadId, entry);
    const runId = entry.summary.parent_context?.run_id;
    if (runId !== undefined && entry.parentTaskId === undefined) removeFrom(this.#runRoots, runId, entry);
    if (entry.summary.status === 'running') {
      this.markTerminal(entry, entry.remote);
    }
    this.retained--;
  }

  runningNamed(threadId: string, name: string): TaskEntry | undefined {
    return this.#names.get(threadId)?.get(name);
  }

  /** Running entries named `name`, in every thread (one per thread at most). */
  runningNamedAnywhere(name: string): ReadonlySet<TaskEntry> {
    return this.#namedAnywhere.get(name) ?? EMPTY;
  }

  thread(threadId: string): ReadonlySet<TaskEntry> {
    return this.#byThread.get(threadId) ?? EMPTY;
  }

  children(taskId: TaskId): ReadonlySet<TaskId> {
    return this.#children.get(taskId) ?? NO_IDS;
  }

  runRoots(runId: string): ReadonlySet<TaskEntry> {
    return this.#runRoots.get(runId) ?? EMPTY;
  }

  hasRunning(threadId: string): boolean {
    return this.#running.has(threadId);
  }
}

const EMPTY: ReadonlySet<TaskEntry> = new Set();
const NO_IDS: ReadonlySet<TaskId> = new Set();
