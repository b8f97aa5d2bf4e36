import type { DurableTaskStore } from '../stores/durable.js';
import type { SpawnOptions, TaskContext } from '../supervisor/types.js';
import type { TimerClock } from '../supervisor/options.js';
import type { DurableSpawnHook } from '../supervisor/taskRunner.js';
import type { DurableSummaryFields, Json, PersistedTaskMeta, TaskId, TaskSummary } from '../wire/types.js';
import type { ResolvedRetryPolicy } from './policy.js';

/** A durable task type as the runtime sees it (made by `defineTask` from its `durable` section). */
export interface DurableDef {
  readonly taskType: string;
  readonly policy: ResolvedRetryPolicy;
  readonly attemptTimeoutMs: number | undefined;
  /** Runs one attempt: the typed body with its result check, on an attempt's plain context. */
  runAttempt(ctx: AttemptTaskContext, input: Json): Promise<unknown>;
}

/** The plain context of one attempt, with what a typed durable context adds. */
export interface AttemptTaskContext extends TaskContext {
  readonly attempt: number;
  readonly previousError: string | undefined;
  step(name: string, fn: () => unknown): Promise<Json>;
  checkpointGet(key: string): Promise<Json | undefined>;
  checkpointSet(key: string, value: unknown): Promise<void>;
}

/** Durable summary fields to set; an `undefined` member removes that field. */
export type DurablePatch = { [K in keyof DurableSummaryFields]?: DurableSummaryFields[K] | undefined };

/** A machine event the attempt loop sends to its task's actor. */
export type PhaseEvent = 'task.queue' | 'task.retry' | 'task.start';

/** What the durable runtime needs from its supervisor (small hooks into the task runner). */
export interface DurableSupervisorHooks {
  readonly now: () => number;
  readonly clock: TimerClock;
  /** The store's durable rows, or `undefined` (then rows stay in memory). */
  readonly store: DurableTaskStore | undefined;
  /**
   * Spawns a task whose body is `body`: `prepare` stores its row once its id is known, before it
   * exists (an existing id on a key hit); `abandon` forgets the row if the spawn fails after.
   */
  spawn(
    opts: SpawnOptions,
    body: (ctx: TaskContext) => unknown,
    hook: DurableSpawnHook & { readonly extra: DurableSummaryFields },
  ): Promise<TaskId>;
  /**
   * Runs `body` as the stored task `meta` (recovery); `startsLater`: it waits for its next run time
   * first, so it takes no concurrency slot now. `false` when the task is live here already.
   */
  resume(meta: PersistedTaskMeta, body: (ctx: TaskContext) => unknown, startsLater?: boolean): boolean;
  /**
   * Its next attempt needs a concurrency slot: `undefined` when it may claim it now, else a promise
   * resolved once it has one (it waits in the queue meanwhile).
   */
  awaitSlot(taskId: TaskId): Promise<void> | undefined;
  /** It stops running until its start time or next attempt: its concurrency slot is freed. */
  releaseSlot(taskId: TaskId): void;
  /** Sets durable summary fields (`undefined` removes one), writes the record, sends `event`. */
  patch(taskId: TaskId, fields: DurablePatch, event?: PhaseEvent): void;
  /** Whether `taskId` runs in this process now. */
  isLive(taskId: TaskId): boolean;
  /** The task's summary once its terminal event was delivered. */
  settled(taskId: TaskId): Promise<TaskSummary>;
  /** The stored records of a thread. */
  load(threadId: string): Promise<PersistedTaskMeta[]>;
  /** Whether the supervisor is stopping (no task is taken up any more). */
  stopping?(): boolean;
}

/** The symbol under which a supervisor hands its durable runtime to `defineTask`. Internal. */
export const DURABLE_RUNTIME: unique symbol = Symbol('awaken-tasks.durable');
/** The symbol under which a task type keeps its durable definition. Internal. */
export const DURABLE_DEF: unique symbol = Symbol('awaken-tasks.durableDef');
