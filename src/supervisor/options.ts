import { MemoryTaskStore } from '../stores/memory.js';
import type { TaskStore } from '../stores/types.js';
import type { SupervisorOptions } from './types.js';

const DEFAULT_GRACE_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const MAX_TIMER_MS = 2_147_483_647;
const NEVER = Symbol('never');

/**
 * XState's clock, except that a delay no timer can hold (`Infinity`, or past setTimeout's 32-bit
 * range, which Node would fire after 1 ms) is never scheduled: `cancelGraceMs: Infinity` means
 * "wait for the body forever", as upstream does.
 */
export const clock = boundedClock({
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
});

/**
 * The timers XState schedules delays with — the cancel grace and `timeoutMs` deadlines. XState's
 * `SimulatedClock` is one; so is the testing kit's `ManualTimers`.
 *
 * @example
 * const clock = new SimulatedClock();
 * const supervisor = createTaskSupervisor({ clock, now: () => clock.now() });
 * clock.increment(5_000); // fires the deadlines and grace timers due by then
 */
export interface TimerClock {
  /**
   * Calls `fn` after `ms` milliseconds; returns a handle for `clearTimeout`.
   *
   * @example
   * const handle = clock.setTimeout(() => console.log('due'), 1_000);
   */
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown;
  /**
   * Cancels a timer `setTimeout` returned.
   *
   * @example
   * clock.clearTimeout(handle);
   */
  clearTimeout(id: unknown): void;
}

/**
 * `base`, except that a delay no timer can hold is never scheduled (see {@link clock}).
 *
 * @example
 * const timers = boundedClock(new SimulatedClock());
 * timers.setTimeout(() => {}, Infinity); // never scheduled
 */
export function boundedClock(base: TimerClock): TimerClock {
  return {
    setTimeout: (fn, ms) => (ms > MAX_TIMER_MS ? NEVER : base.setTimeout(fn, ms)),
    clearTimeout: (id) => {
      if (id !== NEVER) base.clearTimeout(id);
    },
  };
}

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly store: TaskStore;
  readonly now: () => number;
  readonly cancelGraceMs: number;
  /** The timers of task actors (grace, deadlines). */
  readonly clock: TimerClock;
  readonly stopTimeoutMs: number;
}

/** Applies the defaults; throws `TypeError` for an option of the wrong type. */
export function resolveOptions(options: SupervisorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `Expected \`options\` to be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const store = options.store ?? new MemoryTaskStore();
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.put !== 'function' ||
    typeof store.load !== 'function'
  ) {
    throw new TypeError(
      `Expected \`store\` to be a TaskStore (put and load), got ${store === null ? 'null' : typeof store}`,
    );
  }
  // Across replicas, times are compared on the database clock: a coordinating store supplies it.
  const coordination = (store as Partial<TaskStore>).coordination;
  const storeNow = typeof coordination?.now === 'function' ? coordination.now.bind(coordination) : undefined;
  const userNow = options.now ?? storeNow ?? Date.now;
  if (typeof userNow !== 'function')
    throw new TypeError(`Expected \`now\` to be a function, got ${typeof userNow}`);
  // A clock that throws or returns garbage must not strand a task half-finished inside an XState
  // action: such a reading falls back to Date.now().
  const now = (): number => {
    try {
      const t = userNow();
      if (Number.isFinite(t)) return t;
    } catch {}
    return Date.now();
  };
  const cancelGraceMs = options.cancelGraceMs ?? DEFAULT_GRACE_MS;
  if (typeof cancelGraceMs !== 'number' || !(cancelGraceMs >= 0)) {
    throw new TypeError(
      `Expected \`cancelGraceMs\` to be a non-negative number, got ${String(cancelGraceMs)}`,
    );
  }
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  if (typeof stopTimeoutMs !== 'number' || !(stopTimeoutMs >= 0) || stopTimeoutMs > MAX_TIMER_MS) {
    throw new TypeError(
      `Expected \`stopTimeoutMs\` to be a non-negative number of milliseconds, got ${String(stopTimeoutMs)}`,
    );
  }
  const inbox = options.ownerInbox as { send?: unknown } | undefined;
  if (
    inbox !== undefined &&
    (typeof inbox !== 'object' || inbox === null || typeof inbox.send !== 'function')
  ) {
    throw new TypeError(
      `Expected \`ownerInbox\` to be an InboxSender, got ${inbox === null ? 'null' : typeof inbox}`,
    );
  }
  const timers = options.clock as Partial<TimerClock> | undefined;
  if (
    timers !== undefined &&
    (typeof timers !== 'object' ||
      timers === null ||
      typeof timers.setTimeout !== 'function' ||
      typeof timers.clearTimeout !== 'function')
  ) {
    throw new TypeError(
      `Expected \`clock\` to have setTimeout and clearTimeout, got ${timers === null ? 'null' : typeof timers}`,
    );
  }
  return {
    store,
    now,
    cancelGraceMs,
    stopTimeoutMs,
    clock: timers === undefined ? clock : boundedClock(timers as TimerClock),
  };
}
