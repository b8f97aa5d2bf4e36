import type { PersistedTaskMeta } from '../../src/wire/types.js';

/** A minimal valid `running` record on thread `t`, with `extra` fields laid over it. */
export const rec = (id: string, extra: Partial<PersistedTaskMeta> = {}): PersistedTaskMeta => ({
  task_id: id,
  owner_thread_id: 't',
  task_type: 'shell',
  description: `task ${id}`,
  status: 'running',
  created_at_ms: 1,
  parent_context: {},
  ...extra,
});

/** A completed record written before `owner_thread_id` and `parent_context` existed (I4). */
export const legacyRecord = (): Record<string, unknown> => ({
  task_id: 'bg_old',
  task_type: 'shell',
  description: 'legacy task',
  status: 'completed',
  created_at_ms: 100,
  completed_at_ms: 200,
});
