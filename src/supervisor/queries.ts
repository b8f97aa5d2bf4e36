import type { InboxSender } from '../inbox/types.js';
import type { TaskStore } from '../stores/types.js';
import { metaFromSummary, summaryFromMeta } from '../wire/convert.js';
import type { CustomTaskEvent, PersistedTaskMeta, TaskEvent, TaskId, TaskSummary } from '../wire/types.js';
import { lastEventOf, type TaskEntry } from './entry.js';
import { resolveWaiters } from './wait.js';
import { deliverCounted, type EmitRoute, newEmitRoute, type SupervisorCounters } from './emitRoute.js';
import { EventObservers, type TaskEventFilter, type TaskEventListener } from './eventObservers.js';
import { IdleWatch } from './idle.js';
import type { Registry } from './registry.js';
import type { PruneOptions, StoreBacklogEntry, SupervisorStats, TaskChange } from './types.js';
import { StoreWriter } from './writer.js';

const EMPTY_PARENT = Object.freeze({});

function expectString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new TypeError(`Expected \`${what}\` to be a string, got ${value === null ? 'null' : typeof value}`);
  }
}

/**
 * The read side of a supervisor and the bookkeeping it shares with the write side: queries,
 * snapshots, pruning, change listeners, event delivery with its counters.
 */
export abstract class SupervisorQueries {
  protected readonly registry: Registry;
  protected readonly writer: StoreWriter;
  protected readonly now: () => number;
  readonly #listeners = new Set<(change: TaskChange) => void>();
  protected readonly observers = new EventObservers();
  /** What a task's `ctx.emit` reaches (a plain object: see `EmitRoute`). */
  protected readonly route: EmitRoute = newEmitRoute(this.observers.set);
  protected readonly counters: SupervisorCounters = this.route.counters;
  /** Per-thread idleness (`whenIdle`, `onIdle`). */
  protected readonly idle: IdleWatch;
  readonly #store: TaskStore;
  /** Ids pruned with `fromStore` whose rows are not yet deleted (a failed delete keeps them). */
  readonly #toDelete = new Set<TaskId>();
  #deleting: Promise<void> | undefined;
  #deleteFailures = 0;

  constructor(registry: Registry, store: TaskStore, now: () => number) {
    this.registry = registry;
    this.#store = store;
    this.writer = new StoreWriter(store, { onRefused: (current) => this.convergeToStore(current) });
    this.now = now;
    this.idle = new IdleWatch(registry, now);
  }

  get(taskId: TaskId): TaskSummary | undefined {
    return this.registry.byId.get(taskId)?.summary;
  }

  list(threadId: string): TaskSummary[] {
    expectString(threadId, 'threadId');
    return Array.from(this.registry.thread(threadId), (e) => e.summary);
  }

  latestEvent(taskId: TaskId, eventType?: string): CustomTaskEvent | undefined {
    const entry = this.registry.byId.get(taskId);
    if (entry === undefined) return undefined;
    const last = lastEventOf(entry);
    if (eventType === undefined || last?.event_type === eventType) return last;
    return entry.lastByType?.get(eventType);
  }

  hasRunning(threadId: string): boolean {
    return this.registry.hasRunning(threadId);
  }

  findRunningByName(threadId: string, name: string): TaskSummary | undefined {
    expectString(threadId, 'threadId');
    expectString(name, 'name');
    return this.registry.runningNamed(threadId, name)?.summary;
  }

  findRunningChildByName(parentTaskId: TaskId, name: string): TaskSummary | undefined {
    expectString(parentTaskId, 'parentTaskId');
    expectString(name, 'name');
    for (const entry of this.registry.runningNamedAnywhere(name)) {
      if (entry.parentTaskId === parentTaskId) return entry.summary;
    }
    return undefined;
  }

  runningRootsOfRun(runId: string): TaskSummary[] {
    expectString(runId, 'runId');
    const out: TaskSummary[] = [];
    for (const entry of this.registry.runRoots(runId)) {
      if (entry.summary.status === 'running') out.push(entry.summary);
    }
    return out;
  }

  taskName(taskId: TaskId): string | undefined {
    expectString(taskId, 'taskId');
    return this.registry.byId.get(taskId)?.name;
  }

  ownerThreadOf(taskId: TaskId): string | undefined {
    expectString(taskId, 'taskId');
    return this.registry.byId.get(taskId)?.ownerThreadId;
  }

  persistedSnapshot(): Record<TaskId, PersistedTaskMeta> {
    const out: Record<TaskId, PersistedTaskMeta> = {};
    for (const entry of this.registry.byId.values()) {
      out[entry.id] = metaFromSummary(entry.summary, entry.ownerThreadId, entry.name);
    }
    return out;
  }

  prune(opts: PruneOptions = {}): number {
    const { threadId, olderThanMs = 0, fromStore = false } = opts;
    if (threadId !== undefined) expectString(threadId, 'opts.threadId');
    if (typeof olderThanMs !== 'number' || Number.isNaN(olderThanMs)) {
      throw new TypeError(`Expected \`opts.olderThanMs\` to be a number, got ${typeof olderThanMs}`);
    }
    if (typeof fromStore !== 'boolean') {
      throw new TypeError(`Expected \`opts.fromStore\` to be a boolean, got ${typeof fromStore}`);
    }
    if (fromStore && typeof this.#store.delete !== 'function') {
      throw new TypeError(
        'Expected the store to implement `delete` for `opts.fromStore`, got a store without it',
      );
    }
    const cutoff = this.now() - olderThanMs;
    const candidates = threadId === undefined ? this.registry.byId.values() : this.registry.thread(threadId);
    const doomed: TaskEntry[] = [];
    for (const entry of candidates) {
      const s = entry.summary;
      if (s.status !== 'running' && entry.delivered && (s.completed_at_ms ?? s.created_at_ms) <= cutoff)
        doomed.push(entry);
    }
    for (const entry of doomed) this.registry.remove(entry);
    if (fromStore) {
      for (const entry of doomed) this.#toDelete.add(entry.id);
      this.#removeFromStore();
    }
    return doomed.length;
  }

  /** Resolves once the store deletions `prune({ fromStore: true })` started have been attempted. */
  protected async settleRemovals(): Promise<void> {
    while (this.#deleting !== undefined) await this.#deleting;
  }

  /**
   * Deletes the pruned rows, one batch at a time, each after the writer has let go of those
   * records (a pending or in-flight write of one would otherwise bring it back). A failed delete is
   * counted in `storeFailures`; its ids stay queued for the next prune.
   */
  #removeFromStore(): void {
    if (this.#deleting !== undefined || this.#toDelete.size === 0) return;
    const remove = this.#store.delete!.bind(this.#store);
    this.#deleting = (async () => {
      while (this.#toDelete.size > 0) {
        const ids = new Set(this.#toDelete);
        await this.writer.discard(ids);
        try {
          await remove([...ids]);
        } catch {
          this.#deleteFailures++;
          return;
        }
        for (const id of ids) this.#toDelete.delete(id);
      }
    })().finally(() => {
      this.#deleting = undefined;
    });
  }

  subscribe(listener: (change: TaskChange) => void): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`Expected \`listener\` to be a function, got ${typeof listener}`);
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  onEvent(listener: TaskEventListener, filter?: TaskEventFilter): () => void {
    return this.observers.add(listener, filter);
  }

  stats(): SupervisorStats {
    return {
      live: this.registry.live,
      retained: this.registry.retained,
      spawned: this.counters.spawned,
      eventsDelivered: this.counters.eventsDelivered,
      eventsUndelivered: this.counters.eventsUndelivered,
      eventsDropped: this.counters.eventsDropped,
      storeFailures: this.writer.failures + this.#deleteFailures,
      storeBacklog: this.writer.backlogSize,
      storeRefused: this.writer.refused,
    };
  }

  storeBacklog(): StoreBacklogEntry[] {
    return this.writer.backlog();
  }

  /**
   * A fencing store refused records because it holds newer ones (another writer finished or
   * orphaned them): memory takes the store's terminal record, listeners hear of it, and the
   * terminal event and waiters (delivered right after) report it.
   */
  protected convergeToStore(current: readonly PersistedTaskMeta[]): void {
    for (const meta of current) {
      const entry = this.registry.byId.get(meta.task_id);
      // An uncommitted spawn is rejected instead; a stored `running` row belongs to another writer.
      if (entry === undefined || !entry.committed || meta.status === 'running') continue;
      if (entry.summary.status === 'running') {
        this.replaceRemote(entry, meta);
        continue;
      }
      entry.summary = Object.freeze(summaryFromMeta(meta));
      this.notify('updated', entry);
    }
    const ids = current.map((m) => m.task_id).join(', ');
    process.emitWarning(
      `awaken-tasks: the store refused records it holds newer versions of (${ids}); memory follows the store`,
    );
  }

  /** The number of change listeners (the inspector checks it for leaks). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  protected metaOf(entry: TaskEntry): PersistedTaskMeta {
    // Frozen (its nested parts come frozen from the summary), so a store may keep it without copying.
    const meta = metaFromSummary(entry.summary, entry.ownerThreadId, entry.name);
    if (entry.summary.parent_context === undefined) meta.parent_context = EMPTY_PARENT;
    return Object.freeze(meta);
  }

  protected notify(type: TaskChange['type'], entry: TaskEntry): void {
    if (this.#listeners.size === 0) return;
    const change: TaskChange = { type, thread_id: entry.ownerThreadId, summary: entry.summary };
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        // A listener's bug must not break a task's lifecycle; surface it without throwing here.
        process.emitWarning(`awaken-tasks: a subscribe listener threw: ${String(error)}`);
      }
    }
  }

  /** Shows an event to the observers (a copy of the stream; inboxes still get it). */
  protected observe(event: TaskEvent, threadId: string): void {
    if (this.observers.size > 0) this.observers.emit(event, threadId);
  }

  /** See {@link deliverCounted}. */
  protected deliver(inbox: InboxSender, event: TaskEvent): boolean {
    return deliverCounted(this.counters, inbox, event);
  }

  /** A remote (other process's) running task whose newer record arrived. */
  protected replaceRemote(entry: TaskEntry, meta: PersistedTaskMeta): void {
    if (meta.status === 'running') return;
    this.registry.markTerminal(entry, true);
    entry.remote = false;
    entry.done = true;
    entry.delivered = true;
    entry.summary = Object.freeze(summaryFromMeta(meta));
    resolveWaiters(entry);
    this.notify('updated', entry);
    this.idle.ended(entry.ownerThreadId, entry.summary);
  }
}
