/**
 * A hand-moved timer clock for the model-based suite: like XState's `SimulatedClock`, but timers
 * due at the same instant fire in the order they were set, so a run is reproducible.
 */
import type { TimerClock } from '../supervisor/options.js';

interface Timer {
  readonly id: number;
  readonly due: number;
  readonly fn: (...args: unknown[]) => void;
}

/**
 * Timers that fire only when `advance` moves the time past them, earliest first (ties: the
 * order they were set). Pass it as the supervisor's `clock`, with `now: () => timers.now()`.
 *
 * @example
 * const timers = new ManualTimers(1_000);
 * const supervisor = createTaskSupervisor({ clock: timers, now: () => timers.now() });
 * timers.advance(5_000); // fires every deadline and grace timer due by then
 */
export class ManualTimers implements TimerClock {
  #now: number;
  #next = 0;
  readonly #timers = new Map<number, Timer>();

  constructor(start = 0) {
    this.#now = start;
  }

  /**
   * The current time, in milliseconds.
   *
   * @example
   * const timers = new ManualTimers(1_000);
   * timers.now(); // 1000
   */
  now(): number {
    return this.#now;
  }

  /**
   * Schedules `fn` at `now() + ms`; returns its handle.
   *
   * @example
   * timers.setTimeout(() => console.log('fired'), 500);
   */
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { id, due: this.#now + ms, fn });
    return id;
  }

  /**
   * Cancels a timer that has not fired.
   *
   * @example
   * const handle = timers.setTimeout(() => undefined, 500);
   * timers.clearTimeout(handle);
   */
  clearTimeout(id: unknown): void {
    this.#timers.delete(id as number);
  }

  /**
   * Moves the time forward by `ms`, firing each timer due by then (one set while firing, too).
   *
   * @example
   * const timers = new ManualTimers();
   * const supervisor = createTaskSupervisor({ clock: timers, now: () => timers.now() });
   * timers.advance(5_000); // deadlines and grace timers due by then fire
   */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let first: Timer | undefined;
      for (const t of this.#timers.values()) {
        if (t.due <= until && (first === undefined || t.due < first.due)) first = t;
      }
      if (first === undefined) break;
      this.#timers.delete(first.id);
      this.#now = Math.max(this.#now, first.due);
      first.fn();
    }
    this.#now = until;
  }
}
