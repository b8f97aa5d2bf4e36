/**
 * `ReferenceModel`: a plain, obviously-correct model of a supervisor, for model-based tests.
 */
import type { SpawnErrorCode } from '../supervisor/errors.js';
import { ORPHAN_ERROR } from '../supervisor/restore.js';
import type {
  Json,
  TaskEvent,
  TaskId,
  TaskParentContext,
  TaskStopReason,
  TaskSummary,
} from '../wire/types.js';
import {
  isModelTerminal,
  type ModelOutcome,
  type ModelState,
  type ModelTask,
  modelSummary,
  type ReferenceModelOptions,
  reactionOutcome,
} from './modelTypes.js';

export type {
  CancelReaction,
  ModelOutcome,
  ModelState,
  ModelTask,
  ReferenceModelOptions,
} from './modelTypes.js';
export { isModelTerminal, modelSummary, reactionOutcome } from './modelTypes.js';

/**
 * The supervisor as a few maps and plain rules, mirroring API.md: statuses per id, parent links,
 * names, the run fence, the events each inbox should get, the store's records, a manual clock.
 * Commands (see `supervisorCommands`) apply each operation to the model and to the real
 * supervisor, then compare.
 *
 * @example
 * const model = new ReferenceModel();
 * model.spawnRefusal({ thread: 't', name: 'self', parentContext: {} }); // 'reserved_name'
 */
export class ReferenceModel {
  constructor(readonly options: ReferenceModelOptions = {}) {}

  /** Tasks of the current supervisor (spawned or restored), pruned ones included, by id. */
  readonly tasks = new Map<TaskId, ModelTask>();
  /** What the store holds, by id (records of every generation). */
  readonly store = new Map<TaskId, ModelTask>();
  readonly cancelledRuns = new Set<string>();
  /** Trees cancelled by `cancelTree`/`cancelDescendantsForRun`: their members once signalled. */
  readonly cancelledTrees: TaskId[][] = [];
  clock = 1_000;
  generation = 0;
  spawned = 0;
  /** Every id minted so far (never reused, across restarts). */
  readonly minted = new Set<TaskId>();

  /**
   * The tasks the supervisor should still hold in memory (not pruned).
   *
   * @example
   * expect(harness.supervisor.stats().retained).toBe(model.memory().length);
   */
  memory(): ModelTask[] {
    return Array.from(this.tasks.values()).filter((t) => !t.pruned);
  }

  /**
   * The model task `id`, as `get` on the supervisor should see it.
   *
   * @example
   * expect(harness.supervisor.get(id)).toEqual(model.summary(model.get(id)!));
   */
  get(id: TaskId): ModelTask | undefined {
    const t = this.tasks.get(id);
    return t === undefined || t.pruned ? undefined : t;
  }

  /**
   * A live task whose body has not returned (bodies return exactly when their task is terminal here).
   *
   * @example
   * const live = [...model.tasks.values()].filter((t) => model.isLive(t));
   */
  isLive(t: ModelTask): boolean {
    return t.live && !isModelTerminal(t.state);
  }

  /**
   * Why a spawn would be refused, or `undefined` (API.md "Spawn errors", in order).
   *
   * @example
   * const refusal = model.spawnRefusal({ thread: 't', name: 'crawler', parentContext: {} }); // e.g. 'duplicate_name'
   */
  spawnRefusal(req: {
    thread: string;
    name?: string | undefined;
    parentContext: TaskParentContext;
  }): SpawnErrorCode | undefined {
    const { name, parentContext: pc } = req;
    if (name !== undefined) {
      if (['parent', 'self', 'all', 'broadcast'].includes(name)) return 'reserved_name';
      if (this.memory().some((t) => t.thread === req.thread && t.name === name && !isModelTerminal(t.state)))
        return 'duplicate_name';
    }
    if (pc.task_id !== undefined) {
      const parent = this.get(pc.task_id);
      if (parent !== undefined && parent.state !== 'active') return 'parent_cancelled';
    } else if (pc.run_id !== undefined && pc.run_id.trim() !== '' && this.cancelledRuns.has(pc.run_id.trim()))
      return 'parent_cancelled';
    return undefined;
  }

  /**
   * Records a spawn the supervisor accepted and returns the new model task.
   *
   * @example
   * const task = model.add({ id, thread: 't', name: undefined, taskType: 'job', description: 'j', parentContext: {}, agent: false, cooperative: true, reaction, inbox: 'owner' });
   */
  add(t: Omit<ModelTask, 'state' | 'pruned' | 'events' | 'received' | 'live' | 'createdAt'>): ModelTask {
    const task: ModelTask = {
      ...t,
      live: true,
      createdAt: this.clock,
      state: 'active',
      pruned: false,
      events: [],
      received: [],
    };
    this.tasks.set(task.id, task);
    this.store.set(task.id, { ...task });
    this.minted.add(task.id);
    this.spawned++;
    return task;
  }

  /**
   * Whether `t`'s inbox is open (a sub-agent's closes when it ends).
   *
   * @example
   * if (model.inboxOpen(parent)) model.deliver(parent, event);
   */
  inboxOpen(t: ModelTask): boolean {
    if (t.inbox === 'owner') return true;
    const agent = this.tasks.get(t.inbox);
    return agent !== undefined && !isModelTerminal(agent.state);
  }

  /**
   * Records an event into `t`'s inbox; returns whether it is delivered.
   *
   * @example
   * const delivered = model.deliver(task, event);
   */
  deliver(t: ModelTask, event: TaskEvent): boolean {
    if (!this.inboxOpen(t)) return false;
    if (t.inbox === 'owner') t.events.push(event);
    else this.tasks.get(t.inbox)!.received.push(event as unknown as Json);
    return true;
  }

  /**
   * A custom event from `t`; whether the supervisor should report it delivered.
   *
   * @example
   * expect(await puppet.instruct({ kind: 'emit', eventType: 'p', payload: 1 })).toBe(model.emit(task, 'p', 1));
   */
  emit(t: ModelTask, eventType: string, payload: Json): boolean {
    return this.deliver(t, { kind: 'custom', task_id: t.id, event_type: eventType, payload });
  }

  /**
   * The body returned `outcome`: the task machine's transition, then the terminal event.
   *
   * @example
   * model.settle(task, { kind: 'success', value: null });
   */
  settle(t: ModelTask, outcome: ModelOutcome): void {
    this.deliver(t, this.settleState(t, outcome));
  }

  /**
   * The task machine's transition from `active` or `cancelling`; returns the terminal event to deliver.
   *
   * @example
   * const terminal = model.settleState(task, { kind: 'failure', error: 'boom' });
   */
  settleState(t: ModelTask, outcome: ModelOutcome): TaskEvent {
    const cancelling = t.state === 'cancelling';
    let state: ModelState;
    if (outcome.kind === 'success') state = 'completed';
    else if (outcome.kind === 'failure') state = 'failed';
    else if (outcome.kind === 'cancelled') state = 'cancelled';
    else state = cancelling ? 'cancelled' : 'failed';
    t.state = state;
    t.completedAt = this.clock;
    // Why it was asked to stop is kept only on a task that ended `cancelled`.
    if (state !== 'cancelled') delete t.stopReason;
    let event: TaskEvent;
    if (state === 'completed') {
      const value = outcome.kind === 'success' ? outcome.value : null;
      if (value !== null) t.result = value;
      event = { kind: 'completed', task_id: t.id, result: value };
    } else if (state === 'failed') {
      t.error = outcome.kind === 'failure' ? outcome.error : (outcome as { message: string }).message;
      event = { kind: 'failed', task_id: t.id, error: t.error };
    } else {
      if (t.timedOut === true) t.error = `task timed out after ${t.timeoutMs} ms`;
      event = { kind: 'cancelled', task_id: t.id };
    }
    this.store.set(t.id, { ...t });
    return event;
  }

  /**
   * Requests cancellation; `true` if live and not terminal. Cooperative bodies react at once.
   *
   * @example
   * expect(harness.supervisor.cancel(id)).toBe(model.cancel(id));
   */
  cancel(id: TaskId): boolean {
    const batch: ModelTask[] = [];
    const ok = this.#signal(id, batch, 'user');
    this.#react(batch);
    return ok;
  }

  #signal(id: TaskId, batch: ModelTask[], reason: TaskStopReason): boolean {
    const t = this.get(id);
    if (t === undefined || !this.isLive(t)) return false;
    if (t.state === 'active') {
      t.state = 'cancelling';
      t.stopReason = reason;
      if (t.cooperative) batch.push(t);
    }
    return true;
  }

  /**
   * Cooperative bodies signalled by one call react together, as they do for real: first each
   * one's last emit, then every settle (a sub-agent's inbox closes), then the terminal events.
   */
  #react(batch: ModelTask[]): void {
    for (const t of batch)
      if (t.reaction === 'emit-then-cancelled' && !t.agent) this.emit(t, 'final_words', { last: true });
    const events = batch.map((t) => this.settleState(t, reactionOutcome(t.reaction)));
    for (const [i, t] of batch.entries()) this.deliver(t, events[i]!);
  }

  /**
   * Ids of `rootId` and its descendants by `parent_context.task_id`. Links run through pruned
   * tasks too, and a pruned root still has its descendants (the records still say who is whose
   * child), unless `pruneForgetsLinks` was set.
   *
   * @example
   * const ids = model.subtree('bg_0');
   */
  subtree(rootId: TaskId): TaskId[] {
    const forget = this.options.pruneForgetsLinks === true;
    // A pruned id still names its descendants (upstream walks the store, which keeps it).
    if ((forget ? this.get(rootId) : this.tasks.get(rootId)) === undefined) return [];
    const pool = forget ? this.memory() : Array.from(this.tasks.values());
    const out = [rootId];
    const seen = new Set(out);
    for (let i = 0; i < out.length; i++) {
      for (const t of pool) {
        if (t.parentContext.task_id === out[i] && !seen.has(t.id)) {
          seen.add(t.id);
          out.push(t.id);
        }
      }
    }
    return out;
  }

  /**
   * Models `cancelTree`: the count the supervisor should return.
   *
   * @example
   * expect(harness.supervisor.cancelTree('bg_0')).toBe(model.cancelTree('bg_0'));
   */
  cancelTree(rootId: TaskId): number {
    const batch: ModelTask[] = [];
    const n = this.#cancelTree(rootId, batch, 'user');
    this.#react(batch);
    return n;
  }

  #cancelTree(rootId: TaskId, batch: ModelTask[], rootReason: TaskStopReason): number {
    const members = this.subtree(rootId);
    if (members.length > 0) this.cancelledTrees.push(members);
    return members.filter((id) => this.#signal(id, batch, id === rootId ? rootReason : 'parent')).length;
  }

  /**
   * Models `cancelAll`: the count the supervisor should return.
   *
   * @example
   * expect(harness.supervisor.cancelAll('t')).toBe(model.cancelAll('t'));
   */
  cancelAll(thread: string): number {
    const batch: ModelTask[] = [];
    const n = this.memory().filter((t) => t.thread === thread && this.#signal(t.id, batch, 'user')).length;
    this.#react(batch);
    return n;
  }

  /**
   * Models `cancelDescendantsForRun`: the count the supervisor should return, and fences the run.
   *
   * @example
   * expect(harness.supervisor.cancelDescendantsForRun('run-1')).toBe(model.cancelDescendantsForRun('run-1'));
   */
  cancelDescendantsForRun(runId: string): number {
    this.cancelledRuns.add(runId.trim());
    const roots = this.memory().filter(
      (t) =>
        t.parentContext.run_id === runId &&
        t.parentContext.task_id === undefined &&
        !isModelTerminal(t.state),
    );
    const batch: ModelTask[] = [];
    const n = roots.reduce((sum, r) => sum + this.#cancelTree(r.id, batch, 'run'), 0);
    this.#react(batch);
    return n;
  }

  /**
   * The clock moves `ms` forward: every live `active` task whose deadline (`createdAt +
   * timeoutMs`) has come is cancelled with its subtree, earliest deadline first (ties: spawn
   * order); the cooperative bodies of all of them react together afterwards.
   *
   * @example
   * model.tick(1_000);
   * harness.tick(1_000);
   */
  tick(ms: number): void {
    this.clock += ms;
    const due = this.memory()
      .filter((t) => t.live && t.timeoutMs !== undefined && t.createdAt + t.timeoutMs <= this.clock)
      .sort((a, b) => a.createdAt + a.timeoutMs! - (b.createdAt + b.timeoutMs!));
    const batch: ModelTask[] = [];
    for (const t of due) {
      // A task cancelled earlier (or by an earlier deadline's tree) has no deadline any more.
      if (t.state !== 'active') continue;
      t.timedOut = true;
      this.#cancelTree(t.id, batch, 'timeout');
    }
    this.#react(batch);
  }

  /**
   * The `SendError` code `sendTaskInboxMessage` should throw, or `undefined`; delivers on success.
   *
   * @example
   * const expectedCode = model.sendMessage(id, 't', 'parent', 'hello');
   */
  sendMessage(id: TaskId, thread: string, from: string, content: string): string | undefined {
    const t = this.get(id);
    if (t === undefined || !t.live) return 'task_not_found';
    if (t.thread !== thread) return 'not_owner';
    if (isModelTerminal(t.state)) return 'task_terminated';
    if (!t.agent) return 'no_inbox';
    t.received.push({ kind: 'custom', task_id: id, event_type: 'agent_message', payload: { from, content } });
    return undefined;
  }

  /**
   * Models `prune`: the count the supervisor should return.
   *
   * @example
   * expect(harness.supervisor.prune({ threadId: 't', olderThanMs: 0 })).toBe(model.prune('t', 0));
   */
  prune(thread: string | undefined, olderThanMs: number): number {
    const cutoff = this.clock - olderThanMs;
    const doomed = this.memory().filter(
      (t) =>
        (thread === undefined || t.thread === thread) &&
        isModelTerminal(t.state) &&
        (t.completedAt ?? t.createdAt) <= cutoff,
    );
    for (const t of doomed) t.pruned = true;
    return doomed.length;
  }

  /**
   * A crash and a fresh supervisor over the same store that loads `threads`: returns the count per thread.
   *
   * @example
   * expect(await harness.restart()).toEqual(model.restart(['t']));
   */
  restart(threads: readonly string[]): number[] {
    this.generation++;
    this.spawned = 0;
    this.tasks.clear();
    this.cancelledRuns.clear();
    this.cancelledTrees.length = 0;
    const counts = threads.map((thread) => {
      const records = Array.from(this.store.values()).filter((r) => r.thread === thread);
      for (const r of records) {
        const t: ModelTask = { ...r, live: false, pruned: false, events: [], received: [] };
        if (!isModelTerminal(t.state)) {
          Object.assign(t, {
            state: 'failed',
            error: ORPHAN_ERROR,
            completedAt: this.clock,
            stopReason: 'orphaned',
          });
          delete t.result;
          this.store.set(t.id, { ...t });
        }
        this.tasks.set(t.id, t);
      }
      return records.length;
    });
    return counts;
  }

  /**
   * The summary `get(id)` should return.
   *
   * @example
   * expect(harness.supervisor.get(task.id)).toEqual(model.summary(task));
   */
  summary(t: ModelTask): TaskSummary {
    return modelSummary(t);
  }

  /**
   * A thread's tasks in creation order, as `list` should return them.
   *
   * @example
   * expect(harness.supervisor.list('t').map((s) => s.task_id)).toEqual(model.list('t').map((t) => t.id));
   */
  list(thread: string): ModelTask[] {
    return this.memory().filter((t) => t.thread === thread);
  }

  /**
   * Whether the thread has a live task, as `hasRunning` should say.
   *
   * @example
   * expect(harness.supervisor.hasRunning('t')).toBe(model.hasRunning('t'));
   */
  hasRunning(thread: string): boolean {
    return this.list(thread).some((t) => !isModelTerminal(t.state));
  }

  /**
   * The counters `stats()` should report.
   *
   * @example
   * expect(harness.supervisor.stats()).toMatchObject(model.stats());
   */
  stats(): { live: number; retained: number; spawned: number } {
    const mem = this.memory();
    const live = mem.filter((t) => this.isLive(t)).length;
    return { live, retained: mem.length - live, spawned: this.spawned };
  }
}
