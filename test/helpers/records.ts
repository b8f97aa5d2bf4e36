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
