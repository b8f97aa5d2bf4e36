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
  /** Cancellation requested (`cancel`, `cancelTree`, …). Repeats are ignored. */
  | { type: 'task.cancel' }
  /** The body settled. */
  | { type: 'task.settled'; outcome: TaskOutcome }
  /** A durable task waits for its delayed start (`queued`). */
  | { type: 'task.queue' }
  /** A durable task's attempt failed and another will follow (`retrying`). */
  | { type: 'task.retry' }
  /** A queued or retrying durable task's next attempt was claimed: back to `running`. */
  | { type: 'task.start' };

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
 * requested) → `completed` | `failed` | `cancelled`. A durable task may also leave `running.active`
 * for `queued` (its delayed start) or `retrying` (between attempts) and return with `task.start`;
 * a cancel there ends it `cancelled` at once. No other transition exists.
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
  },
  guards: {
    returnedSuccess: ({ event }) => returned(event, 'completed'),
    returnedFailure: ({ event }) => returned(event, 'failed'),
    returnedCancelled: ({ event }) => returned(event, 'cancelled'),
  },
  delays: {
    cancelGrace: ({ context }) => context.cancelGraceMs,
    // No deadline is a timer that never fires (the supervisor's clock never schedules Infinity).
    deadline: ({ context }) => context.timeoutMs ?? Number.POSITIVE_INFINITY,
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
    running: {
      initial: 'active',
      states: {
        active: {
          after: { deadline: { target: 'cancelling', actions: assign({ timedOut: true }) } },
          on: {
            'task.cancel': 'cancelling',
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
    // A durable task between attempts, or before its delayed start: no body runs. A cancel ends it
    // at once (no body to wait for; `abortBody` wakes the attempt loop).
    queued: {
      on: {
        'task.start': 'running',
        'task.cancel': { target: 'cancelled', actions: 'abortBody' },
      },
    },
    retrying: {
      on: {
        'task.start': 'running',
        'task.cancel': { target: 'cancelled', actions: 'abortBody' },
      },
    },
    completed: { type: 'final', entry: { type: 'report', params: { status: 'completed' } } },
    failed: { type: 'final', entry: { type: 'report', params: { status: 'failed' } } },
    cancelled: { type: 'final', entry: { type: 'report', params: { status: 'cancelled' } } },
  },
});
