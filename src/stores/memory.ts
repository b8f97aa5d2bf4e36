import type { PersistedTaskMeta } from '../wire/types.js';
import { taskIdNumber } from '../wire/convert.js';
import { MemoryMessageOutbox } from './memoryOutbox.js';
import { MemoryDurableStore } from './memoryDurable.js';
import type { TaskStore } from './types.js';

/**
 * The default store: records kept in this process's memory (nothing survives a restart).
 * Records are copied on the way in and out, so callers cannot alter what it holds.
 *
 * @example
 * const supervisor = createTaskSupervisor({ store: new MemoryTaskStore() });
 */
export class MemoryTaskStore implements TaskStore {
  readonly #records = new Map<string, PersistedTaskMeta>();
  #nextId = 0;
  #closed = false;
  /** The outbox, dead letters and reference mailbox, in memory like the records. */
  readonly messages: MemoryMessageOutbox = new MemoryMessageOutbox(() => this.#assertOpen());
  /** Durable task rows, in memory like the records: retryable, not resumable. */
  readonly durable: MemoryDurableStore = new MemoryDurableStore();

  async put(records: readonly PersistedTaskMeta[]): Promise<void> {
    this.#assertOpen();
    const copies = records.map(frozenCopy);
    for (const r of copies) {
      this.#records.set(r.task_id, r);
      const n = taskIdNumber(r.task_id);
      if (n !== undefined && n >= this.#nextId) this.#nextId = n + 1;
    }
  }

  /**
   * Copies of every record, or of those owned by `threadId`.
   *
   * @example
   * const records = await store.load('thread-1');
   */
  async load(threadId?: string): Promise<PersistedTaskMeta[]> {
    this.#assertOpen();
    const out: PersistedTaskMeta[] = [];
    for (const r of this.#records.values()) {
      if (threadId === undefined || r.owner_thread_id === threadId) out.push({ ...r });
    }
    return out;
  }

  async allocateIds(count: number): Promise<number> {
    this.#assertOpen();
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new TypeError(`Expected \`count\` to be a positive integer, got ${String(count)}`);
    }
    const first = this.#nextId;
    this.#nextId += count;
    return first;
  }

  /**
   * Removes the records with these ids (unknown ids are ignored); their ids are never handed out again.
   *
   * @example
   * await store.delete(['bg_0', 'bg_1']);
   */
  async delete(taskIds: readonly string[]): Promise<void> {
    this.#assertOpen();
    if (!Array.isArray(taskIds) || !taskIds.every((id) => typeof id === 'string')) {
      throw new TypeError(`Expected \`taskIds\` to be an array of strings, got ${typeof taskIds}`);
    }
    for (const id of taskIds) this.#records.delete(id);
  }

  /**
   * Closes the store: later calls reject, as a durable store's would.
   *
   * @example
   * await store.close();
   */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('store is closed');
  }
}

/**
 * A copy the store can keep and hand out: the record and its parent context are copied, a
 * result is cloned unless it is already frozen (the supervisor's results are: it freezes
 * summaries), and everything is frozen so a caller's later change cannot reach the store.
 */
function frozenCopy(r: PersistedTaskMeta): PersistedTaskMeta {
  // The supervisor hands over frozen records: nothing can change them, so keep them as they are.
  if (
    Object.isFrozen(r) &&
    Object.isFrozen(r.parent_context) &&
    (r.result === undefined || Object.isFrozen(r.result))
  ) {
    return r;
  }
  const copy: PersistedTaskMeta = { ...r, parent_context: Object.freeze({ ...r.parent_context }) };
  if (
    r.result !== undefined &&
    typeof r.result === 'object' &&
    r.result !== null &&
    !Object.isFrozen(r.result)
  ) {
    copy.result = deepFreeze(structuredClone(r.result));
  }
  return Object.freeze(copy);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
