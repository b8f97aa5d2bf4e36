/**
 * Thrown by a durable task's body to end the task `failed` at once, without another attempt
 * (whatever attempts remain). Matched by class or by `name`, so an error from another copy of the
 * package counts too.
 *
 * @example
 * import { NonRetryableError } from 'awaken-tasks';
 * if (response.status === 404) throw new NonRetryableError(`no such page: ${url}`);
 */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
  /** Stable code for programs. */
  readonly code = 'non_retryable';
}

/**
 * The error a durable task's context throws for a write (a step, a checkpoint, an event) made
 * after its attempt lost ownership: it timed out, was superseded, or its task ended.
 *
 * @example
 * try { await ctx.step('upload', upload); } catch (e) { if (e instanceof AttemptFencedError) return; throw e; }
 */
export class AttemptFencedError extends Error {
  override readonly name = 'AttemptFencedError';
  /** Stable code for programs. */
  readonly code = 'attempt_fenced';
}
