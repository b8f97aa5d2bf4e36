import { assign, setup } from 'xstate';
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
  /** A durable task waits for its delayed start (`queued`). */
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

/** The terminal statuses, as the `report` action receives them. */
export type TaskFinalState = 'completed' | 'failed' | 'cancelled';

// Defensive about a hand-made `task.settled` without an outcome: it takes the fallback transition.
const returned = (event: TaskMachineEvent, status: TaskFinalState): boolean =>
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
 * it `cancelled` at once.
 *
 * Cancellation is cooperative: the final status is what the body returns; a body that throws
 * while `cancelling` ends `cancelled`, one that throws while `active` ends `failed`; a body that
 * has not returned `cancelGraceMs` after the request is settled `cancelled`. A task given a
 * `timeoutMs` deadline that is still `active` when it passes moves to `cancelling` as if cancelled,
 * with `context.timedOut` set, so the same grace rule applies.
 *
 * The machine is a pure definition. Its two actions are no-ops here and are supplied with
 * `.provide()` by whoever runs it (the supervisor does): `abortBody` aborts the body's signal on
 * entering `cancelling`; `report` runs once, on entering a final state, with that state as
 * `params.status`.
 *
 * @example
 * const actor = createActor(taskMachine, { input: { taskId: 'bg_0', cancelGraceMs: 1000 } }).start();
 * actor.send({ type: 'task.settled', outcome: { type: 'returned', result: TaskResult.success(1) } });
 * actor.getSnapshot().value; // 'completed'
 */
export const taskMachine = setup({
  types: {
    context: {} as TaskMachineContext,
    events: {} as TaskMachineEvent,
    input: {} as TaskMachineInput,
  },
  actions: {
    abortBody: () => {},
    report: (_args, _params: { status: TaskFinalState }) => {},
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
  delays: {
    cancelGrace: ({ context }) => context.cancelGraceMs,
    // No deadline is a timer that never fires (the supervisor's clock never schedules Infinity).
    deadline: ({ context }) => context.deadlineLeftMs ?? context.timeoutMs ?? Number.POSITIVE_INFINITY,
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
          after: {
            deadline: { target: 'cancelling', actions: assign({ timedOut: true, stopReason: 'timeout' }) },
          },
          on: {
            'task.cancel': { target: 'cancelling', actions: 'noteStopReason' },
            'task.input.requested': { target: 'waiting', actions: 'useDeadline' },
            'task.queue': '#task.queued',
            'task.retry': '#task.retrying',
            'task.settled': [
              { guard: 'returnedSuccess', target: '#task.completed' },
              { guard: 'returnedCancelled', target: '#task.cancelled' },
              // A failure result, or a throw while nobody asked it to stop.
              { target: '#task.failed' },
            ],
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
          entry: 'abortBody',
          after: { cancelGrace: '#task.cancelled' },
          on: {
            'task.settled': [
              { guard: 'returnedSuccess', target: '#task.completed' },
              { guard: 'returnedFailure', target: '#task.failed' },
              // An acknowledged cancellation, or a throw after the request (an AbortError).
              { target: '#task.cancelled' },
            ],
          },
        },
      },
    },
    /** A durable task between attempts: no body runs; a cancel ends it at once (`abortBody` wakes its attempt loop). */
    retrying: {
      on: {
        'task.start': 'running',
        'task.cancel': { target: 'cancelled', actions: ['noteStopReason', 'abortBody'] },
      },
    },
    completed: { type: 'final', entry: { type: 'report', params: { status: 'completed' } } },
    failed: { type: 'final', entry: { type: 'report', params: { status: 'failed' } } },
    cancelled: { type: 'final', entry: { type: 'report', params: { status: 'cancelled' } } },
  },
});
