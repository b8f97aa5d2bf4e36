import type { Json, TaskStatus } from './types.js';

const BRAND: unique symbol = Symbol.for('awaken-tasks.TaskResult');

/** The body finished successfully with `value`. */
export interface TaskSuccess {
  readonly status: 'completed';
  readonly value: Json;
}
/** The body reported a failure. */
export interface TaskFailure {
  readonly status: 'failed';
  readonly error: string;
}
/** The body acknowledged cancellation. */
export interface TaskCancellation {
  readonly status: 'cancelled';
}
/** How a task body ended; build one with the `TaskResult` helpers. */
export type TaskResult = TaskSuccess | TaskFailure | TaskCancellation;

function brand<T extends object>(r: T): T {
  Object.defineProperty(r, BRAND, { value: true, enumerable: false });
  return Object.freeze(r);
}

/**
 * Helpers that build `TaskResult`s. Values they return carry a non-enumerable brand, so a body's
 * plain object that merely looks like a result is still treated as `success(value)`.
 *
 * @example
 * supervisor.spawn(opts, async () => TaskResult.failed('disk full'));
 */
export const TaskResult = Object.freeze({
  /**
   * Success with `value` (default `null`).
   *
   * @example
   * return TaskResult.success({ pages: 3 }); // same as returning { pages: 3 }
   */
  success(value: Json = null): TaskResult {
    return brand({ status: 'completed' as const, value });
  },
  /**
   * Failure with an error message.
   *
   * @example
   * if (!response.ok) return TaskResult.failed(`HTTP ${response.status}`);
   */
  failed(error: string): TaskResult {
    return brand({ status: 'failed' as const, error });
  },
  /**
   * Acknowledged cancellation.
   *
   * @example
   * if (ctx.isCancelled()) return TaskResult.cancelled();
   */
  cancelled(): TaskResult {
    return brand({ status: 'cancelled' as const });
  },
  /**
   * The task status a result leads to.
   *
   * @example
   * TaskResult.status(TaskResult.failed('boom')); // 'failed'
   */
  status(r: TaskResult): TaskStatus {
    return r.status;
  },
  /**
   * Whether `value` was made by these helpers.
   *
   * @example
   * TaskResult.is(TaskResult.cancelled()); // true
   * TaskResult.is({ status: 'cancelled' }); // false: a plain object is a success value
   */
  is(value: unknown): value is TaskResult {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  },
});
