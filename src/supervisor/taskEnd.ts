import type {
  StopReason,
  TaskFinalState,
  TaskMachineEvent,
  TaskTimerEvent,
} from '../../machines/task.machine.js';
import type { TaskStore } from '../stores/types.js';
import type { TaskEvent } from '../wire/types.js';
import { markTimedOut } from './deadline.js';
import { lastEventOf, type TaskEntry } from './entry.js';
import { resolveWaiters } from './wait.js';
import type { FlowControl } from './flowControl.js';
import { keepPayloadShape } from './payloadShapes.js';
import { finish } from './lifecycle.js';
import { terminalEventOf } from '../wire/convert.js';
import type { TimerClock } from './options.js';
import { SupervisorQueries } from './queries.js';
import type { Registry } from './registry.js';
import type { ReplicaLink } from './replicas.js';
import { TaskTimers } from './taskTimers.js';

/**
 * The way every event reaches a task's actor, and the task's end once its actor is final: the
 * terminal summary, its store write, the terminal event's delivery (or a durable task's suspension
 * at shutdown). The timers that end tasks (deadline, grace batches) run here too.
 */
export abstract class TaskEnd extends SupervisorQueries {
  /**
   * Set when the store coordinates several replicas; `undefined` keeps the single-process path.
   * Held once, on the emit route (which `ctx.emit` reads), so the two paths cannot disagree.
   */
  protected get replicas(): ReplicaLink | undefined {
    return this.route.replicas;
  }
  /** Tasks the grace timer settled (their body did not return in time), for stop reports. */
  protected readonly forceSettled = new WeakSet<TaskEntry>();
  /** The deadline and grace timers of task actors. */
  protected readonly taskTimers: TaskTimers;
  /** Queues, input, usage and budgets. */
  protected abstract readonly flow: FlowControl;

  constructor(registry: Registry, store: TaskStore, now: () => number, grace: number, clock: TimerClock) {
    super(registry, store, now);
    this.taskTimers = new TaskTimers({ send: (entry, event) => this.sendEvent(entry, event) }, clock, grace);
  }

  /** See {@link TaskTimers.cancelBatch}: one grace timer for the tasks `fn` cancels. */
  protected cancelBatch<T>(fn: () => T): T {
    return this.taskTimers.cancelBatch(fn);
  }

  /**
   * Sends `event` to the task's actor and, if that took it to a final state, finishes the task.
   * Every event that can end a task goes through here: the machine's final states have no action,
   * the supervisor reads the state once the transition is done.
   */
  protected sendEvent(entry: TaskEntry, event: TaskMachineEvent | TaskTimerEvent): void {
    const actor = entry.actor;
    // A final actor takes nothing more (its final state is being, or was, handled).
    if (actor === undefined || actor.getSnapshot().status !== 'active') return;
    actor.send(event);
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'done') return;
    const context = snapshot.context;
    this.#onFinal(
      entry,
      snapshot.value as TaskFinalState,
      event,
      context.timedOut === true ? context.timeoutMs : undefined,
      context.stopReason,
    );
  }

  #onFinal(
    entry: TaskEntry,
    status: TaskFinalState,
    event: TaskMachineEvent | { type: string },
    timedOutAfterMs?: number,
    stopReason?: StopReason,
  ): void {
    if (entry.done) return;
    // Its slot (or its place in the queue) is free as soon as the task is final.
    if (entry.flow !== undefined) this.flow.onFinal(entry);
    if (!entry.committed) {
      // The grace timer ran out before the spawn's record was durable: finish once it is, or never
      // if the write fails (then the task never existed).
      entry.earlyFinal = () => this.#onFinal(entry, status, event, timedOutAfterMs, stopReason);
      return;
    }
    if (status === 'cancelled' && stopReason === 'shutdown' && entry.summary.max_attempts !== undefined) {
      // A durable task stopped by `stop()` is not cancelled: it stays `running` in the store for
      // the next process to take up (its row says where it was).
      this.#suspend(entry);
      return;
    }
    entry.done = true;
    entry.actor = undefined;
    this.taskTimers.clear(entry);
    // Its latest event keeps its payload's hidden class for the next task's emit path.
    const last = lastEventOf(entry);
    if (last !== undefined) keepPayloadShape(last.payload);
    // Settled by the grace timer, not by its body.
    if (event.type !== 'task.settled' && event.type !== 'task.cancel') this.forceSettled.add(entry);
    const { summary, event: terminal } = finish(entry.summary, status, event, this.now(), stopReason);
    this.registry.markTerminal(entry);
    const final = timedOutAfterMs === undefined ? summary : markTimedOut(summary, timedOutAfterMs);
    entry.summary = final;
    entry.cancelWaiters = undefined;
    // A finished sub-agent takes no more messages; its children's late events are undelivered.
    entry.agentInbox?.receiver.close();
    this.notify('updated', entry);
    this.writer.write(this.metaOf(entry), true, (error) =>
      // A fencing store may have refused the write: then the event reports the store's record.
      this.#deliverTerminal(
        entry,
        entry.summary === final ? terminal : terminalEventOf(entry.summary),
        error !== undefined,
      ),
    );
  }

  #deliverTerminal(entry: TaskEntry, event: TaskEvent | undefined, writeFailed = false): void {
    entry.delivered = true;
    if (event !== undefined) {
      this.observe(event, entry.ownerThreadId);
      if (this.replicas !== undefined) this.replicas.deliverTerminal(entry, writeFailed);
      else if (entry.inbox !== undefined) this.deliver(entry.inbox, event);
    }
    resolveWaiters(entry);
    this.idle.ended(entry.ownerThreadId, entry.summary);
  }

  /** Ends a durable task's life in this process without an outcome (see `#onFinal`). */
  #suspend(entry: TaskEntry): void {
    entry.done = true;
    entry.actor = undefined;
    // Its deadline and its share of the stop's grace timer end here, as a final state's do.
    this.taskTimers.clear(entry);
    this.registry.markTerminal(entry);
    entry.cancelWaiters = undefined;
    entry.delivered = true;
    resolveWaiters(entry);
  }
}
