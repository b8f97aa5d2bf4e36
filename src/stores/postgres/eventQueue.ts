import type { TaskEvent, TaskId } from '../../wire/types.js';
import type { TakenEvent } from '../coordination.js';
import { type EventToStore, insertEvents } from './appendEvents.js';
import type { FenceState } from './fencedPut.js';
import { backoff, MAX_BACKLOG } from './retry.js';

type PendingEvent = EventToStore & {
  resolve: (taken: TakenEvent | undefined) => void;
  reject: (e: unknown) => void;
};

/**
 * The custom events of this process on their way to the events table: events emitted in one tick
 * are stored in one statement, in order, behind earlier ones. A write that fails is retried like a
 * record (50 ms doubling to 1 s) with everything after it waiting, so a task's events keep their
 * order; at most {@link MAX_BACKLOG} wait, and the store's close gives up the rest.
 */
export class EventQueue {
  /** Serializes appends (and what must follow them), so a task's events keep their order. */
  #chain: Promise<unknown> = Promise.resolve();
  #pending: PendingEvent[] = [];
  /** Every event not yet stored (queued, in flight, or waiting for a retry), in order. */
  readonly #unstored = new Set<PendingEvent>();
  /** Events refused (backlog full) or given up (their task orphaned first). */
  dropped = 0;
  #closing = false;
  /** Tasks this process lost with an ended epoch while their events waited: those events are dropped. */
  readonly #revoked = new Set<TaskId>();
  /** The order of the last event appended: with the epoch at append, each event's key. */
  #order = 0;

  constructor(private readonly fence: FenceState) {}

  /** Events not yet stored. */
  get size(): number {
    return this.#unstored.size;
  }

  /** The events not yet stored, in order. */
  unstored(): TaskEvent[] {
    return Array.from(this.#unstored, (p) => p.event);
  }

  /** Settles once the appends queued so far (and `after` work) are done. */
  appended(): Promise<unknown> {
    return this.#chain;
  }

  /** Runs `op` after the appends queued so far. */
  after(op: () => Promise<unknown>): void {
    this.#chain = this.#chain.then(op).catch(() => undefined);
  }

  /** Gives up every event still unstored (the store closes). */
  close(): void {
    this.#closing = true;
  }

  /** These tasks were orphaned: events of theirs still waiting are dropped. */
  revoked(ids: readonly TaskId[]): void {
    if (this.#unstored.size > 0) for (const id of ids) this.#revoked.add(id);
  }

  append(threadId: string, event: TaskEvent): Promise<TakenEvent | undefined> {
    if (this.#unstored.size >= MAX_BACKLOG || this.#closing) {
      this.dropped++;
      return Promise.reject(
        new Error(this.#closing ? 'store is closed' : `${MAX_BACKLOG} events wait to be stored already`),
      );
    }
    return new Promise((resolve, reject) => {
      const first = this.#pending.length === 0;
      const pending: PendingEvent = {
        threadId,
        event,
        local: this.fence.localInbox.get(event.task_id),
        key: `${this.fence.epoch()}:${++this.#order}`,
        order: this.#order,
        resolve,
        reject,
      };
      this.#pending.push(pending);
      this.#unstored.add(pending);
      // Events emitted in one tick are stored in one statement, in order, behind earlier appends.
      if (first) queueMicrotask(() => this.#flush());
    });
  }

  #flush(): void {
    let batch = this.#pending;
    this.#pending = [];
    const run = this.#chain.then(async () => {
      // Retried like records: in order (later appends and puts wait behind), until stored or closed.
      for (let attempt = 0; ; attempt++) {
        // A task orphaned meanwhile has its terminal event stored: its later events would follow it.
        if (this.#revoked.size > 0) batch = batch.filter((p) => !this.#dropRevoked(p));
        if (batch.length === 0) return;
        try {
          const taken = await insertEvents(this.fence.pool, this.fence.names, this.fence.epoch(), batch);
          for (let i = 0; i < batch.length; i++) {
            this.#unstored.delete(batch[i]!);
            batch[i]!.resolve(taken[i]);
          }
          return;
        } catch (e) {
          if (this.#closing) {
            for (const p of batch) {
              this.#unstored.delete(p);
              p.reject(e);
            }
            return;
          }
          await backoff(attempt);
        }
      }
    });
    this.#chain = run.catch(() => undefined);
  }

  #dropRevoked(p: PendingEvent): boolean {
    if (!this.#revoked.has(p.event.task_id)) return false;
    this.#unstored.delete(p);
    this.dropped++;
    p.reject(
      new Error(
        `task ${p.event.task_id} was orphaned (this replica's epoch ended) before its event was stored`,
      ),
    );
    if (this.#unstored.size === 0) this.#revoked.clear();
    return true;
  }
}
