import type { Json, TaskId } from '../../wire/types.js';
import type { FenceState } from './fencedPut.js';

/**
 * The common table expressions that record a control request once: `done` is true when this
 * epoch already recorded request `order` (an earlier attempt committed unheard), `mark` records it
 * otherwise. `me` and `order` are the parameter numbers of the epoch and the order.
 */
export function onceCtes(s: FenceState, me: number, order: number): string {
  const n = s.names;
  return `done AS MATERIALIZED (
       SELECT EXISTS (SELECT 1 FROM ${n.epochs} WHERE epoch = $${me} AND control_key >= $${order}::bigint) AS d
     ), mark AS (
       UPDATE ${n.epochs} SET control_key = greatest(coalesce(control_key, 0), $${order}::bigint)
       WHERE epoch = $${me} AND NOT (SELECT d FROM done)
     )`;
}

/**
 * Records an answer for a task waiting for input on another replica: a control request of kind
 * `input` addressed to the epoch that owns the running task (none when it ended or has no owner),
 * and a notification for that epoch. The owner takes it once, like a cancel, and applies it only
 * while the task still waits on `request` (the request the answerer saw). `order` is the
 * request's place in this process's control requests: a retry of one already recorded writes nothing.
 */
export async function recordInput(
  s: FenceState,
  taskId: TaskId,
  response: Json,
  request: Json,
  order: number,
): Promise<void> {
  const n = s.names;
  await s.pool.query(
    `WITH ${onceCtes(s, 4, 5)}, req AS (
       INSERT INTO ${n.control} (epoch, task_id, kind, body)
       SELECT owner_epoch, task_id, 'input', $2 FROM ${n.tasks}
       WHERE task_id = $1 AND status = 'running' AND owner_epoch IS NOT NULL AND NOT (SELECT d FROM done)
       RETURNING epoch
     )
     SELECT coalesce(pg_notify($3, json_build_object('k', 'c', 'e', epoch)::text)::text, '') FROM req`,
    [taskId, JSON.stringify({ response, request }), n.channel, s.epoch(), order],
  );
}
