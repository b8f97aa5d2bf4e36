import type { TaskStore } from '../stores/types.js';
import { taskIdNumber } from '../wire/convert.js';

const FIRST_BLOCK = 64;
const MAX_BLOCK = 8192;

/**
 * Mints `bg_<n>` ids unique per store. Ids come from blocks the store hands out (`allocateIds`),
 * so several processes sharing a store never mint the same id; a store without `allocateIds` is
 * scanned once and the counter starts past its highest `bg_<n>`. While a block lasts, minting is
 * synchronous, which keeps a spawn's name check and id allocation atomic. The next block is
 * fetched in the background once about half of the current one is used, so with a remote store
 * a burst of spawns rarely waits for a round trip (at most one block of ids is left unused).
 */
export class IdAllocator {
  readonly #store: TaskStore;
  #next = 0;
  #end = 0;
  #blockSize = FIRST_BLOCK;
  #refill: Promise<void> | undefined;
  /** A block fetched ahead, used once the current one runs out. */
  #spare: { first: number; end: number } | undefined;
  /** Calls to `ensure` since the last block was sized: the spawns waiting for ids. */
  #asked = 0;

  constructor(store: TaskStore) {
    this.#store = store;
  }

  /** The next id, or `undefined` when a block must be fetched first (then call `take`). */
  tryTake(): string | undefined {
    if (!this.available()) return undefined;
    const id = `bg_${this.#next++}`;
    if (
      this.#end - this.#next <= this.#blockSize >> 2 &&
      this.#spare === undefined &&
      this.#refill === undefined &&
      this.#store.allocateIds !== undefined
    ) {
      // A failed fetch ahead is retried by the spawn that finds the block empty.
      this.ensure().catch(() => undefined);
    }
    return id;
  }

  /** Whether `tryTake` would mint an id now. */
  available(): boolean {
    if (this.#next < this.#end) return true;
    const spare = this.#spare;
    if (spare === undefined) return false;
    this.#spare = undefined;
    // A restore may have moved the counter into or past the spare block; never go backwards.
    if (spare.end <= this.#next) return false;
    this.#next = Math.max(this.#next, spare.first);
    this.#end = spare.end;
    return true;
  }

  /** Fetches the next block (one fetch at a time, shared by concurrent callers). */
  ensure(): Promise<void> {
    this.#asked++;
    this.#refill ??= this.#fetch().finally(() => {
      this.#refill = undefined;
    });
    return this.#refill;
  }

  /** Moves the counter past a restored id (`bg_10` → next is at least 11). */
  bumpPast(id: string): void {
    const n = taskIdNumber(id);
    if (n !== undefined && n >= this.#next) this.#next = n + 1;
  }

  async #fetch(): Promise<void> {
    const store = this.#store;
    if (store.allocateIds === undefined) {
      if (this.#end === Number.POSITIVE_INFINITY) return;
      for (const r of await store.load()) this.bumpPast(r.task_id);
      this.#end = Number.POSITIVE_INFINITY;
      return;
    }
    // A burst of spawns in one synchronous run all ask before the request goes out (one microtask
    // later): the block is sized for all of them, so the burst waits for one round trip, not one
    // per doubling.
    await undefined;
    let size = this.#blockSize;
    while (size < this.#asked && size < MAX_BLOCK) size *= 2;
    this.#asked = 0;
    this.#blockSize = Math.min(size * 2, MAX_BLOCK);
    const first = await store.allocateIds(size);
    // Fetched ahead: the current block is used up first.
    if (this.#next < this.#end) {
      this.#spare = { first, end: first + size };
      return;
    }
    // A restore may have moved the counter into or past this block; never go backwards.
    if (first + size > this.#next) {
      this.#next = Math.max(this.#next, first);
      this.#end = first + size;
    }
  }
}
