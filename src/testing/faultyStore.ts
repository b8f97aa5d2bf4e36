import { MemoryTaskStore } from '../stores/memory.js';
import type { PutResult, TaskStore } from '../stores/types.js';
import type { PersistedTaskMeta } from '../wire/types.js';

/** How a {@link FaultyTaskStore} misbehaves besides `down` and `failNext`. */
export interface FaultyTaskStoreOptions {
  /** The store that holds what gets through. Default: a new `MemoryTaskStore`. */
  inner?: TaskStore;
  /**
   * Rejects, on every attempt, any `put` holding a record this returns a reason for (a per-record
   * limit, say). The whole `put` fails, as an atomic store's would.
   */
  rejects?: (record: PersistedTaskMeta) => string | undefined;
  /** Rejects records whose JSON is longer than this many bytes (DynamoDB caps items at 400 KB). */
  maxRecordBytes?: number;
}

/** The error of a {@link FaultyTaskStore} that is down or told to fail. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'store_unavailable';
}

/**
 * A store for testing how an application copes with store faults: an outage (`down`), the next
 * few writes failing (`failNext`), records rejected forever (`rejects`, `maxRecordBytes`). What
 * gets through lands in `inner`. It counts every `put` (`attempts`) and failed one (`failures`).
 *
 * @example
 * const store = new FaultyTaskStore({ maxRecordBytes: 400_000 });
 * const supervisor = createTaskSupervisor({ store, stopTimeoutMs: 1_000 });
 * store.down = true;   // every put, load and id allocation fails until set back to false
 * store.failNext(2);   // or: the next two puts fail
 */
export class FaultyTaskStore implements TaskStore {
  /** Where accepted records land. */
  readonly inner: TaskStore;
  /** While true, every call fails with `StoreUnavailableError`. */
  down = false;
  /** Calls to `put`. */
  attempts = 0;
  /** Calls to `put` that failed. */
  failures = 0;
  #rejects: ((record: PersistedTaskMeta) => string | undefined) | undefined;
  #maxBytes: number;
  #failNext = 0;
  #failWhich: ((record: PersistedTaskMeta) => boolean) | undefined;

  constructor(options: FaultyTaskStoreOptions = {}) {
    this.inner = options.inner ?? new MemoryTaskStore();
    this.#rejects = options.rejects;
    this.#maxBytes = options.maxRecordBytes ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Makes the next `n` calls to `put` fail; with `which`, only calls holding a record it matches
   * fail (and count).
   *
   * @example
   * store.failNext(2); // the next two puts reject
   * store.failNext(1, (record) => record.status === 'completed');
   */
  failNext(n: number, which?: (record: PersistedTaskMeta) => boolean): void {
    this.#failNext = n;
    this.#failWhich = which;
  }

  /**
   * Ends every fault: back up, no injected failures, every record accepted.
   *
   * @example
   * store.heal();
   * await supervisor.stop(); // the backlog now drains
   */
  heal(): void {
    this.down = false;
    this.#failNext = 0;
    this.#rejects = undefined;
    this.#maxBytes = Number.POSITIVE_INFINITY;
  }

  /**
   * The reason this store rejects `record` forever, or `undefined` when it accepts it.
   *
   * @example
   * const reason = store.rejection(record); // undefined when the store would accept it
   */
  rejection(record: PersistedTaskMeta): string | undefined {
    const reason = this.#rejects?.(record);
    if (reason !== undefined) return reason;
    if (this.#maxBytes !== Number.POSITIVE_INFINITY) {
      const bytes = Buffer.byteLength(JSON.stringify(record));
      if (bytes > this.#maxBytes) return `record is ${bytes} bytes, over the ${this.#maxBytes}-byte limit`;
    }
    return undefined;
  }

  /**
   * Fails while down, for an injected failure, or when a record is rejected; else writes to `inner`.
   *
   * @example
   * await store.put([record]); // rejects while down or for an injected failure
   */
  async put(records: readonly PersistedTaskMeta[]): Promise<void | PutResult> {
    this.attempts++;
    try {
      this.#checkUp();
      const which = this.#failWhich;
      if (this.#failNext > 0 && (which === undefined || records.some(which))) {
        this.#failNext--;
        throw new StoreUnavailableError('store write failed (injected)');
      }
      for (const r of records) {
        const reason = this.rejection(r);
        if (reason !== undefined) throw new Error(`record '${r.task_id}' rejected: ${reason}`);
      }
    } catch (e) {
      this.failures++;
      throw e;
    }
    return this.inner.put(records);
  }

  /**
   * Reads `inner`; fails while down.
   *
   * @example
   * const records = await store.load('thread-1');
   */
  async load(threadId?: string): Promise<PersistedTaskMeta[]> {
    this.#checkUp();
    return this.inner.load(threadId);
  }

  /**
   * Allocates from `inner`; fails while down.
   *
   * @example
   * const first = await store.allocateIds(1);
   */
  async allocateIds(count: number): Promise<number> {
    this.#checkUp();
    if (this.inner.allocateIds === undefined) throw new TypeError('the inner store cannot allocate ids');
    return this.inner.allocateIds(count);
  }

  /**
   * Closes `inner`.
   *
   * @example
   * await store.close();
   */
  async close(): Promise<void> {
    await this.inner.close?.();
  }

  #checkUp(): void {
    if (this.down) throw new StoreUnavailableError('store is down (injected outage)');
  }
}
