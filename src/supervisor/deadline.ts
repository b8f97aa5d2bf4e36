import type { TaskSummary } from '../wire/types.js';

/**
 * The `error` of a task whose deadline passed, as its summary shows it.
 *
 * @example
 * timeoutMessage(5000); // 'task timed out after 5000 ms'
 */
export function timeoutMessage(timeoutMs: number): string {
  return `task timed out after ${timeoutMs} ms`;
}

/**
 * The reason a timed-out task's signal carries, like `AbortSignal.timeout`'s.
 *
 * @example
 * timeoutReason(50).name; // 'TimeoutError'
 */
export function timeoutReason(timeoutMs: number): DOMException {
  return new DOMException(timeoutMessage(timeoutMs), 'TimeoutError');
}

/**
 * The terminal summary of a task whose deadline passed: a `cancelled` one says why in `error`
 * (the Rust runtime reads `error` on any status); a body that still returned a result or a
 * failure after the deadline keeps its own outcome.
 *
 * @example
 * markTimedOut(cancelledSummary, 5000).error; // 'task timed out after 5000 ms'
 */
export function markTimedOut(summary: TaskSummary, timeoutMs: number): TaskSummary {
  if (summary.status !== 'cancelled') return summary;
  return Object.freeze({ ...summary, error: timeoutMessage(timeoutMs) });
}
