import type { StopReason, TaskMachineEvent } from '../../machines/task.machine.js';
import { runAsTask } from '../lineage/lineage.js';
import type { TaskStore } from '../stores/types.js';
import type { Json, TaskId } from '../wire/types.js';
import { cancelTree } from './cancel.js';
import { CANCEL_REASON, type ContextHost, PlainTaskContext, SubAgentContext } from './context.js';
import { timeoutReason } from './deadline.js';
import { emitCustom } from './emitRoute.js';
import type { TaskEntry } from './entry.js';
import { FlowControl, type FlowOptions } from './flowControl.js';
import type { RequestInputOptions } from './input.js';
import { errorMessage, outcomeOf } from './lifecycle.js';
import type { TimerClock } from './options.js';
import type { Registry } from './registry.js';
import { TaskActors } from './taskActors.js';
import { TaskEnd } from './taskEnd.js';

const START: TaskMachineEvent = Object.freeze({ type: 'task.start' });
/** The settle of a body that returned nothing (a parked body, a `void` one): one shared event. */
const SETTLED_VOID: TaskMachineEvent = Object.freeze({
  type: 'task.settled',
  outcome: Object.freeze({
    type: 'returned',
    result: Object.freeze({ status: 'completed', value: null }),
  }),
});
/** One frozen `task.cancel` per reason: a cancel allocates no event. */
const CANCEL = Object.fromEntries(
  (['user', 'parent', 'run', 'timeout', 'budget', 'orphaned', 'shutdown'] as const).map((reason) => [
    reason,
    Object.freeze({ type: 'task.cancel', reason }),
  ]),
) as Record<StopReason, TaskMachineEvent>;

/**
 * A live task: its body's start and settle, what its context reaches (emits, input, usage), and
 * its cancellation (the request, then its body's abort). The task actors and flow control are
 * made here.
 */
export abstract class TaskLife extends TaskEnd implements ContextHost {
  /** Queues, input, usage and budgets. */
  protected readonly flow: FlowControl;
  /** The task machine and each task's actor. */
  protected readonly actors: TaskActors;

  constructor(
    registry: Registry,
    store: TaskStore,
    now: () => number,
    grace: number,
    clock: TimerClock,
    flowOptions: FlowOptions,
  ) {
    super(registry, store, now, grace, clock);
    this.flow = new FlowControl(
      {
        registry,
        now: () => this.now(),
        notify: (entry) => this.notify('updated', entry),
        emit: (entry, type, payload) => emitCustom(this.route, entry, type, payload),
        startQueued: (entry) => this.#startQueued(entry),
        persist: (entry) => {
          if (entry.committed && !entry.done) this.writer.write(this.metaOf(entry), true);
        },
        cancelTree: (entry, reason) =>
          this.cancelBatch(() => cancelTree(this.registry, entry.id, this.requestCancel, reason)),
        send: (entry, event) => this.sendEvent(entry, event),
      },
      flowOptions,
    );
    this.actors = new TaskActors(
      {
        registry,
        timers: this.taskTimers,
        abortBody: this.#abortBody,
      },
      grace,
    );
  }

  /** A queued task got its slot: it enters `running`, and its body starts once its record is durable. */
  #startQueued(entry: TaskEntry): void {
    const flow = entry.flow!;
    flow.phase = undefined;
    flow.activeSinceMs = this.now();
    this.sendEvent(entry, START);
    const { phase: _queued, ...summary } = entry.summary;
    entry.summary = Object.freeze(summary);
    this.notify('updated', entry);
    const body = flow.body;
    flow.body = undefined;
    if (entry.committed && body !== undefined) this.startBody(entry, body, flow.agent);
  }

  /** Runs the task's body with its context; its return, throw or promise settles the task. */
  protected startBody(entry: TaskEntry, body: (ctx: never) => unknown, agent: boolean): void {
    const ctx = agent ? new SubAgentContext(this, entry) : new PlainTaskContext(this, this.route, entry);
    let returned: unknown;
    try {
      returned = runAsTask(entry.summary, body, ctx as never);
    } catch (e) {
      this.#settle(entry, { type: 'task.settled', outcome: { type: 'threw', error: errorMessage(e) } });
      return;
    }
    let then: unknown;
    try {
      then = (returned as { then?: unknown } | null | undefined)?.then;
    } catch (e) {
      // A `then` getter that throws (or a revoked Proxy) is the body's failure, not the caller's.
      this.#settle(entry, { type: 'task.settled', outcome: { type: 'threw', error: errorMessage(e) } });
      return;
    }
    if (typeof then !== 'function') {
      this.#settle(entry, { type: 'task.settled', outcome: outcomeOf(returned) });
      return;
    }
    // Promise.resolve never throws: a `then` that throws (even when read again) becomes a rejection.
    Promise.resolve(returned).then(
      (value) =>
        this.#settle(
          entry,
          value === undefined ? SETTLED_VOID : { type: 'task.settled', outcome: outcomeOf(value) },
        ),
      (e: unknown) =>
        this.#settle(entry, { type: 'task.settled', outcome: { type: 'threw', error: errorMessage(e) } }),
    );
  }

  #settle(entry: TaskEntry, event: TaskMachineEvent): void {
    // After the grace period the task is already `cancelled`; what the body returns later is ignored.
    if (!entry.done) this.sendEvent(entry, event);
  }

  requestInput(entry: TaskEntry, request: unknown, options: RequestInputOptions | undefined): Promise<Json> {
    return this.flow.requestInput(entry, request, options);
  }

  reportUsage(entry: TaskEntry, usage: unknown): void {
    this.flow.reportUsage(entry, usage);
  }

  /** The task entered `cancelling` (the machine's `abortBody`): one function the actor host holds, no hop. */
  readonly #abortBody = (taskId: TaskId, timedOutAfterMs: number | undefined): void => {
    const entry = this.registry.byId.get(taskId);
    if (entry === undefined) return;
    if (timedOutAfterMs !== undefined) {
      // The deadline, not a caller, asked: abort with a TimeoutError, and take the subtree along
      // as `cancelTree` would (this task is already cancelling; its descendants are asked now).
      cancelTree(this.registry, taskId, this.requestCancel);
      entry.controller ??= new AbortController();
      entry.controller.abort(timeoutReason(timedOutAfterMs));
    }
    entry.controller?.abort(CANCEL_REASON);
    const waiters = entry.cancelWaiters;
    entry.cancelWaiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve();
    if (entry.flow !== undefined) this.flow.onCancelling(entry);
  };

  protected readonly requestCancel = (entry: TaskEntry, reason: StopReason = 'user'): boolean => {
    if (entry.done || entry.actor === undefined) return false;
    if (!entry.cancelRequested) {
      entry.cancelRequested = true;
      this.sendEvent(entry, CANCEL[reason] ?? { type: 'task.cancel', reason });
    }
    return true;
  };
}
