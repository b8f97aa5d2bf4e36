import type { AttemptTaskContext } from '../durable/host.js';
import { TypedContext } from './context.js';
import type { JsonCompatible } from './json.js';
import type { TaskCheckpoint } from './types.js';
import type { Validator } from './validator.js';

/** A typed context over one attempt of a durable task: attempts, steps and checkpoints are stored. */
export class DurableTypedContext<E> extends TypedContext<E> {
  readonly #attempt: AttemptTaskContext;
  #checkpoint: TaskCheckpoint | undefined;

  constructor(
    ctx: AttemptTaskContext,
    taskType: string,
    events: Readonly<Record<string, Validator<unknown> | undefined>> | undefined,
  ) {
    super(ctx, taskType, events);
    this.#attempt = ctx;
  }

  override get attempt(): number {
    return this.#attempt.attempt;
  }

  override get previousError(): string | undefined {
    return this.#attempt.previousError;
  }

  override step<T extends JsonCompatible<T>>(name: string, fn: () => T | PromiseLike<T>): Promise<T> {
    return this.#attempt.step(name, fn) as Promise<T>;
  }

  override get checkpoint(): TaskCheckpoint {
    const ctx = this.#attempt;
    this.#checkpoint ??= {
      get: async <T>(key: string) => (await ctx.checkpointGet(key)) as T | undefined,
      set: (key, value) => ctx.checkpointSet(key, value),
    };
    return this.#checkpoint;
  }
}
