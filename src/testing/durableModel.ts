import { LOST_ATTEMPT_ERROR } from '../durable/runtime.js';

/**
 * What one attempt of a durable task does, for the reference model: returns (`ok`), throws a
 * retryable error (`retry`) or a `NonRetryableError` (`fatal`), dies with its process (`crash`),
 * or outlives its `attemptTimeoutMs` (`hang`).
 */
export type DurableAttemptOutcome = 'ok' | 'retry' | 'fatal' | 'crash' | 'hang';

/** How the reference model says a durable task ends. */
export interface DurableModelEnd {
  readonly status: 'completed' | 'failed';
  /** Attempts claimed in all (the ledger must hold exactly 1…attempts, each once). */
  readonly attempts: number;
  /** Each failed attempt's error, as the task's `attempt_errors` must hold them. */
  readonly errors: readonly string[];
}

/**
 * The reference model of a durable task's attempts: attempt n does `outcomes[n − 1]` (`ok` past
 * the end). A `fatal` attempt ends the task at once; any other failure consumes an attempt until
 * `maximumAttempts`. `errorOf` names each failed attempt's error as the task records it; the
 * default matches the runtime's texts for `crash` and `hang` (with `attemptTimeoutMs`) and
 * `'<outcome> <n>'` for thrown errors (what a test body throws).
 *
 * @example
 * import { durableModel } from 'awaken-tasks/testing';
 * durableModel(3, ['retry', 'crash', 'ok'], 20);
 * // { status: 'completed', attempts: 3, errors: ['retry 1', 'attempt 2: the process running …'] }
 */
export function durableModel(
  maximumAttempts: number,
  outcomes: readonly DurableAttemptOutcome[],
  attemptTimeoutMs?: number,
  errorOf: (outcome: DurableAttemptOutcome, attempt: number) => string = (o, n) =>
    o === 'crash'
      ? `attempt ${n}: ${LOST_ATTEMPT_ERROR}`
      : o === 'hang'
        ? `attempt ${n} timed out after ${attemptTimeoutMs} ms`
        : `${o} ${n}`,
): DurableModelEnd {
  const errors: string[] = [];
  for (let n = 1; ; n++) {
    const o = outcomes[n - 1] ?? 'ok';
    if (o === 'ok') return { status: 'completed', attempts: n, errors };
    errors.push(errorOf(o, n));
    if (o === 'fatal' || n >= maximumAttempts) return { status: 'failed', attempts: n, errors };
  }
}
