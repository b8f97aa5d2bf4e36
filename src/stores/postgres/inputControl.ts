import type { Json, TaskId } from '../../wire/types.js';
import type { FenceState } from './fencedPut.js';

/**
 * Records an answer for a task waiting for input on another replica: a control request of kind
 * `input` addressed to the epoch that owns the running task (none when it ended or has no owner),
 * and a notification for that epoch. The owner takes it once, like a cancel, and applies it only
 * while the task still waits on `request` (the request the answerer saw).
 */
export async function recordInput(
  s: FenceState,
  taskId: TaskId,
  response: Json,
  request: Json,
): Promise<void> {
  const n = s.names;
  await s.pool.query(
    `WITH req AS (
       INSERT INTO ${n.control} (epoch, task_id, kind, body)
       SELECT owner_epoch, task_id, 'input', $2 FROM ${n.tasks}
       WHERE task_id = $1 AND status = 'running' AND owner_epoch IS NOT NULL
       RETURNING epoch
     )
     SELECT coalesce(pg_notify($3, json_build_object('k', 'c', 'e', epoch)::text)::text, '') FROM req`,
    [taskId, JSON.stringify({ response, request }), n.channel],
  );
}
