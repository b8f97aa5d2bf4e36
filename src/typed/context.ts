import type { InboxSender } from '../inbox/types.js';
import type { Usage } from '../supervisor/budget.js';
import type { RequestInputOptions } from '../supervisor/input.js';
import type { TaskContext } from '../supervisor/types.js';
import type { Json, TaskId } from '../wire/types.js';
import type { JsonCompatible } from './json.js';
import type { TaskCheckpoint, TypedTaskContext } from './types.js';
import { type Validator, validate } from './validator.js';

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A plain context seen through a task type: `emit` checks the event type and its payload. */
export class TypedContext<E> implements TypedTaskContext<E> {
  readonly #ctx: TaskContext;
  readonly #taskType: string;
  readonly #events: Readonly<Record<string, Validator<unknown> | undefined>> | undefined;

  constructor(
    ctx: TaskContext,
    taskType: string,
    events: Readonly<Record<string, Validator<unknown> | undefined>> | undefined,
  ) {
    this.#ctx = ctx;
    this.#taskType = taskType;
    this.#events = events;
  }

  get taskId(): TaskId {
    return this.#ctx.taskId;
  }

  get signal(): AbortSignal {
    return this.#ctx.signal;
  }

  get inbox(): InboxSender | undefined {
    return this.#ctx.inbox;
  }

  cancelled(): Promise<void> {
    return this.#ctx.cancelled();
  }

  isCancelled(): boolean {
    return this.#ctx.isCancelled();
  }

  get attempt(): number {
    return 1;
  }

  get previousError(): string | undefined {
    return undefined;
  }

  /** A task without `durable` has one attempt: a step runs once, kept in memory for a repeat. */
  #steps: Map<string, Promise<unknown>> | undefined;
  #checkpoint: TaskCheckpoint | undefined;

  step<T extends JsonCompatible<T>>(name: string, fn: () => T | PromiseLike<T>): Promise<T> {
    const steps = (this.#steps ??= new Map());
    let p = steps.get(name) as Promise<T> | undefined;
    if (p === undefined) {
      p = Promise.resolve().then(fn);
      steps.set(name, p);
    }
    return p;
  }

  get checkpoint(): TaskCheckpoint {
    if (this.#checkpoint === undefined) {
      const values = new Map<string, unknown>();
      this.#checkpoint = {
        get: async <T>(key: string) => values.get(key) as T | undefined,
        set: async (key, value) => {
          values.set(key, structuredClone(value));
        },
      };
    }
    return this.#checkpoint;
  }

  requestInput(request: Json, options?: RequestInputOptions): Promise<Json> {
    return this.#ctx.requestInput(request, options);
  }

  reportUsage(usage: Usage): void {
    this.#ctx.reportUsage(usage);
  }

  emit<K extends keyof E & string>(eventType: K, payload: E[K]): boolean {
    let checked: unknown = payload;
    const events = this.#events;
    if (events !== undefined) {
      if (!Object.hasOwn(events, eventType)) {
        const known = Object.keys(events)
          .map((k) => `'${k}'`)
          .join(', ');
        throw new TypeError(
          `Expected \`eventType\` to be one of ${known} (task type '${this.#taskType}'), got ${JSON.stringify(eventType)}`,
        );
      }
      const validator = events[eventType];
      if (validator !== undefined) {
        try {
          checked = validate(validator, payload);
        } catch (e) {
          throw new TypeError(
            `Expected the '${eventType}' payload to match task type '${this.#taskType}', got: ${describe(e)}`,
          );
        }
        if (checked instanceof Promise) {
          // Observe it so an async rejection is never unhandled; the emit itself cannot wait.
          checked.catch(() => {});
          throw new TypeError(
            `Expected the '${eventType}' validator of task type '${this.#taskType}' to be synchronous, got an async schema`,
          );
        }
      }
    }
    return this.#ctx.emit(eventType, checked as Json);
  }
}
