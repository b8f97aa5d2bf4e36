import type { TaskOutcome } from '../../machines/task.machine.js';
import { toJson } from '../wire/jsonSafe.js';
import { TaskResult } from '../wire/taskResult.js';
import type { TaskEvent, TaskStopReason, TaskSummary } from '../wire/types.js';
import type { TaskFinalState, TaskMachineEvent } from '../../machines/task.machine.js';

/**
 * Why an error-like value failed, as text. Total: whatever was thrown (a null-prototype object, a
 * Proxy whose traps throw, a revoked Proxy, a symbol, a BigInt, an object whose `message`,
 * `toString` or `toJSON` throws) gives a readable string and never throws.
 */
export function errorMessage(error: unknown): string {
  if (typeof error === 'string') return error;
  try {
    if (error instanceof Error) {
      const { message, name } = error;
      if (typeof message === 'string' && message !== '') return message;
      if (typeof name === 'string' && name !== '') return name;
    }
  } catch {}
  try {
    const text = JSON.stringify(error, bigintAsText);
    if (typeof text === 'string' && text !== '{}') return text;
  } catch {}
  try {
    const text = String(error);
    if (typeof text === 'string') return text;
  } catch {}
  try {
    return Object.prototype.toString.call(error);
  } catch {}
  return `a thrown ${typeof error} that cannot be described`;
}

function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}

/**
 * Turns what a body returned into an outcome: a `TaskResult` from the helpers as is, any other
 * value as `success(value)`; a value that is not JSON-safe, or one whose inspection throws (a
 * hostile Proxy), makes the task fail, with why.
 */
export function outcomeOf(value: unknown): TaskOutcome {
  try {
    if (TaskResult.is(value)) {
      if (value.status !== 'completed') return { type: 'returned', result: value };
      return { type: 'returned', result: { status: 'completed', value: toJson(value.value, 'result') } };
    }
    return { type: 'returned', result: { status: 'completed', value: toJson(value, 'result') } };
  } catch (e) {
    return { type: 'returned', result: { status: 'failed', error: errorMessage(e) } };
  }
}

/**
 * The terminal summary for `status`, reached by `event` (a settle, or the grace timer), and the
 * event to deliver. Summaries are immutable: the next one is a frozen copy of the last.
 */
export function finish(
  summary: TaskSummary,
  status: TaskFinalState,
  event: TaskMachineEvent | { type: string },
  now: number,
  stopReason?: TaskStopReason,
): { summary: TaskSummary; event: TaskEvent } {
  const outcome = event.type === 'task.settled' ? (event as { outcome: TaskOutcome }).outcome : undefined;
  const taskId = summary.task_id;
  let terminal: TaskEvent;
  let result: unknown = null;
  let error: string | undefined;
  if (status === 'completed') {
    result =
      outcome?.type === 'returned' && outcome.result.status === 'completed' ? outcome.result.value : null;
    terminal = { kind: 'completed', task_id: taskId, result: result as never };
  } else if (status === 'failed') {
    error =
      outcome === undefined
        ? 'task failed'
        : outcome.type === 'threw'
          ? outcome.error
          : outcome.result.status === 'failed'
            ? outcome.result.error
            : 'task failed';
    terminal = { kind: 'failed', task_id: taskId, error };
  } else {
    terminal = { kind: 'cancelled', task_id: taskId };
  }
  // One shallow copy, in the summary's key order (new keys after it), then frozen: a summary is
  // immutable, and so is its result (a copy the body can no longer reach).
  const next: Record<string, unknown> = { ...summary };
  next.status = status;
  next.completed_at_ms = now;
  if (result !== null) next.result = deepFreeze(result);
  if (error !== undefined) next.error = error;
  // A task that ends is neither queued nor waiting any more.
  if (summary.phase !== undefined) delete next.phase;
  if (summary.input_request !== undefined) delete next.input_request;
  if (stopReason !== undefined && status === 'cancelled') next.stop_reason = stopReason;
  // A durable task (it has `max_attempts`) ends without a next attempt.
  if (summary.max_attempts !== undefined) delete next.next_attempt_at_ms;
  const final = Object.freeze(next) as unknown as TaskSummary;
  return { summary: final, event: terminal };
}

/** Freezes a JSON value and everything in it (already frozen parts are not walked again). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
