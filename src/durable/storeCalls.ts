import type { DurableRow } from '../stores/durable.js';
import { errorMessage } from '../supervisor/lifecycle.js';
import type { TaskContext } from '../supervisor/types.js';
import type { Json } from '../wire/types.js';
import type { AttemptRuntime } from './attempts.js';
import type { DurableSupervisorHooks } from './host.js';

/**
 * The waits (ms, on the supervisor's clock) between the tries of a durable store call that
 * rejected: 16 tries over about 22 s. That outlasts the PostgreSQL store's default 15 s lease, so
 * a database restart or outage that the store's other writes ride out (docs/replicas.md) does not
 * fail a durable task either; past the lease its attempt is another replica's to take over anyway.
 * A store still failing after the last try fails the task. A cancel (and so `stop()`) ends the
 * tries at once, even while one is in flight.
 */
export const STORE_RETRY_DELAYS_MS: readonly number[] = [
  50, 100, 200, 500, 1_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000,
];

/** What a store call resolves with when the task was cancelled (or stopped) between its tries. */
export const CANCELLED: unique symbol = Symbol('cancelled while retrying');

/** A durable store call that still rejected after its last try (the store's error is its `cause`). */
export class StoreCallFailed extends Error {
  override readonly name = 'StoreCallFailed';
}

/**
 * Runs `call` until it resolves, waiting {@link STORE_RETRY_DELAYS_MS} between tries; `call` is
 * told whether an earlier try rejected (its write may have landed with its reply lost). Resolves
 * with {@link CANCELLED} when the task is cancelled (`stop()` cancels every task) or `stop` aborts,
 * between tries or while a try is in flight (a store in an outage can hold a call until its own
 * timeout); rejects after the last try with an error naming the task, `what`, the number of tries
 * and the store's last error (as `cause`).
 */
async function retrying<T>(
  hooks: DurableSupervisorHooks,
  outer: TaskContext,
  what: string,
  call: (afterFailure: boolean) => Promise<T>,
  stop?: AbortSignal,
): Promise<T | typeof CANCELLED> {
  for (let tries = 0; ; tries++) {
    try {
      return await unlessAborted(call(tries > 0), stop ?? outer.signal);
    } catch (e) {
      const delay = STORE_RETRY_DELAYS_MS[tries];
      if (delay === undefined) {
        throw new StoreCallFailed(
          `task '${outer.taskId}': the store failed to ${what} (${tries + 1} tries): ${errorMessage(e)}`,
          { cause: e },
        );
      }
      await wait(hooks, delay, outer, stop);
      if (outer.isCancelled() || stop?.aborted === true) return CANCELLED;
    }
  }
}

/**
 * The one conditional claim of attempt `row.attempt + 1`, retried while the store rejects. After a
 * rejected try, a refused claim checks whether that try landed (the row is `running` that attempt
 * for this process): then the attempt is ours, counted once.
 */
export function claimAttempt(
  rt: AttemptRuntime,
  outer: TaskContext,
  row: DurableRow,
): Promise<DurableRow | undefined | typeof CANCELLED> {
  const id = outer.taskId;
  const at = Math.max(rt.hooks.now(), row.next_run_at_ms);
  return retrying(rt.hooks, outer, `claim attempt ${row.attempt + 1}`, async (afterFailure) => {
    const claimed = await rt.store.claim(id, row.attempt, rt.owner, at);
    if (claimed !== undefined || !afterFailure) return claimed;
    const now = await rt.store.get(id);
    return now?.state === 'running' && now.attempt === row.attempt + 1 && now.owner === rt.owner
      ? now
      : undefined;
  });
}

/**
 * Records `error` as the end of `row`'s attempt (`release`), retried while the store rejects.
 * After a rejected try, a refused release checks whether that try landed (the row left `running`
 * at this attempt with `error` as its last error).
 */
export function releaseAttempt(
  rt: AttemptRuntime,
  outer: TaskContext,
  row: DurableRow,
  error: string,
  next: number | undefined,
): Promise<boolean | typeof CANCELLED> {
  const id = outer.taskId;
  return retrying(rt.hooks, outer, `record attempt ${row.attempt}'s failure`, async (afterFailure) => {
    if (await rt.store.release(id, row.attempt, rt.owner, error, next)) return true;
    if (!afterFailure) return false;
    const now = await rt.store.get(id);
    return (
      now !== undefined &&
      now.state !== 'running' &&
      now.attempt === row.attempt &&
      now.attempt_errors.length === row.attempt_errors.length + 1 &&
      now.attempt_errors.at(-1) === error
    );
  });
}

/** The task's recorded steps and checkpoints, read again while the store rejects. */
export function readSteps(
  rt: AttemptRuntime,
  outer: TaskContext,
): Promise<Record<string, Json> | typeof CANCELLED> {
  return retrying(rt.hooks, outer, 'read its steps', () => rt.store.steps(outer.taskId));
}

/**
 * Records a step or checkpoint (`setStep`), tried again while the store rejects: the write is
 * fenced by (attempt, owner) and idempotent (a step keeps its first value, a checkpoint takes the
 * same value again), so a try after one whose reply was lost gives the stored value. `write`
 * resolves `undefined` when the fence refused it. Resolves with {@link CANCELLED} when the task is
 * cancelled (or stopped), or the attempt's `signal` aborts (its timeout, a refused write), between
 * tries or while one is in flight.
 */
export function recordStep(
  hooks: DurableSupervisorHooks,
  outer: TaskContext,
  signal: AbortSignal,
  what: string,
  write: () => Promise<{ value: Json } | undefined>,
): Promise<{ value: Json } | undefined | typeof CANCELLED> {
  return retrying(hooks, outer, `record ${what}`, write, signal);
}

/**
 * `pending`, or {@link CANCELLED} as soon as `signal` aborts while it is in flight. A call made
 * after the abort (a body's last checkpoint as it winds down) is awaited as it is. An abandoned
 * call may still land, like the last write of a process that stopped: a step or checkpoint write
 * is fenced and idempotent, a claim or release is conditional, and the next process reads the row
 * as it finds it.
 */
function unlessAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T | typeof CANCELLED> {
  if (signal.aborted) return pending;
  return new Promise<T | typeof CANCELLED>((resolve, reject) => {
    const abandon = (): void => resolve(CANCELLED);
    signal.addEventListener('abort', abandon, { once: true });
    // Handles the abandoned call's late outcome too (no unhandled rejection).
    pending.then(
      (value) => {
        signal.removeEventListener('abort', abandon);
        resolve(value);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abandon);
        reject(e);
      },
    );
  });
}

/**
 * Resolves after `ms` on the supervisor's clock, or at once when the task is cancelled (given
 * `stop`, the attempt's signal: when it aborts, as it does on a cancel).
 */
export function wait(
  hooks: DurableSupervisorHooks,
  ms: number,
  outer: TaskContext,
  stop?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      hooks.clock.clearTimeout(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    const timer = hooks.clock.setTimeout(done, ms);
    if (stop === undefined) outer.cancelled().then(done);
    // The attempt's signal aborts on a cancel too: no task-wide waiter is added per wait (those
    // stay registered until the task ends).
    else if (stop.aborted) done();
    else stop.addEventListener('abort', done, { once: true });
  });
}
