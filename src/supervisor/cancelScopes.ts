import type { StopReason } from '../../machines/task.machine.js';
import type { TaskId } from '../wire/types.js';
import * as cancelOps from './cancel.js';
import type { TaskEntry } from './entry.js';
import { reportOf, type StopReport, type StopTarget } from './stopReport.js';
import { TaskRunner } from './taskRunner.js';

/**
 * The supervisor's cancel operations: one task, a tree, a thread's tasks or a run's, each in one
 * grace batch, with or without a stop report. With replicas a remote task counts while it runs and
 * the store routes the request to its owner.
 */
export abstract class CancelScopes extends TaskRunner {
  cancel(taskId: TaskId): boolean {
    const entry = this.registry.byId.get(taskId);
    if (entry === undefined) return false;
    if (!entry.remote) return this.requestCancel(entry);
    this.replicas?.cancel({ kind: 'task', taskId });
    return entry.summary.status === 'running';
  }

  cancelTree(taskId: TaskId): number {
    return this.#cancelScope('tree', taskId, this.#requestAny);
  }

  cancelAll(threadId: string): number {
    return this.#cancelScope('thread', threadId, this.#requestAny);
  }

  cancelDescendantsForRun(runId: string): number {
    return this.#cancelScope('run', runId, this.#requestAny);
  }

  /**
   * Cancels, in one grace batch, a tree (`key`: its root's id), a thread's tasks or a run's, each
   * task reached through `request`; returns how many were live here. With replicas the store then
   * takes the same request: it walks the whole tree (reaching descendants this process has not
   * loaded), and records a run as cancelled so every replica fences it.
   */
  #cancelScope(kind: 'tree' | 'thread' | 'run', key: string, request: cancelOps.RequestCancel): number {
    let count: number;
    if (kind === 'tree') count = this.cancelBatch(() => cancelOps.cancelTree(this.registry, key, request));
    else if (kind === 'thread')
      count = this.cancelBatch(() => cancelOps.cancelAll(this.registry, key, request));
    else {
      // The fence first, so a spawn racing the cascade cannot escape the cancelled run.
      this.cancelledRuns.add(key.trim());
      count = this.cancelBatch(() => cancelOps.cancelDescendantsForRun(this.registry, key, request));
    }
    this.replicas?.cancel(
      kind === 'tree'
        ? { kind, taskId: key }
        : kind === 'thread'
          ? { kind, threadId: key }
          : { kind, runId: key },
    );
    return count;
  }

  /**
   * Local entries are cancelled here; a remote one (only with replicas) counts while it runs, and
   * the store routes the request to its owner.
   */
  readonly #requestAny = (entry: TaskEntry, reason?: StopReason): boolean =>
    entry.remote ? entry.summary.status === 'running' : this.requestCancel(entry, reason);

  async cancelWithReport(target: StopTarget): Promise<StopReport> {
    if (typeof target !== 'object' || target === null)
      throw new TypeError(
        `Expected \`target\` to be an object, got ${target === null ? 'null' : typeof target}`,
      );
    const reached: TaskEntry[] = [];
    const notFound: TaskId[] = [];
    const collect = (entry: TaskEntry, reason?: StopReason): boolean => {
      const live = this.#requestAny(entry, reason);
      if (live) reached.push(entry);
      return live;
    };
    if ('tree' in target) {
      const roots = typeof target.tree === 'string' ? [target.tree] : target.tree;
      for (const id of roots) {
        if (typeof id !== 'string') throw new TypeError(`Expected a task id, got ${typeof id}`);
        const root = this.registry.byId.get(id);
        if (root === undefined || root.summary.status !== 'running') notFound.push(id);
        this.#cancelScope('tree', id, collect);
      }
    } else if ('threadId' in target) {
      this.#cancelScope('thread', target.threadId, collect);
    } else if ('runId' in target) {
      this.#cancelScope('run', target.runId, collect);
    } else {
      throw new TypeError('Expected `target` to have `tree`, `threadId` or `runId`');
    }
    return reportOf(reached, notFound, this.forceSettled);
  }
}
