import { produce } from 'immer';
import type { TaskOutcome } from '../../machines/task.machine.js';
import { toJson } from '../wire/jsonSafe.js';
import { TaskResult } from '../wire/taskResult.js';
import type { TaskEvent, TaskSummary } from '../wire/types.js';
import type { TaskFinalState, TaskMachineEvent } from '../../machines/task.machine.js';

/** Why an error-like value failed, as text. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/**
 * Turns what a body returned into an outcome: a `TaskResult` from the helpers as is, any other
 * value as `success(value)`; a value that is not JSON-safe makes the task fail, with why.
 */
export function outcomeOf(value: unknown): TaskOutcome {
  if (TaskResult.is(value)) {
    if (value.status !== 'completed') return { type: 'returned', result: value };
    try {
      return { type: 'returned', result: { status: 'completed', value: toJson(value.value, 'result') } };
    } catch (e) {
      return { type: 'returned', result: { status: 'failed', error: errorMessage(e) } };
    }
  }
  try {
    return { type: 'returned', result: { status: 'completed', value: toJson(value, 'result') } };
  } catch (e) {
    return { type: 'returned', result: { status: 'failed', error: errorMessage(e) } };
  }
}

/**
 * The terminal summary for `status`, reached by `event` (a settle, or the grace timer), and the
 * event to deliver. Summaries are immutable: immer makes the next one from the last.
 */
export function finish(
  summary: TaskSummary,
  status: TaskFinalState,
  event: TaskMachineEvent | { type: string },
  now: number,
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
  const next = produce(summary, (d) => {
    d.status = status;
    d.completed_at_ms = now;
    if (result !== null) d.result = result as never;
    if (error !== undefined) d.error = error;
  });
  return { summary: next, event: terminal };
}
