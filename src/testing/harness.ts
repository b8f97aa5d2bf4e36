/**
 * The real side of the model-based suite: a supervisor (a new one after each simulated restart)
 * over one `MemoryTaskStore`, a recorded owner inbox, puppet bodies, and the checks against the model.
 */
import { createInbox } from '../inbox/inbox.js';
import type { Inbox, InboxSender } from '../inbox/types.js';
import { MemoryTaskStore } from '../stores/memory.js';
import type { TaskStore } from '../stores/types.js';
import { createTaskSupervisor } from '../supervisor/createTaskSupervisor.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { PersistedTaskMeta, TaskEvent, TaskId } from '../wire/types.js';
import { checkEventLog } from './eventLog.js';
import { ManualTimers } from './manualTimers.js';
import { FaultyTaskStore, type FaultyTaskStoreOptions } from './faultyStore.js';
import { isModelTerminal, type ReferenceModel } from './model.js';
import type { Puppet } from './puppet.js';

/** Replaces the real supervisor by another (a planted bug, a proxy that records…). */
export type SupervisorWrapper = (real: TaskSupervisor, env: { ownerInbox: InboxSender }) => TaskSupervisor;

/**
 * Lets every pending microtask run (store puts, settles, deliveries): no timer involved.
 *
 * @example
 * while (gates.waiting().length > 0) {
 *   gates.releaseAll();
 *   await settleMicrotasks();
 * }
 */
export const settleMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Structural equality over JSON values, key order ignored.
 *
 * @example
 * sameJson({ a: 1, b: [2] }, { b: [2], a: 1 }); // true
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameJson((a as never)[k], (b as never)[k]));
}

const show = (v: unknown): string => JSON.stringify(v);

function fail(what: string, actual: unknown, expected: unknown): never {
  throw new Error(`${what}: got ${show(actual)}, model expects ${show(expected)}`);
}

/** A store whose writes are dropped once its process "crashed". */
class CrashableStore implements TaskStore {
  dead = false;
  constructor(readonly inner: MemoryTaskStore | FaultyTaskStore) {}
  async put(records: readonly PersistedTaskMeta[]): Promise<void> {
    if (!this.dead) await this.inner.put(records);
  }
  load(threadId?: string): Promise<PersistedTaskMeta[]> {
    return this.inner.load(threadId);
  }
  allocateIds(count: number): Promise<number> {
    return this.inner.allocateIds(count);
  }
}

interface Generation {
  supervisor: TaskSupervisor;
  store: CrashableStore;
  inbox: Inbox;
  puppets: Map<TaskId, Puppet>;
  /** The generation's task timers (deadlines), moved by `tick`. */
  timers: ManualTimers;
}

/** Options of {@link SupervisorHarness}. */
export interface HarnessOptions {
  wrap?: SupervisorWrapper;
  /** Threads `loadThread` restores after a restart. */
  threads: readonly string[];
  /**
   * Puts a {@link FaultyTaskStore} (these options) between the supervisor and the store: the
   * `storeFault` command then makes writes fail, and each step checks the store against memory.
   */
  storeFaults?: FaultyTaskStoreOptions;
}

/**
 * The system under test of `supervisorCommands`. `log` is the owner inbox as recorded since the
 * last restart; `verify(model)` compares everything observable with the model and throws the
 * first difference.
 */
export class SupervisorHarness {
  readonly store = new MemoryTaskStore();
  /** The faulty layer over `store`, with `storeFaults`. */
  readonly faults: FaultyTaskStore | undefined;
  readonly log: TaskEvent[] = [];
  clock = 1_000;
  #gen: Generation;
  /** First terminal summary seen per task (terminal status never changes). */
  readonly #terminal = new Map<TaskId, string>();

  constructor(readonly options: HarnessOptions) {
    if (options.storeFaults !== undefined)
      this.faults = new FaultyTaskStore({ ...options.storeFaults, inner: this.store });
    this.#gen = this.#newGeneration();
  }

  /**
   * The real supervisor of the current generation (a new one after each restart).
   *
   * @example
   * const summaries = harness.supervisor.list('thread-1');
   */
  get supervisor(): TaskSupervisor {
    return this.#gen.supervisor;
  }

  /**
   * The puppet bodies of the current generation's tasks, by task id.
   *
   * @example
   * await harness.puppets.get(id)?.instruct({ kind: 'settle', outcome: { kind: 'cancelled' } });
   */
  get puppets(): Map<TaskId, Puppet> {
    return this.#gen.puppets;
  }

  #newGeneration(): Generation {
    const store = new CrashableStore(this.faults ?? this.store);
    const inbox = createInbox();
    const timers = new ManualTimers(this.clock);
    const real = createTaskSupervisor({
      store,
      ownerInbox: inbox.sender,
      now: () => this.clock,
      clock: timers,
      cancelGraceMs: 2_000_000_000,
    });
    const supervisor = this.options.wrap ? this.options.wrap(real, { ownerInbox: inbox.sender }) : real;
    return { supervisor, store, inbox, puppets: new Map(), timers };
  }

  /**
   * Advances the clock by `ms`: `now` and the task timers (due deadlines fire).
   *
   * @example
   * harness.tick(1_000);
   * model.tick(1_000);
   */
  tick(ms: number): void {
    this.clock += ms;
    this.#gen.timers.advance(ms);
  }

  /**
   * Moves the owner inbox's new events into `log`.
   *
   * @example
   * harness.record();
   * harness.verify(model);
   */
  record(): void {
    for (const e of this.#gen.inbox.receiver.drain()) this.log.push(e as TaskEvent);
  }

  /**
   * A crash (writes stop landing, bodies vanish) and a fresh supervisor that loads every thread.
   *
   * @example
   * const counts = await harness.restart();
   */
  async restart(): Promise<number[]> {
    const old = this.#gen;
    old.store.dead = true;
    old.inbox.receiver.close();
    for (const p of old.puppets.values()) p.abandon();
    await settleMicrotasks();
    this.log.length = 0;
    this.#terminal.clear();
    this.#gen = this.#newGeneration();
    const counts: number[] = [];
    for (const t of this.options.threads) counts.push(await this.supervisor.loadThread(t));
    return counts;
  }

  /**
   * Lets every body return and stops the supervisor (end of a run).
   *
   * @example
   * await harness.dispose();
   */
  async dispose(): Promise<void> {
    for (const p of this.puppets.values()) p.abandon();
    await settleMicrotasks();
    if (Array.from(this.puppets.values()).every((p) => p.returned)) await this.supervisor.stop();
  }

  /**
   * With store faults: every task in memory is in the store as memory holds it, or (terminal in
   * memory) still `running` there and listed by `storeBacklog()`; nothing the store lacks vanished.
   *
   * @example
   * await harness.verifyWrites(model);
   */
  async verifyWrites(model: ReferenceModel): Promise<void> {
    if (this.faults === undefined) return;
    const stored = new Map((await this.store.load()).map((r) => [r.task_id, r]));
    const backlog = new Set(this.supervisor.storeBacklog().map((b) => b.taskId));
    for (const t of model.tasks.values()) {
      if (t.pruned) continue;
      const mem = this.supervisor.persistedSnapshot()[t.id];
      const rec = stored.get(t.id);
      if (mem === undefined || rec === undefined) fail(`store record of ${t.id}`, rec, mem);
      if (sameJson(JSON.parse(show(rec)), JSON.parse(show(mem)))) {
        if (backlog.has(t.id)) fail(`storeBacklog() holds ${t.id}, already written`, [...backlog], 'not it');
        continue;
      }
      if (mem.status === 'running' || rec.status !== 'running' || !backlog.has(t.id))
        fail(`store record of ${t.id} (backlog ${show([...backlog])})`, rec, mem);
    }
    if (this.supervisor.stats().storeBacklog !== backlog.size)
      fail('stats().storeBacklog', this.supervisor.stats().storeBacklog, backlog.size);
  }

  /**
   * With store faults, at the end: the store heals, `stop()` must resolve, and then the store
   * holds exactly what memory holds (pruned tasks: their terminal record).
   *
   * @example
   * await harness.healAndStop(model);
   */
  async healAndStop(model: ReferenceModel): Promise<void> {
    if (this.faults === undefined) return;
    this.faults.heal();
    for (const p of this.puppets.values()) p.abandon();
    await settleMicrotasks();
    await this.supervisor.stop();
    const memory = this.supervisor.persistedSnapshot();
    const stored = await this.store.load();
    for (const r of stored) {
      const mem = memory[r.task_id];
      if (mem === undefined) {
        if (!model.tasks.get(r.task_id)?.pruned || r.status === 'running')
          fail(`store record ${r.task_id} missing from memory`, r, undefined);
      } else if (!sameJson(JSON.parse(show(r)), JSON.parse(show(mem)))) {
        fail(`store record ${r.task_id} after stop()`, r, mem);
      }
    }
    const ids = new Set(stored.map((r) => r.task_id));
    for (const id of Object.keys(memory))
      if (!ids.has(id)) fail(`store record ${id} after stop()`, undefined, memory[id]);
    if (this.supervisor.storeBacklog().length > 0)
      fail('storeBacklog() after stop()', this.supervisor.storeBacklog(), []);
  }

  /**
   * Checks the store's records against the model's.
   *
   * @example
   * await harness.verifyStore(model);
   */
  async verifyStore(model: ReferenceModel): Promise<void> {
    const records = await this.store.load();
    if (records.length !== model.store.size) fail('store record count', records.length, model.store.size);
    for (const r of records) {
      const m = model.store.get(r.task_id);
      if (m === undefined) fail(`store record ${r.task_id}`, r, undefined);
      const s = model.summary(m);
      const got = {
        status: r.status,
        result: r.result,
        error: r.error,
        owner: r.owner_thread_id,
        pc: r.parent_context,
      };
      const want = {
        status: s.status,
        result: s.result,
        error: s.error,
        owner: m.thread,
        pc: m.parentContext,
      };
      if (!sameJson(JSON.parse(show(got)), JSON.parse(show(want))))
        fail(`store record ${r.task_id}`, got, want);
    }
  }

  /**
   * Compares statuses, summaries, lists, hasRunning, stats and the event log with the model.
   *
   * @example
   * harness.record();
   * harness.verify(model); // throws the first difference
   */
  verify(model: ReferenceModel): void {
    this.record();
    const sup = this.supervisor;
    for (const t of model.tasks.values()) {
      const got = sup.get(t.id);
      if (t.pruned) {
        if (got !== undefined) fail(`get('${t.id}') after prune`, got, undefined);
        continue;
      }
      const want = model.summary(t);
      if (got === undefined || !sameJson(got, want)) fail(`get('${t.id}')`, got, want);
      const first = this.#terminal.get(t.id);
      if (first !== undefined && first !== got.status)
        throw new Error(`terminal status of ${t.id} changed: ${first} → ${got.status}`);
      if (got.status !== 'running') this.#terminal.set(t.id, got.status);
      const puppet = this.puppets.get(t.id);
      if (puppet?.returned && got.status === 'running')
        throw new Error(`${t.id}'s body returned but it is still running`);
    }
    for (const tree of model.cancelledTrees) {
      for (const id of tree) {
        if (this.puppets.get(id)?.returned && sup.get(id)?.status === 'running') {
          throw new Error(`cancelled tree member ${id} is running though its body returned`);
        }
      }
    }
    for (const thread of this.options.threads) {
      const list = sup.list(thread);
      const ids = list.map((s) => s.task_id);
      const wantIds = model.list(thread).map((t) => t.id);
      if (show(ids) !== show(wantIds)) fail(`list('${thread}')`, ids, wantIds);
      const hasRunning = sup.hasRunning(thread);
      if (hasRunning !== list.some((s) => s.status === 'running'))
        fail(`hasRunning('${thread}') vs list`, hasRunning, !hasRunning);
      if (hasRunning !== model.hasRunning(thread))
        fail(`hasRunning('${thread}')`, hasRunning, model.hasRunning(thread));
    }
    const { live, retained, spawned } = sup.stats();
    const want = model.stats();
    if (live !== want.live || retained !== want.retained || spawned !== want.spawned)
      fail('stats()', { live, retained, spawned }, want);
    const check = checkEventLog(this.log);
    if (!check.ok) throw new Error(`event log, event ${check.index}: ${check.violation}`);
    const byTask = new Map<TaskId, TaskEvent[]>();
    for (const e of this.log) {
      const list = byTask.get(e.task_id);
      if (list === undefined) byTask.set(e.task_id, [e]);
      else list.push(e);
    }
    for (const t of model.tasks.values()) {
      const got = byTask.get(t.id) ?? [];
      byTask.delete(t.id);
      if (!sameJson(got, t.events)) fail(`owner-inbox events of ${t.id}`, got, t.events);
      if (t.live && isModelTerminal(t.state) && t.inbox === 'owner' && got.length === 0)
        fail(`terminal event of ${t.id}`, got, 'one');
    }
    for (const [id, events] of byTask) fail(`owner-inbox events of unknown task ${id}`, events, []);
  }
}
