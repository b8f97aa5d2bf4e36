import { DEADLINE_EVENT, GRACE_EVENT, type TaskTimerEvent } from '../../machines/task.machine.js';
import type { GraceBatch, TaskEntry } from './entry.js';
import type { TimerClock } from './options.js';

/** What the task timers need from the task runner. */
export interface TimerHost {
  /** Sends the task's actor a timer event the way every event reaches it (nothing once it is final). */
  send(entry: TaskEntry, event: TaskTimerEvent): void;
}

const DEADLINE: TaskTimerEvent = Object.freeze({ type: DEADLINE_EVENT });
const GRACE: TaskTimerEvent = Object.freeze({ type: GRACE_EVENT });

/**
 * The supervisor's timers of task actors, on its clock: a deadline per task that has one, and one
 * grace timer per cancel batch (the tasks one cancel operation moved to `cancelling` together).
 */
export class TaskTimers {
  readonly #host: TimerHost;
  readonly #clock: TimerClock;
  readonly #grace: number;
  /** The grace batch being filled by the cancel operation now running (see {@link cancelBatch}). */
  #openBatch: GraceBatch | undefined;

  constructor(host: TimerHost, clock: TimerClock, grace: number) {
    this.#host = host;
    this.#clock = clock;
    this.#grace = grace;
  }

  /** The clock the timers run on. */
  get clock(): TimerClock {
    return this.#clock;
  }

  /** Arms (or re-arms) the task's deadline: `ms` from now it is sent the deadline event. */
  armDeadline(entry: TaskEntry, ms: number): void {
    this.disarmDeadline(entry);
    entry.deadline = this.#clock.setTimeout(() => {
      entry.deadline = undefined;
      // The timed-out task and the subtree it cancels share one grace timer.
      this.cancelBatch(() => this.#host.send(entry, DEADLINE));
    }, ms);
  }

  /** Disarms the task's deadline, if one is armed. */
  disarmDeadline(entry: TaskEntry): void {
    if (entry.deadline !== undefined) {
      this.#clock.clearTimeout(entry.deadline);
      entry.deadline = undefined;
    }
  }

  /**
   * Runs `fn` (a cancel operation) with one grace timer for every task it moves to `cancelling`,
   * armed when it returns. A task cancelled outside a batch gets a timer of its own.
   */
  cancelBatch<T>(fn: () => T): T {
    if (this.#openBatch !== undefined) return fn();
    const batch: GraceBatch = { members: [], pending: 0, timer: undefined };
    this.#openBatch = batch;
    try {
      return fn();
    } finally {
      this.#openBatch = undefined;
      if (batch.pending > 0) batch.timer = this.#startGrace(batch);
    }
  }

  /** The task entered `cancelling`: it joins the open batch, or gets a grace timer of its own. */
  armGrace(entry: TaskEntry): void {
    const open = this.#openBatch;
    const batch = open ?? { members: [], pending: 0, timer: undefined };
    batch.members.push(entry);
    batch.pending++;
    entry.grace = batch;
    if (open === undefined) batch.timer = this.#startGrace(batch);
  }

  #startGrace(batch: GraceBatch): unknown {
    return this.#clock.setTimeout(() => {
      batch.timer = undefined;
      for (const entry of batch.members) if (!entry.done) this.#host.send(entry, GRACE);
    }, this.#grace);
  }

  /** Disarms a finished task's timers: its deadline, and its batch's grace timer once all are done. */
  clear(entry: TaskEntry): void {
    this.disarmDeadline(entry);
    const batch = entry.grace;
    if (batch !== undefined) {
      entry.grace = undefined;
      if (--batch.pending === 0 && batch.timer !== undefined) {
        this.#clock.clearTimeout(batch.timer);
        batch.timer = undefined;
      }
    }
  }
}
