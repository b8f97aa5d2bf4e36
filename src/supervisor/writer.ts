import type { PutResult, TaskStore } from '../stores/types.js';
import type { PersistedTaskMeta, TaskId } from '../wire/types.js';

type Done = (error?: unknown) => void;

interface Pending {
  meta: PersistedTaskMeta;
  /** Retried after a failed put (terminal and restored records); a spawn's record is not. */
  retry: boolean;
  /** One callback (the common case) or several; no array per record unless needed. */
  done: Done | Done[] | undefined;
}

const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 5_000;

/**
 * The supervisor's write path. Writes made in one tick are coalesced into one `put` (group
 * commit); one `put` is in flight at a time, so a later version of a record never lands before
 * an earlier one; a newer version of a pending record replaces it. A failed `put` is counted,
 * reported to each write's callback, and retried with backoff for records that must reach the
 * store eventually (memory stays the source of truth meanwhile).
 */
export class StoreWriter {
  readonly #store: TaskStore;
  #pending = new Map<TaskId, Pending>();
  #inFlight: Promise<void> | undefined;
  #scheduled = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryDelay = RETRY_BASE_MS;
  failures = 0;
  /** Called with the records a fencing store refused (as it holds them), before their callbacks. */
  onRefused: ((rows: readonly PersistedTaskMeta[]) => void) | undefined;

  constructor(store: TaskStore) {
    this.#store = store;
  }

  /** Queues `meta`; `done` runs once the put holding it (or a newer version) was attempted. */
  write(meta: PersistedTaskMeta, retry: boolean, done?: Done): void {
    const prev = this.#pending.get(meta.task_id);
    if (prev === undefined) {
      this.#pending.set(meta.task_id, { meta, retry, done });
    } else {
      prev.meta = meta;
      prev.retry ||= retry;
      if (done) {
        const d = prev.done;
        if (d === undefined) prev.done = done;
        else if (typeof d === 'function') prev.done = [d, done];
        else d.push(done);
      }
    }
    this.#schedule();
  }

  /** Like `write`, resolving when durable and rejecting with the store's error. */
  writeDurable(meta: PersistedTaskMeta, retry: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.write(meta, retry, (error) => (error === undefined ? resolve() : reject(error)));
    });
  }

  /** Attempts every pending write once more (no backoff) and waits for it. */
  async flush(): Promise<void> {
    if (this.#retryTimer !== undefined) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    }
    while (this.#inFlight !== undefined) await this.#inFlight;
    if (this.#pending.size > 0) await this.#run(false);
  }

  #schedule(): void {
    if (this.#scheduled || this.#retryTimer !== undefined) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      void this.#kick();
    });
  }

  async #kick(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight;
    if (this.#pending.size > 0 && this.#retryTimer === undefined) await this.#run(true);
  }

  #run(scheduleRetry: boolean): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    const records = Array.from(batch.values(), (p) => p.meta);
    const attempt = (async () => {
      let error: unknown;
      let result: void | PutResult | undefined;
      try {
        result = await this.#store.put(records);
      } catch (e) {
        error = e ?? new Error('store put failed');
      }
      if (result !== undefined && result.refused.length > 0) this.onRefused?.(result.refused);
      const rejected = result?.rejected;
      if (error === undefined) this.#retryDelay = RETRY_BASE_MS;
      else this.failures++;
      for (const p of batch.values()) {
        const done = p.done;
        p.done = undefined;
        const e = error ?? rejected?.get(p.meta.task_id);
        if (typeof done === 'function') done(e);
        else if (done !== undefined) for (const d of done) d(e);
        // Requeue unless a newer version is already waiting.
        if (error !== undefined && p.retry && !this.#pending.has(p.meta.task_id))
          this.#pending.set(p.meta.task_id, p);
      }
      if (error !== undefined && scheduleRetry && this.#pending.size > 0) this.#scheduleRetry();
    })();
    this.#inFlight = attempt.finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  #scheduleRetry(): void {
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(delay * 2, RETRY_MAX_MS);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#kick();
    }, delay);
    // Retrying must not keep an otherwise finished process alive.
    this.#retryTimer.unref?.();
  }
}
