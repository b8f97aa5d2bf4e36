import type { InboxSender } from '../inbox/types.js';
import type { TaskStore } from '../stores/types.js';
import { metaFromSummary, summaryFromMeta } from '../wire/convert.js';
import type { PersistedTaskMeta, TaskEvent, TaskId, TaskSummary } from '../wire/types.js';
import type { TaskEntry } from './entry.js';
import { EventObservers, type TaskEventFilter, type TaskEventListener } from './eventObservers.js';
import type { Registry } from './registry.js';
import type { SupervisorStats, TaskChange } from './types.js';
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
  protected readonly counters = { spawned: 0, eventsDelivered: 0, eventsUndelivered: 0 };
  readonly #listeners = new Set<(change: TaskChange) => void>();
  protected readonly observers = new EventObservers();

  constructor(registry: Registry, store: TaskStore, now: () => number) {
    this.registry = registry;
    this.writer = new StoreWriter(store);
    this.now = now;
  }

  get(taskId: TaskId): TaskSummary | undefined {
    return this.registry.byId.get(taskId)?.summary;
  }

  list(threadId: string): TaskSummary[] {
    expectString(threadId, 'threadId');
    return Array.from(this.registry.thread(threadId), (e) => e.summary);
  }

  hasRunning(threadId: string): boolean {
    return this.registry.hasRunning(threadId);
  }

  persistedSnapshot(): Record<TaskId, PersistedTaskMeta> {
    const out: Record<TaskId, PersistedTaskMeta> = {};
    for (const entry of this.registry.byId.values()) {
      out[entry.id] = metaFromSummary(entry.summary, entry.ownerThreadId, entry.name);
    }
    return out;
  }

  prune(opts: { threadId?: string; olderThanMs?: number } = {}): number {
    const { threadId, olderThanMs = 0 } = opts;
    if (threadId !== undefined) expectString(threadId, 'opts.threadId');
    if (typeof olderThanMs !== 'number' || Number.isNaN(olderThanMs)) {
      throw new TypeError(`Expected \`opts.olderThanMs\` to be a number, got ${typeof olderThanMs}`);
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
    return doomed.length;
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
      storeFailures: this.writer.failures,
    };
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

  /** Sends an event to an inbox, counting it; a sender that throws counts as undelivered. */
  protected deliver(inbox: InboxSender, event: TaskEvent): boolean {
    let ok = false;
    try {
      ok = inbox.send(event);
    } catch {
      ok = false;
    }
    if (ok) this.counters.eventsDelivered++;
    else this.counters.eventsUndelivered++;
    return ok;
  }

  /** A remote (other process's) running task whose newer record arrived. */
  protected replaceRemote(entry: TaskEntry, meta: PersistedTaskMeta): void {
    if (meta.status === 'running') return;
    this.registry.markTerminal(entry, true);
    entry.remote = false;
    entry.done = true;
    entry.delivered = true;
    entry.summary = Object.freeze(summaryFromMeta(meta));
    const waiters = entry.waiters;
    entry.waiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve(entry.summary);
    this.notify('updated', entry);
  }
}
