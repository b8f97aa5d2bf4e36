import type { SpawnOptions, TaskContext } from '../supervisor/types.js';
import type { CancelledTaskEvent, FailedTaskEvent, TaskId, TaskSummary } from '../wire/types.js';
import type { TaskResult } from '../wire/taskResult.js';
import type { Validator } from './validator.js';

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
export type TypedSpawnOptions = Omit<SpawnOptions, 'taskType'>;

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
  /** The body: the typed context and the (checked) input; returns the result or a `TaskResult`. */
  readonly run: (ctx: TypedTaskContext<E>, input: I) => R | TaskResult | PromiseLike<R | TaskResult>;
}
