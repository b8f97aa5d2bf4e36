import type { PersistedTaskMeta } from '../wire/types.js';
import { taskIdNumber } from '../wire/convert.js';
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

  async put(records: readonly PersistedTaskMeta[]): Promise<void> {
    this.#assertOpen();
    const copies = records.map((r) => structuredClone(r));
    for (const r of copies) {
      this.#records.set(r.task_id, r);
      const n = taskIdNumber(r.task_id);
      if (n !== undefined && n >= this.#nextId) this.#nextId = n + 1;
    }
  }

  async load(threadId?: string): Promise<PersistedTaskMeta[]> {
    this.#assertOpen();
    const out: PersistedTaskMeta[] = [];
    for (const r of this.#records.values()) {
      if (threadId === undefined || r.owner_thread_id === threadId) out.push(structuredClone(r));
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

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('store is closed');
  }
}
