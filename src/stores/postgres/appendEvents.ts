import type { Pool } from 'pg';
import type { TaskEvent } from '../../wire/types.js';
import type { TakenEvent } from '../coordination.js';
import type { TableNames } from './schema.js';

/** One custom event to store: `local` is set when the task has an inbox here (`true`: it acknowledges reads). */
export interface EventToStore {
  readonly threadId: string;
  readonly event: TaskEvent;
  readonly local: boolean | undefined;
}

/**
 * Stores `items` (in order) in one statement. An event of a thread this epoch receives, whose task
 * has a local inbox, is taken here: returned with its claim (and its `seq` when the inbox
 * acknowledges reads, the event then staying stored until read; a plain inbox consumes it, so it
 * is not stored). Every other event is stored for the thread's receiver, which is notified.
 */
export async function insertEvents(
  pool: Pool,
  n: TableNames,
  epoch: string,
  items: readonly EventToStore[],
): Promise<(TakenEvent | undefined)[]> {
  const res = await pool.query<{ k: string; ord: string | null; v: string | null }>(
    `WITH data AS MATERIALIZED (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[]) WITH ORDINALITY
         AS d(thread_id, task_id, body, local, acks, ord)
     ), recv AS MATERIALIZED (
       SELECT thread_id, claim FROM ${n.receivers}
       WHERE epoch = $6 AND thread_id IN (SELECT thread_id FROM data WHERE local) FOR SHARE
     ), rows AS MATERIALIZED (
       SELECT d.*, r.claim FROM data d LEFT JOIN recv r ON d.local AND r.thread_id = d.thread_id
     ), ins AS (
       INSERT INTO ${n.events} (thread_id, task_id, body, taken_by)
       SELECT thread_id, task_id, body, claim FROM rows WHERE claim IS NULL OR acks ORDER BY ord
       RETURNING seq
     )
     SELECT 'r' AS k, ord::text AS ord, claim AS v FROM rows WHERE claim IS NOT NULL
     UNION ALL SELECT 'i', NULL, seq::text FROM ins
     UNION ALL SELECT 'n', NULL, th || coalesce(pg_notify($7, json_build_object('k', 't', 't', th)::text)::text, '')
       FROM (SELECT DISTINCT thread_id AS th FROM rows WHERE claim IS NULL) x`,
    [
      items.map((i) => i.threadId),
      items.map((i) => i.event.task_id),
      items.map((i) => JSON.stringify(i.event)),
      items.map((i) => i.local !== undefined),
      items.map((i) => i.local === true),
      epoch,
      n.channel,
    ],
  );
  const claims = new Map<number, string>();
  const seqs: number[] = [];
  for (const row of res.rows) {
    if (row.k === 'r') claims.set(Number(row.ord) - 1, row.v!);
    else if (row.k === 'i') seqs.push(Number(row.v));
  }
  // Identity values follow the insert's ORDER BY: the k-th stored item got the k-th smallest seq.
  seqs.sort((a, b) => a - b);
  let next = 0;
  return items.map((item, i) => {
    const claim = claims.get(i);
    const stored = claim === undefined || item.local === true;
    const seq = stored ? seqs[next++] : undefined;
    if (claim === undefined) return undefined;
    return { threadId: item.threadId, event: item.event, claim, seq };
  });
}
