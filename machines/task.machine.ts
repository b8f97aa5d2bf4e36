import { assign, cancel, enqueueActions, setup } from 'xstate';
import type { TaskResult } from '../src/wire/taskResult.js';

/**
 * How a body ended, as the task actor learns it: it returned a `TaskResult`, or it threw.
 * (Plain return values are turned into `TaskResult.success(value)` before they get here.)
 */
export type TaskOutcome =
  | { readonly type: 'returned'; readonly result: TaskResult }
  | { readonly type: 'threw'; readonly error: string };

/** Events a task actor accepts. */
export type TaskMachineEvent =
  /** Cancellation requested (`cancel`, `cancelTree`, …), and why. Repeats are ignored. */
  | { type: 'task.cancel'; reason?: StopReason }
  /** The body settled. */
  | { type: 'task.settled'; outcome: TaskOutcome }
  /** A durable task waits for its delayed start, or (its retry due) for a concurrency slot (`queued`). */
  | { type: 'task.queue' }
  /** A durable task's attempt failed and another will follow (`retrying`). */
  | { type: 'task.retry' }
  /** A concurrency slot (or the start time, or a durable task's next claim) came: back to `running`. */
  | { type: 'task.start' }
  /** The body asked for input (`ctx.requestInput`) after running `activeMs` since it last (re)started. */
  | { type: 'task.input.requested'; activeMs?: number }
  /** The input came: the waiting body goes on. */
  | { type: 'task.input.provided' };

/**
 * Why a task was asked to stop, kept as data (the summary's `stop_reason`): a caller's `cancel`,
 * its parent's cancellation, a run cancel, its deadline, its budget, a restart that orphaned it,
 * or the supervisor's `stop()`.
 */
export type StopReason = 'user' | 'parent' | 'run' | 'timeout' | 'budget' | 'orphaned' | 'shutdown';

/** Input of a task actor. */
export interface TaskMachineInput {
  taskId: string;
  /** How long `running.cancelling` waits for the body before settling `cancelled`. */
  cancelGraceMs: number;
  /** The deadline: how long `running.active` lasts before cancellation is requested. None when omitted. */
  timeoutMs?: number | undefined;
}

/** Context of a task actor. */
export interface TaskMachineContext {
  readonly taskId: string;
  readonly cancelGraceMs: number;
  readonly timeoutMs?: number | undefined;
  /** Set once the deadline passed (and so requested the cancellation). */
  readonly timedOut?: boolean;
  /** Why it was asked to stop, from the first `task.cancel` (or `'timeout'`). */
  readonly stopReason?: StopReason;
  /** What is left of the deadline after waits for input (which pause it). */
  readonly deadlineLeftMs?: number;
}

/** The terminal statuses a task actor ends in. */
export type TaskFinalState = 'completed' | 'failed' | 'cancelled';

/**
 * The event of the deadline timer. The name is the one XState gives an `after` timer of
 * `running.active` named `deadline`, so graphs and paths show it as that delayed transition.
 *
 * @example
 * actor.send({ type: DEADLINE_EVENT }); // as if the deadline passed: running.active → running.cancelling
 */
export const DEADLINE_EVENT = 'xstate.after.deadline.task.running.active';
/**
 * The event of the cancel-grace timer of `running.cancelling` (XState's `after` name, likewise).
 *
 * @example
 * actor.send({ type: GRACE_EVENT }); // as if the grace period ran out: running.cancelling → cancelled
 */
export const GRACE_EVENT = 'xstate.after.cancelGrace.task.running.cancelling';

/**
 * The timer events: sent when a task's deadline or its cancel grace period has passed.
 *
 * @example
 * const due: TaskTimerEvent = { type: GRACE_EVENT };
 */
export type TaskTimerEvent = { type: typeof DEADLINE_EVENT } | { type: typeof GRACE_EVENT };

// setTimeout's 32-bit range: a longer delay (or Infinity: no deadline, wait forever) is never armed,
// where Node would fire it after 1 ms.
const MAX_TIMER_MS = 2_147_483_647;
const holdable = (ms: number | undefined): ms is number =>
  typeof ms === 'number' && ms >= 0 && ms <= MAX_TIMER_MS;

// Defensive about a hand-made `task.settled` without an outcome: it takes the fallback transition.
const returned = (event: TaskMachineEvent | TaskTimerEvent, status: TaskFinalState): boolean =>
  event.type === 'task.settled' &&
  event.outcome?.type === 'returned' &&
  event.outcome.result?.status === status;

/**
 * The lifecycle of one task: `running` (`active`, then `cancelling` once cancellation is
 * requested) → `completed` | `failed` | `cancelled`. A task held back by a concurrency limit is
 * created in `queued` (`task.start` → `running`; `task.cancel` → `cancelled` at once, no body);
 * a body paused in `ctx.requestInput` is in `running.waiting` (`task.input.provided` → `active`,
 * `task.cancel` → `cancelling`), where the deadline is paused. No other transition exists.
 * `task.cancel` may say why (`reason`), kept in `context.stopReason` (the first one wins).
 * A durable task leaves `running.active` for `queued` (`task.queue`: its delayed start) or
 * `retrying` (`task.retry`: between attempts) and returns with `task.start`; a cancel there ends
 * it `cancelled` at once. A retry due while its concurrency limit is full goes on to `queued`
 * (`task.queue`) and waits there for a slot.
 *
 * Cancellation is cooperative: the final status is what the body returns; a body that throws
 * while `cancelling` ends `cancelled`, one that throws while `active` ends `failed`; a body that
 * has not returned `cancelGraceMs` after the request is settled `cancelled`. A task given a
 * `timeoutMs` deadline that is still `active` when it passes moves to `cancelling` as if cancelled,
 * with `context.timedOut` set, so the same grace rule applies.
 *
 * The two timers are delayed transitions written out: entering `running.active` runs
 * `armDeadline` (with what is left of the deadline after waits), entering `running.cancelling`
 * runs `armGrace`, and the timer's event ({@link DEADLINE_EVENT}, {@link GRACE_EVENT}) takes the
 * transition; `disarmDeadline` runs when the task leaves `active` another way. Here they arm XState timers with
 * the actor's clock, and only when there is something to wait for: no timer without a `timeoutMs`
 * (or with `Infinity`), none for an infinite grace. A task that settles without being cancelled
 * runs no action at all; the final states have none (observe `snapshot.status === 'done'`).
 * Whoever runs the machine supplies `abortBody` (a no-op here: abort the body's signal on entering
 * `cancelling`) and may replace the timer actions with `.provide()` (the supervisor arms one grace
 * timer per cancel batch, and reads the final state from the snapshot after each event it sends).
 *
 * @example
 * const actor = createActor(taskMachine, { input: { taskId: 'bg_0', cancelGraceMs: 1000 } }).start();
 * actor.send({ type: 'task.settled', outcome: { type: 'returned', result: TaskResult.success(1) } });
 * actor.getSnapshot().value; // 'completed'
 */
export const taskMachine = setup({
  types: {
    context: {} as TaskMachineContext,
    events: {} as TaskMachineEvent | TaskTimerEvent,
    input: {} as TaskMachineInput,
  },
  actions: {
    abortBody: () => {},
    armDeadline: enqueueActions(({ context, enqueue }) => {
      const left = context.deadlineLeftMs ?? context.timeoutMs;
      if (holdable(left)) enqueue.raise({ type: DEADLINE_EVENT }, { id: DEADLINE_EVENT, delay: left });
    }),
    disarmDeadline: cancel(DEADLINE_EVENT),
    armGrace: enqueueActions(({ context, enqueue }) => {
      if (holdable(context.cancelGraceMs))
        enqueue.raise({ type: GRACE_EVENT }, { id: GRACE_EVENT, delay: context.cancelGraceMs });
    }),
    noteStopReason: assign({
      stopReason: ({ context, event }) =>
        context.stopReason ?? (event.type === 'task.cancel' ? event.reason : undefined),
    }),
    useDeadline: assign({
      deadlineLeftMs: ({ context, event }) => {
        const left = context.deadlineLeftMs ?? context.timeoutMs;
        if (left === undefined || event.type !== 'task.input.requested') return context.deadlineLeftMs;
        return Math.max(0, left - (event.activeMs ?? 0));
      },
    }),
  },
  guards: {
    returnedSuccess: ({ event }) => returned(event, 'completed'),
    returnedFailure: ({ event }) => returned(event, 'failed'),
    returnedCancelled: ({ event }) => returned(event, 'cancelled'),
  },
}).createMachine({
  id: 'task',
  /** The task's id, grace period and deadline, from the input the supervisor gives each actor. */
  context: ({ input }) => ({
    taskId: input.taskId,
    cancelGraceMs: input.cancelGraceMs,
    timeoutMs: input.timeoutMs,
  }),
  initial: 'running',
  states: {
    /** Accepted, body not started: waiting for a concurrency slot or a durable task's start time. No deadline runs here. */
    queued: {
      on: {
        'task.start': 'running',
        // `abortBody` wakes a durable task's attempt loop (no body runs here to abort).
        'task.cancel': { target: 'cancelled', actions: ['noteStopReason', 'abortBody'] },
      },
    },
    running: {
      initial: 'active',
      states: {
        active: {
          entry: 'armDeadline',
          on: {
            'task.cancel': { target: 'cancelling', actions: 'noteStopReason' },
            // Leaving `active` any other way than to `cancelling` disarms the deadline.
            'task.input.requested': { target: 'waiting', actions: ['disarmDeadline', 'useDeadline'] },
            'task.queue': { target: '#task.queued', actions: 'disarmDeadline' },
            'task.retry': { target: '#task.retrying', actions: 'disarmDeadline' },
            'task.settled': [
              { guard: 'returnedSuccess', target: '#task.completed' },
              { guard: 'returnedCancelled', target: '#task.cancelled' },
              // A failure result, or a throw while nobody asked it to stop.
              { target: '#task.failed' },
            ],
            [DEADLINE_EVENT]: {
              target: 'cancelling',
              actions: assign({ timedOut: true, stopReason: 'timeout' }),
            },
          },
        },
        /** Paused in `ctx.requestInput`: its slot is free and its deadline paused. */
        waiting: {
          on: {
            'task.input.provided': 'active',
            'task.cancel': { target: 'cancelling', actions: 'noteStopReason' },
            'task.settled': [
              { guard: 'returnedSuccess', target: '#task.completed' },
              { guard: 'returnedCancelled', target: '#task.cancelled' },
              { target: '#task.failed' },
            ],
          },
        },
        cancelling: {
          // A deadline still armed (the task was cancelled before it) finds no transition here.
          entry: ['abortBody', 'armGrace'],
          on: {
            'task.settled': [
              { guard: 'returnedSuccess', target: '#task.completed' },
              { guard: 'returnedFailure', target: '#task.failed' },
              // An acknowledged cancellation, or a throw after the request (an AbortError).
              { target: '#task.cancelled' },
            ],
            [GRACE_EVENT]: '#task.cancelled',
          },
        },
      },
    },
    /** A durable task between attempts: no body runs; a cancel ends it at once (`abortBody` wakes its attempt loop). */
    retrying: {
      on: {
        'task.start': 'running',
        // Its backoff is over and every slot is taken: it waits for one like any queued task.
        'task.queue': 'queued',
        'task.cancel': { target: 'cancelled', actions: ['noteStopReason', 'abortBody'] },
      },
    },
    // A final state stops the actor, which cancels whatever timer of it is still armed.
    completed: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});
