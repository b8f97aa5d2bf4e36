import { type AnyActorRef, createActor, createEmptyActor, type Snapshot } from 'xstate';
import { type TaskMachineInput, taskMachine } from '../../machines/task.machine.js';
import type { TaskId } from '../wire/types.js';
import type { TaskEntry } from './entry.js';
import type { Registry } from './registry.js';
import type { TaskTimers } from './taskTimers.js';
import { memoizedTransition } from './transitionMemo.js';

/** What the task machine's actions need from the task runner. */
export interface TaskActorHost {
  readonly registry: Registry;
  readonly timers: TaskTimers;
  /** The task entered `cancelling`: abort its body (with a `TimeoutError` when its deadline passed). */
  abortBody(taskId: TaskId, timedOutAfterMs: number | undefined): void;
}

/**
 * The task machine with the supervisor's actions, and the creation of each task's actor from a
 * precomputed snapshot, as a child of one shared root actor.
 */
export class TaskActors {
  readonly #grace: number;
  /** The task machine with the supervisor's actions, restoring a snapshot as given (see below). */
  readonly #taskLogic: typeof taskMachine;
  /** The snapshot every task starts from (`running.active`), made once; each task gets its context. */
  readonly #initial: Snapshot<unknown> & { context: unknown };
  /** The `queued` counterpart of {@link #initial}, made on first use. */
  #queued: (Snapshot<unknown> & { context: unknown }) | undefined;
  /** The actor whose system task actors join (one system per supervisor instead of one per task). */
  #parent: AnyActorRef;
  /** Whether an inspector watches the task actors (it sees each actor's input in its init event). */
  #inspected = false;

  constructor(host: TaskActorHost, grace: number) {
    const { registry, timers } = host;
    this.#grace = grace;
    const logic = taskMachine.provide({
      actions: {
        abortBody: ({ context }) =>
          host.abortBody(context.taskId, context.timedOut === true ? context.timeoutMs : undefined),
        // The deadline and grace timers are the supervisor's, on its clock: a deadline per task that
        // has one, one grace timer per cancel batch.
        armDeadline: ({ context }) => {
          const entry = registry.byId.get(context.taskId);
          const left = context.deadlineLeftMs ?? context.timeoutMs;
          if (entry !== undefined && left !== undefined) timers.armDeadline(entry, left);
        },
        disarmDeadline: ({ context }) => {
          const entry = registry.byId.get(context.taskId);
          if (entry !== undefined) timers.disarmDeadline(entry);
        },
        armGrace: ({ context }) => {
          const entry = registry.byId.get(context.taskId);
          if (entry !== undefined) timers.armGrace(entry);
        },
      },
    });
    this.#initial = createActor(logic, { input: { taskId: '', cancelGraceMs: grace } }).getSnapshot();
    // Every task starts in the same state: its actor is created from the precomputed initial
    // snapshot (with this task's context) instead of running XState's initial microstep and
    // `restoreSnapshot` (which rebuilds the state nodes), about a third of an actor's cost. The
    // snapshot shares the template's immutable parts (state nodes, empty children, tags).
    // A task's transitions that only move between states (settling, most of all) replay XState's
    // first answer instead of recomputing it (see transitionMemo.ts).
    const transition = memoizedTransition(logic);
    this.#taskLogic = Object.create(logic, {
      restoreSnapshot: { value: (snapshot: unknown) => snapshot },
      ...(transition === undefined ? {} : { transition: { value: transition } }),
    }) as typeof taskMachine;
    this.#parent = createEmptyActor();
    this.#parent.start();
  }

  /** Makes task actors children of `parent` in its actor system (for inspection). */
  adoptInto(parent: AnyActorRef): void {
    this.#parent.stop();
    this.#parent = parent;
    this.#inspected = true;
  }

  /**
   * Creates and starts the task's actor, set on `entry.actor`: in `running.active`, or in `queued`.
   * Its deadline is not armed here (the snapshot skips `running.active`'s entry).
   */
  start(entry: TaskEntry, timeoutMs: number | undefined, queued: boolean): NonNullable<TaskEntry['actor']> {
    const id = entry.id;
    const context =
      timeoutMs === undefined
        ? { taskId: id, cancelGraceMs: this.#grace }
        : { taskId: id, cancelGraceMs: this.#grace, timeoutMs };
    // The template is `running.active`; a queued task's differs only in its value (its snapshot
    // has no `_nodes` of its own: XState derives them from the value on the first transition).
    const snapshot = queued
      ? this.#queuedSnapshot(context)
      : ({ ...this.#initial, context } as unknown as Snapshot<unknown>);
    // The input only reaches an inspector (the actor starts from `snapshot`), and each option
    // costs: XState's `Actor` spreads them onto its defaults, and V8 11.3 (Node 20) adds each
    // property of that second spread at ~0.7 µs (bench/results/actor-issue25-pass4.txt).
    const parent = this.#parent;
    const options = this.#inspected ? { id, input: context, snapshot, parent } : { id, snapshot, parent };
    // Typed as XState requires (the machine declares an input); without one it starts from `snapshot`.
    const actor = createActor(this.#taskLogic, options as typeof options & { input: TaskMachineInput });
    entry.actor = actor;
    actor.start();
    return actor;
  }

  /** A queued task's first snapshot: the `queued` template with its context. */
  #queuedSnapshot(context: object): Snapshot<unknown> {
    this.#queued ??= createActor(Object.getPrototypeOf(this.#taskLogic) as typeof taskMachine, {
      input: { taskId: '', cancelGraceMs: this.#grace },
      snapshot: { ...this.#initial, value: 'queued' } as unknown as Snapshot<unknown>,
    }).getSnapshot();
    return { ...this.#queued, context } as unknown as Snapshot<unknown>;
  }
}
