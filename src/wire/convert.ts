import type { PersistedTaskMeta, TaskEvent, TaskParentContext, TaskSummary } from './types.js';
import { isEmptyParentContext } from './types.js';
import { copyDurableFields } from './durableFields.js';

/**
 * A copy of `c` with the unset members dropped, so JSON and `toEqual` agree.
 *
 * @example
 * compactParentContext({ task_id: 'bg_1', run_id: undefined }); // { task_id: 'bg_1' }
 */
export function compactParentContext(c: TaskParentContext | undefined): TaskParentContext {
  const out: TaskParentContext = {};
  if (c === undefined) return out;
  if (c.task_id !== undefined) out.task_id = c.task_id;
  if (c.run_id !== undefined) out.run_id = c.run_id;
  if (c.call_id !== undefined) out.call_id = c.call_id;
  if (c.agent_id !== undefined) out.agent_id = c.agent_id;
  return out;
}

/**
 * The summary of a persisted record: drops `name` and `owner_thread_id`, omits an empty
 * `parent_context` and a `null` result (wire rule: omitted when null).
 *
 * @example
 * summaryFromMeta(meta).status; // 'completed'
 */
export function summaryFromMeta(meta: PersistedTaskMeta): TaskSummary {
  const s: TaskSummary = {
    task_id: meta.task_id,
    task_type: meta.task_type,
    description: meta.description,
    status: meta.status,
    created_at_ms: meta.created_at_ms,
  };
  if (meta.error !== undefined) s.error = meta.error;
  if (meta.result !== undefined && meta.result !== null) s.result = meta.result;
  if (meta.completed_at_ms !== undefined) s.completed_at_ms = meta.completed_at_ms;
  if (!isEmptyParentContext(meta.parent_context)) s.parent_context = meta.parent_context;
  if (meta.stop_reason !== undefined) s.stop_reason = meta.stop_reason;
  if (meta.usage !== undefined) s.usage = meta.usage;
  if (meta.budget !== undefined) s.budget = meta.budget;
  if (meta.max_attempts !== undefined) copyDurableFields(meta, s);
  // A waiting task's request; an ended one (orphaned while it waited) waits no more.
  if (meta.input_request !== undefined) {
    if (meta.status === 'running') {
      s.phase = 'waiting';
      s.input_request = meta.input_request;
    } else if (s.phase === 'waiting') delete s.phase;
  }
  return s;
}

/**
 * The persisted record of a summary owned by `ownerThreadId` (upstream `PersistedTaskMeta::from_summary`).
 *
 * @example
 * metaFromSummary(summary, 'thread-1').owner_thread_id; // 'thread-1'
 */
export function metaFromSummary(
  summary: TaskSummary,
  ownerThreadId: string,
  name?: string,
): PersistedTaskMeta {
  const m: PersistedTaskMeta = {
    task_id: summary.task_id,
    owner_thread_id: ownerThreadId,
    task_type: summary.task_type,
    description: summary.description,
    status: summary.status,
    created_at_ms: summary.created_at_ms,
    parent_context: summary.parent_context ?? {},
  };
  if (name !== undefined) m.name = name;
  if (summary.error !== undefined) m.error = summary.error;
  if (summary.result !== undefined && summary.result !== null) m.result = summary.result;
  if (summary.completed_at_ms !== undefined) m.completed_at_ms = summary.completed_at_ms;
  if (summary.stop_reason !== undefined) m.stop_reason = summary.stop_reason;
  if (summary.usage !== undefined) m.usage = summary.usage;
  if (summary.budget !== undefined) m.budget = summary.budget;
  if (summary.max_attempts !== undefined) copyDurableFields(summary, m);
  if (summary.input_request !== undefined) {
    m.phase = 'waiting';
    m.input_request = summary.input_request;
  }
  return m;
}

/** The `n` of a `bg_<n>` id when it is a safe integer, else `undefined` (`bg_007` → 7). */
export function taskIdNumber(id: string): number | undefined {
  if (id.length < 4 || !id.startsWith('bg_')) return undefined;
  // Called for every stored record: a digit loop, no slice or regex. Exact below 2^53; past it
  // the value stays ≥ 2^53, so the safe-integer check rejects it as before.
  let n = 0;
  for (let i = 3; i < id.length; i++) {
    const d = id.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The terminal event that reports a task's summary or stored record, or `undefined` while it is
 * `running`: the supervisor delivers it, and the PostgreSQL store records it with the record.
 *
 * @example
 * terminalEventOf({ task_id: 'bg_1', status: 'failed', error: 'x' }); // { kind: 'failed', task_id: 'bg_1', error: 'x' }
 */
export function terminalEventOf(
  r: Pick<TaskSummary, 'task_id' | 'status' | 'result' | 'error'>,
): TaskEvent | undefined {
  const taskId = r.task_id;
  switch (r.status) {
    case 'completed':
      return { kind: 'completed', task_id: taskId, result: (r.result ?? null) as never };
    case 'failed':
      return { kind: 'failed', task_id: taskId, error: r.error ?? 'task failed' };
    case 'cancelled':
      return { kind: 'cancelled', task_id: taskId };
    default:
      return undefined;
  }
}
