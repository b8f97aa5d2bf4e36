import type { TaskEventStreamOptions } from '../supervisor/eventStream.js';
import type { TaskContext, TaskSupervisor, WaitOptions } from '../supervisor/types.js';
import { TaskResult } from '../wire/taskResult.js';
import type { TaskEvent, TaskId } from '../wire/types.js';
import { TypedContext } from './context.js';
import type { JsonCompatible } from './json.js';
import type {
  InputArgs,
  DurableSpec,
  TaskTypeSpec,
  TypedCustomEvent,
  TypedSpawnOptions,
  TypedTaskEvent,
  TypedTaskSummary,
} from './types.js';
import { isValidator, type Validator, validate } from './validator.js';
import { DURABLE_DEF, type DurableDef } from '../durable/host.js';
import { resolveRetryPolicy } from '../durable/policy.js';
import type { DurableSpawned } from '../durable/runtime.js';
import { durableRuntimeOf } from '../durable/typeDef.js';
import { toJson } from '../wire/jsonSafe.js';
import { DurableTypedContext } from './durableContext.js';

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * A task type: typed `spawn`, `get`, `wait` and inbox-event matching for the tasks of one
 * `taskType`. Made by {@link defineTask}; every method takes the supervisor to act on.
 *
 * @example
 * const id = await crawl.spawn(supervisor, { threadId: 't', description: 'crawl' }, { url: 'https://example.com' });
 * const { result } = await crawl.wait(supervisor, id); // result?: { pages: number }
 */
export interface TaskType<I, E, R> {
  /** The `task_type` of this type's tasks. */
  readonly taskType: string;
  /**
   * Checks the input (when the type has an input validator), then spawns a task of this type
   * running the type's body. Rejects with a `TypeError` for an input that does not match, and
   * with what `supervisor.spawn` rejects with otherwise.
   *
   * @example
   * const id = await crawl.spawn(supervisor, { threadId: 'thread-1', description: 'crawl' }, { url: 'https://example.com' });
   */
  spawn(supervisor: TaskSupervisor, opts: TypedSpawnOptions, ...input: InputArgs<I>): Promise<TaskId>;
  /**
   * A durable type's `spawn` that also says whether it created the task: `created: false` when
   * the thread already had a task with `opts.idempotencyKey` (its id is returned, nothing starts).
   * Rejects with a `TypeError` for a type without `durable`.
   *
   * @example
   * const { taskId, created } = await render.spawnDurable(supervisor, { threadId: 't', description: 'frame 7', idempotencyKey: 'frame-7' }, { frame: 7 });
   */
  spawnDurable(
    supervisor: TaskSupervisor,
    opts: TypedSpawnOptions,
    ...input: InputArgs<I>
  ): Promise<DurableSpawned>;
  /**
   * The task's summary with a typed result; `undefined` when it is unknown or of another type.
   *
   * @example
   * const summary = crawl.get(supervisor, id);
   * summary?.result?.pages; // number | undefined
   */
  get(supervisor: TaskSupervisor, taskId: TaskId): TypedTaskSummary<R> | undefined;
  /**
   * `supervisor.wait` with a typed result. Rejects with a `TypeError` when the task is of
   * another type (or unknown).
   *
   * @example
   * const { status, result } = await crawl.wait(supervisor, id, { signal: AbortSignal.timeout(60_000) });
   */
  wait(supervisor: TaskSupervisor, taskId: TaskId, opts?: WaitOptions): Promise<TypedTaskSummary<R>>;
  /**
   * `event` typed as one of this type's events when its task (known to `supervisor`) is of this
   * type, else `undefined`. Use it on events drained from an inbox or seen by `onEvent`.
   *
   * @example
   * for (const event of inbox.receiver.drain()) {
   *   const typed = crawl.match(supervisor, event);
   *   if (typed?.kind === 'custom' && typed.event_type === 'page') console.log(typed.payload.n);
   * }
   */
  match(supervisor: TaskSupervisor, event: TaskEvent): TypedTaskEvent<E, R> | undefined;
  /**
   * The task's latest custom event of `eventType`, typed (`supervisor.latestEvent`); `undefined`
   * when there is none or the task is of another type.
   *
   * @example
   * const page = crawl.latest(supervisor, id, 'page');
   * console.log(page?.payload.n);
   */
  latest<K extends keyof E & string>(
    supervisor: TaskSupervisor,
    taskId: TaskId,
    eventType: K,
  ): TypedCustomEvent<Pick<E, K>> | undefined;
  /**
   * `supervisor.events(opts)` narrowed to this type's tasks, typed. With `taskId`, throws a
   * `TypeError` for a task of another type.
   *
   * @example
   * for await (const event of crawl.events(supervisor, { taskId: id })) {
   *   if (event.kind === 'custom') console.log(event.event_type, event.payload);
   * }
   */
  events(
    supervisor: TaskSupervisor,
    opts?: TaskEventStreamOptions,
  ): AsyncIterableIterator<TypedTaskEvent<E, R>>;
}

/**
 * Declares a task type once — its input, progress events and result — and returns typed
 * `spawn`/`get`/`wait`/`match` for it. Types come from the validators (any Standard Schema, such
 * as a zod schema, or a function) and the body's return type, or from explicit type arguments
 * `defineTask<Input, Events, Result>(…)`. Every type must be JSON-compatible (interfaces are
 * fine). The validators are the runtime checks where types cannot reach: a bad input rejects the
 * spawn, a bad event payload makes `emit` throw, a bad result fails the task (a failure is data,
 * never a throw out of the supervisor). Plain `supervisor.spawn` is unchanged.
 *
 * @example
 * interface CrawlInput { url: string }
 * const crawl = defineTask<CrawlInput, { page: { n: number } }, { pages: number }>({
 *   taskType: 'crawl',
 *   run: async (ctx, input) => {
 *     ctx.emit('page', { n: 1 });
 *     return { pages: 1 };
 *   },
 * });
 * const id = await crawl.spawn(supervisor, { threadId: 'thread-1', description: 'crawl' }, { url: 'https://example.com' });
 * (await crawl.wait(supervisor, id)).result?.pages; // number | undefined
 */
export function defineTask<
  I extends JsonCompatible<I> = undefined,
  E extends JsonCompatible<E> = Record<never, never>,
  R extends JsonCompatible<R> = null,
>(spec: TaskTypeSpec<I, E, R>): TaskType<I, E, R> {
  checkSpec(spec);
  const { taskType, run } = spec;
  const inputCheck = spec.input;
  const resultCheck = spec.result;
  const events = spec.events as Readonly<Record<string, Validator<unknown> | undefined>> | undefined;

  async function body(ctx: TaskContext, input: I): Promise<unknown> {
    return checked(await run(new TypedContext<E>(ctx, taskType, events), input));
  }

  async function checked(out: unknown): Promise<unknown> {
    if (resultCheck === undefined || TaskResult.is(out)) return out;
    try {
      return await validate(resultCheck, out);
    } catch (e) {
      return TaskResult.failed(`result does not match task type '${taskType}': ${describe(e)}`);
    }
  }

  function checkInput(raw: unknown): I | Promise<I> {
    if (inputCheck === undefined) return raw as I;
    const bad = (e: unknown): never => {
      throw new TypeError(`Expected \`input\` to match task type '${taskType}', got: ${describe(e)}`);
    };
    try {
      const checked = validate(inputCheck, raw);
      return checked instanceof Promise ? checked.catch(bad) : checked;
    } catch (e) {
      return bad(e);
    }
  }

  function ofType(supervisor: TaskSupervisor, taskId: TaskId): boolean {
    return supervisor.get(taskId)?.task_type === taskType;
  }

  const durable: DurableDef | undefined =
    spec.durable === undefined
      ? undefined
      : {
          taskType,
          ...resolveDurableSpec(spec.durable),
          runAttempt: async (ctx, input) =>
            checked(await run(new DurableTypedContext<E>(ctx, taskType, events), input as I)),
        };

  async function spawnDurable(
    supervisor: TaskSupervisor,
    opts: TypedSpawnOptions,
    args: InputArgs<I>,
  ): Promise<DurableSpawned> {
    if (durable === undefined) {
      throw new TypeError(
        `Expected task type '${taskType}' to be durable (defineTask with \`durable\`), got a plain one`,
      );
    }
    checkOpts(opts);
    const runtime = durableRuntimeOf(supervisor);
    const raw = checkInput(args[0]);
    const input = toJson((raw instanceof Promise ? await raw : raw) ?? null, 'input');
    return runtime.spawn(durable, opts, input);
  }

  return Object.freeze({
    taskType,
    [DURABLE_DEF]: durable,
    async spawn(supervisor: TaskSupervisor, opts: TypedSpawnOptions, ...args: InputArgs<I>): Promise<TaskId> {
      if (durable !== undefined) return (await spawnDurable(supervisor, opts, args)).taskId;
      checkOpts(opts);
      if (opts.idempotencyKey !== undefined || opts.startAfterMs !== undefined) {
        throw new TypeError(
          `Expected no \`idempotencyKey\` or \`startAfterMs\` for task type '${taskType}' (durable task types only), got one`,
        );
      }
      const checked = checkInput(args[0]);
      // An async schema is awaited; a synchronous check keeps the spawn's checks in the same tick.
      const input = checked instanceof Promise ? await checked : checked;
      return supervisor.spawn({ ...opts, taskType }, (ctx) => body(ctx, input));
    },
    spawnDurable(supervisor: TaskSupervisor, opts: TypedSpawnOptions, ...args: InputArgs<I>) {
      return spawnDurable(supervisor, opts, args);
    },
    get(supervisor: TaskSupervisor, taskId: TaskId): TypedTaskSummary<R> | undefined {
      const s = supervisor.get(taskId);
      return s !== undefined && s.task_type === taskType ? (s as TypedTaskSummary<R>) : undefined;
    },
    async wait(supervisor: TaskSupervisor, taskId: TaskId, opts?: WaitOptions): Promise<TypedTaskSummary<R>> {
      const s = supervisor.get(taskId);
      if (s !== undefined && s.task_type !== taskType) {
        throw new TypeError(
          `Expected task '${taskId}' to be a '${taskType}' task, got a '${s.task_type}' task`,
        );
      }
      return (await supervisor.wait(taskId, opts)) as TypedTaskSummary<R>;
    },
    match(supervisor: TaskSupervisor, event: TaskEvent): TypedTaskEvent<E, R> | undefined {
      return ofType(supervisor, event.task_id) ? (event as TypedTaskEvent<E, R>) : undefined;
    },
    latest<K extends keyof E & string>(
      supervisor: TaskSupervisor,
      taskId: TaskId,
      eventType: K,
    ): TypedCustomEvent<Pick<E, K>> | undefined {
      if (!ofType(supervisor, taskId)) return undefined;
      return supervisor.latestEvent(taskId, eventType) as TypedCustomEvent<Pick<E, K>> | undefined;
    },
    events(
      supervisor: TaskSupervisor,
      opts: TaskEventStreamOptions = {},
    ): AsyncIterableIterator<TypedTaskEvent<E, R>> {
      const taskId = opts.taskId;
      const s = taskId === undefined ? undefined : supervisor.get(taskId);
      if (s !== undefined && s.task_type !== taskType) {
        throw new TypeError(
          `Expected task '${taskId}' to be a '${taskType}' task, got a '${s.task_type}' task`,
        );
      }
      // Opened now (not on the first read), so no event between this call and the loop is missed.
      const stream = supervisor.events(opts);
      const typed: AsyncIterableIterator<TypedTaskEvent<E, R>> = {
        async next() {
          for (;;) {
            const r = await stream.next();
            if (r.done === true || ofType(supervisor, r.value.task_id))
              return r as IteratorResult<TypedTaskEvent<E, R>>;
          }
        },
        return: async (): Promise<IteratorResult<TypedTaskEvent<E, R>>> => {
          stream.close();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]: () => typed,
      };
      return typed;
    },
  });
}

function checkOpts(opts: unknown): void {
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`Expected \`opts\` to be an object, got ${opts === null ? 'null' : typeof opts}`);
  }
}

function resolveDurableSpec(durable: unknown): Pick<DurableDef, 'policy' | 'attemptTimeoutMs'> {
  if (typeof durable !== 'object' || durable === null) {
    throw new TypeError(
      `Expected \`spec.durable\` to be an object, got ${durable === null ? 'null' : typeof durable}`,
    );
  }
  const d = durable as DurableSpec;
  const ms = d.attemptTimeoutMs;
  if (ms !== undefined && !(typeof ms === 'number' && ms > 0)) {
    throw new TypeError(`Expected \`durable.attemptTimeoutMs\` to be a positive number, got ${String(ms)}`);
  }
  return { policy: resolveRetryPolicy(d.retry), attemptTimeoutMs: ms };
}

function checkSpec(spec: unknown): void {
  if (typeof spec !== 'object' || spec === null) {
    throw new TypeError(`Expected \`spec\` to be an object, got ${spec === null ? 'null' : typeof spec}`);
  }
  const s = spec as Record<string, unknown>;
  if (typeof s.taskType !== 'string') {
    throw new TypeError(`Expected \`spec.taskType\` to be a string, got ${typeof s.taskType}`);
  }
  if (typeof s.run !== 'function') {
    throw new TypeError(`Expected \`spec.run\` to be a function, got ${typeof s.run}`);
  }
  for (const key of ['input', 'result'] as const) {
    if (s[key] !== undefined && !isValidator(s[key])) {
      throw new TypeError(
        `Expected \`spec.${key}\` to be a Standard Schema or a function, got ${typeof s[key]}`,
      );
    }
  }
  const events = s.events;
  if (events !== undefined) {
    if (typeof events !== 'object' || events === null) {
      throw new TypeError(
        `Expected \`spec.events\` to be an object, got ${events === null ? 'null' : typeof events}`,
      );
    }
    for (const [name, v] of Object.entries(events)) {
      if (v !== undefined && !isValidator(v)) {
        throw new TypeError(
          `Expected \`spec.events.${name}\` to be a Standard Schema or a function, got ${typeof v}`,
        );
      }
    }
  }
}
