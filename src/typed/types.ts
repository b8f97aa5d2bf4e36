import type { SpawnOptions, TaskContext } from '../supervisor/types.js';
import type { CancelledTaskEvent, FailedTaskEvent, TaskId, TaskSummary } from '../wire/types.js';
import type { TaskResult } from '../wire/taskResult.js';
import type { Validator } from './validator.js';
import type { JsonCompatible } from './json.js';
import type { RetryPolicy } from '../durable/policy.js';

/**
 * What a typed task body gets: the plain context, with `emit` checked against the task type's
 * events (name and payload type; the events' validators at run time).
 *
 * @example
 * const run = async (ctx: TypedTaskContext<{ page: { n: number } }>) => ctx.emit('page', { n: 1 });
 */
export interface TypedTaskContext<E> extends Omit<TaskContext, 'emit'> {
  /**
   * Reports a custom event of a declared type; `false` when there is no inbox or the task finished.
   *
   * @example
   * ctx.emit('page', { n: 1 }); // checked against the task type's `page` event
   */
  emit<K extends keyof E & string>(eventType: K, payload: E[K]): boolean;
  /** This attempt's number, 1-based; always 1 for a task type without `durable`. */
  readonly attempt: number;
  /** The error of the attempt before this one, from attempt 2 on. */
  readonly previousError: string | undefined;
  /**
   * Runs `fn` once for the task and returns its JSON result. In a durable task the result is
   * recorded (fenced: only while this attempt holds the task) and later attempts get it back
   * without running `fn` again; a write after the attempt lost its task throws
   * `AttemptFencedError` and aborts `signal`. A write the store rejects is tried again (about
   * 22 s): a cancel or the supervisor's `stop()` meanwhile rejects at once with `signal.reason`
   * (even while a try is in flight), and a store still failing after the last try rejects with its
   * error (the attempt fails with it unless caught).
   *
   * @example
   * const pages = await ctx.step('fetch', async () => (await fetchPages(input.url)).length);
   */
  step<T extends JsonCompatible<T>>(name: string, fn: () => T | PromiseLike<T>): Promise<T>;
  /** Named JSON values kept across attempts of a durable task (in memory for other tasks). */
  readonly checkpoint: TaskCheckpoint;
}

/**
 * A task's named checkpoints: `set` records (fenced, awaited), `get` reads the latest recorded.
 *
 * @example
 * const done = (await ctx.checkpoint.get<number>('frames')) ?? 0;
 * await ctx.checkpoint.set('frames', done + 1);
 */
export interface TaskCheckpoint {
  /**
   * The value last set under `key`, or `undefined`.
   *
   * @example
   * const cursor = await ctx.checkpoint.get<string>('cursor');
   */
  get<T extends JsonCompatible<T>>(key: string): Promise<T | undefined>;
  /**
   * Records `value` under `key`; rejects with `AttemptFencedError` once the attempt lost its task.
   * Like a step's, a write the store rejects is tried again for about 22 s.
   *
   * @example
   * await ctx.checkpoint.set('cursor', 'page-7');
   */
  set<T extends JsonCompatible<T>>(key: string, value: T): Promise<void>;
}

/**
 * What makes a task type durable: its input is stored with the task, failed attempts are retried
 * with backoff, and a task whose process died is run again after a restart (see docs/durable-tasks.md).
 *
 * @example
 * const durable: DurableSpec = { retry: { maximumAttempts: 5, initialIntervalMs: 200 }, attemptTimeoutMs: 60_000 };
 */
export interface DurableSpec {
  /** The retry policy (Temporal's field names); defaults: 3 attempts, 1 s doubling, 20 % jitter. */
  readonly retry?: RetryPolicy;
  /** How long one attempt may run; a late attempt is abandoned (fenced) and counts as failed. */
  readonly attemptTimeoutMs?: number;
}

/**
 * A summary whose `result` has the task type's result type.
 *
 * @example
 * const s: TypedTaskSummary<{ pages: number }> = await crawl.wait(supervisor, id);
 * s.result?.pages;
 */
export type TypedTaskSummary<R> = Omit<TaskSummary, 'result'> & { result?: R };

/**
 * A custom event of a task type, discriminated by `event_type`.
 *
 * @example
 * if (e.kind === 'custom' && e.event_type === 'page') e.payload.n;
 */
export type TypedCustomEvent<E> = {
  [K in keyof E & string]: { kind: 'custom'; task_id: TaskId; event_type: K; payload: E[K] };
}[keyof E & string];

/**
 * A task type's `completed` event, with its typed result.
 *
 * @example
 * const e: TypedCompletedEvent<{ pages: number }> = { kind: 'completed', task_id: 'bg_0', result: { pages: 3 } };
 */
export type TypedCompletedEvent<R> = { kind: 'completed'; task_id: TaskId; result: R };

/**
 * The events of one task type: its custom events, then one terminal event.
 *
 * @example
 * const e = crawl.match(supervisor, event); // TypedTaskEvent<…> | undefined
 */
export type TypedTaskEvent<E, R> =
  | TypedCustomEvent<E>
  | TypedCompletedEvent<R>
  | FailedTaskEvent
  | CancelledTaskEvent;

/**
 * The spawn options of a typed task: the plain ones without `taskType` (the task type fixes it).
 *
 * @example
 * const opts: TypedSpawnOptions = { threadId: 'thread-1', description: 'crawl example.com', timeoutMs: 60_000 };
 */
export type TypedSpawnOptions = Omit<SpawnOptions, 'taskType'> & {
  /**
   * Durable task types only: unique per thread for the task's life; a spawn with a key already
   * used in the thread resolves with that task's id and starts nothing.
   */
  idempotencyKey?: string;
  /** Durable task types only: the first attempt starts no earlier than this many ms from now. */
  startAfterMs?: number;
};

/** The input argument(s) of `spawn`: optional when the input type admits `undefined`. */
export type InputArgs<I> = undefined extends I ? [input?: I] : [input: I];

/**
 * How a task type is declared once: its `taskType`, its body, and optional runtime checks of its
 * input, events and result (Standard Schemas or functions).
 *
 * @example
 * const spec: TaskTypeSpec<{ url: string }, { page: { n: number } }, { pages: number }> = {
 *   taskType: 'crawl',
 *   run: async (ctx, input) => ({ pages: 1 }),
 * };
 */
export interface TaskTypeSpec<I, E, R> {
  /** The `task_type` of every task of this type (what `get`/`list` show). */
  readonly taskType: string;
  /** Checks (and may transform) the input at `spawn`; a mismatch rejects the spawn with a `TypeError`. */
  readonly input?: Validator<I>;
  /** Checks each event's payload at `emit`, by event type; a mismatch makes `emit` throw `TypeError`. */
  readonly events?: { readonly [K in keyof E]?: Validator<E[K]> };
  /** Checks the value the body returns; a mismatch makes the task fail, saying why. */
  readonly result?: Validator<R>;
  /** Makes the type durable: stored input, retries with backoff, recovery after a restart. */
  readonly durable?: DurableSpec;
  /** The body: the typed context and the (checked) input; returns the result or a `TaskResult`. */
  readonly run: (ctx: TypedTaskContext<E>, input: I) => R | TaskResult | PromiseLike<R | TaskResult>;
}
