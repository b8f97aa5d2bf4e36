import type { PersistedTaskMeta } from '../wire/types.js';
import type { MessageOutboxStore } from './outbox.js';
import type { TaskCoordination } from './coordination.js';
import type { DurableTaskStore } from './durable.js';

/**
 * Where a supervisor keeps task records. Memory is the source of truth while a process lives;
 * the store is the source after a restart.
 *
 * Guarantees a store must give (checked by `storeConformance` in `awaken-tasks/testing`):
 * `put` upserts by `task_id`, is atomic (all records or none) and durable once it resolves;
 * `load` returns every record, or one owner thread's; `allocateIds` never hands out a number that
 * another caller got or that a stored `bg_<n>` record already has.
 */
export interface TaskStore {
  /**
   * Upserts `records`. A store that fences status changes (only a `running` row under the
   * writer's ownership may change) resolves with the records it refused, each as it now holds it.
   *
   * @example
   * const result = await store.put([record]);
   * if (result?.refused.length) console.warn('another writer owns', result.refused[0]?.task_id);
   */
  put(records: readonly PersistedTaskMeta[]): Promise<void | PutResult>;
  /**
   * Every stored record, or only those owned by `threadId`.
   *
   * @example
   * const records = await store.load('thread-1');
   */
  load(threadId?: string): Promise<PersistedTaskMeta[]>;
  /**
   * Reserves `count` ids and returns the first `n` of the block.
   *
   * @example
   * const first = await store.allocateIds?.(64); // ids bg_<first> … bg_<first + 63> are yours
   */
  allocateIds?(count: number): Promise<number>;
  /**
   * For stores shared by several processes: the ids, among `records`, of `running` tasks whose
   * writer is another process that still holds its lease. `loadThread` does not orphan those.
   * A store without it has a single writer, so every `running` record it loads is an orphan.
   *
   * @example
   * const busy = await store.liveElsewhere?.(await store.load('thread-1'));
   */
  liveElsewhere?(records: readonly PersistedTaskMeta[]): Promise<ReadonlySet<string>>;
  /**
   * Removes the records with these ids (unknown ids are ignored). Used by `prune` to give memory back.
   *
   * @example
   * await store.delete?.(['bg_1', 'bg_2']);
   */
  delete?(taskIds: readonly string[]): Promise<void>;
  /**
   * Releases the store's resources (file handles, pool, lease); the store is unusable after.
   *
   * @example
   * await store.close?.();
   */
  close?(): Promise<void>;
  /** Durable agent messaging: the outbox, dead letters and reference mailbox kept in this store. */
  readonly messages?: MessageOutboxStore;
  /**
   * Durable task rows (input, attempts, steps, idempotency keys). A store without it still runs
   * durable tasks, with their rows in the supervisor's memory: retryable, not resumable.
   */
  readonly durable?: DurableTaskStore;
  /**
   * For stores shared by several live processes (replicas): ownership, control and events routed
   * through the store. Absent on single-process stores, which then pay nothing for it.
   */
  readonly coordination?: TaskCoordination;
  /**
   * How many `put` calls the store accepts before the first resolves, for a store that applies
   * puts in the order they were called (a later put never lands before an earlier one, even when
   * an earlier one fails). The supervisor then keeps up to this many puts in flight. Absent (or
   * 1): one at a time.
   *
   * @example
   * const inFlight = store.pipelinedPuts ?? 1;
   */
  readonly pipelinedPuts?: number;
}

/** What a fencing store's `put` reports: the records it refused, each as the store now holds it. */
export interface PutResult {
  readonly refused: readonly PersistedTaskMeta[];
  /**
   * Records not written for a reason of their own (the others were): a new `running` record whose
   * name a running task of its thread already has, or whose run was cancelled. By task id.
   */
  readonly rejected?: ReadonlyMap<string, Error>;
}

/** A record a store could not read, reported by `loadThread` and stores' `loadReport`. */
export interface CorruptRecord {
  readonly task_id: string;
  readonly reason: string;
}
