import type { SharedSlots } from '../stores/coordination.js';
import type { TaskEntry } from './entry.js';

/** How long a task waiting for a shared slot sleeps at most before it asks again (no notification came). */
const RETRY_MS = 250;

/** One attempt to take a task's shared slot; replaced (not reused) when the task asks again. */
interface Claim {
  held: boolean;
}

/**
 * The `concurrency.perType` limits held across replicas (a store with shared slots). A task of a
 * limited type that got its local slot then takes one of its type's shared slots before its body
 * starts or resumes, holding the local slot meanwhile; it gives the shared slot back wherever it
 * gives the local one back (waiting for input, ended).
 */
export class SharedLimits {
  readonly #slots: SharedSlots;
  readonly #perType: ReadonlyMap<string, number>;
  readonly #claims = new Map<TaskEntry, Claim>();
  /** Releases in flight: a new claim of the same task waits for its last release to land. */
  readonly #releasing = new Map<TaskEntry, Promise<void>>();

  constructor(slots: SharedSlots, perType: ReadonlyMap<string, number>) {
    this.#slots = slots;
    this.#perType = perType;
  }

  /** Whether the task's type has a shared limit. */
  applies(entry: TaskEntry): boolean {
    return this.#perType.has(entry.summary.task_type);
  }

  /** Takes the task's shared slot, then calls `then` — unless the task let go first (`release`). */
  acquire(entry: TaskEntry, then: () => void): void {
    const claim: Claim = { held: false };
    this.#claims.set(entry, claim);
    void this.#loop(entry, claim, then);
  }

  async #loop(entry: TaskEntry, claim: Claim, then: () => void): Promise<void> {
    const type = entry.summary.task_type;
    const limit = this.#perType.get(type)!;
    await this.#releasing.get(entry);
    for (;;) {
      let taken = false;
      try {
        taken = await this.#slots.tryAcquire(`type:${type}`, limit, entry.id);
      } catch {
        // The database is unreachable for now: ask again after the pause.
      }
      if (this.#claims.get(entry) !== claim) {
        if (taken) void this.#slots.release(entry.id).catch(() => undefined);
        return;
      }
      if (taken) {
        claim.held = true;
        then();
        return;
      }
      await this.#slots.changed(RETRY_MS);
      if (this.#claims.get(entry) !== claim) return;
    }
  }

  /** The task gives its shared slot back, or stops waiting for one. */
  release(entry: TaskEntry): void {
    const claim = this.#claims.get(entry);
    if (claim === undefined) return;
    this.#claims.delete(entry);
    if (!claim.held) return;
    const done = this.#slots
      .release(entry.id)
      .catch(() => undefined)
      .then(() => {
        if (this.#releasing.get(entry) === done) this.#releasing.delete(entry);
      });
    this.#releasing.set(entry, done);
  }
}
