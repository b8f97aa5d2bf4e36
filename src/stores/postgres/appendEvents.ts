import type { Pool } from 'pg';
import type { TaskEvent } from '../../wire/types.js';
import type { TakenEvent } from '../coordination.js';
import type { TableNames } from './schema.js';

/** One custom event to store: `local` is set when the task has an inbox here (`true`: it acknowledges reads). */
export interface EventToStore {
  readonly threadId: string;
  readonly event: TaskEvent;
  readonly local: boolean | undefined;
  /** Its key (`<epoch at append>:<order>`), unique per process life: given once, kept across retries. */
  readonly key: string;
  /** Its place in this process's append order (the key's number), increasing. */
  readonly order: number;
}

/**
 * Stores `items` (in order) in one statement. An event of a thread this epoch receives, whose task
 * has a local inbox, is taken here: returned with its claim (and its `seq` when the inbox
 * acknowledges reads, the event then staying stored until read; a plain inbox consumes it, so it
 * is not stored). Every other event is stored for the thread's receiver, which is notified.
 *
 * Each stored row carries its item's key (unique), and this epoch's row the highest order stored. A retry whose earlier attempt committed unheard (its reply lost with the connection)
 * finds its first order already marked: it writes nothing and answers as that attempt did (an
 * acknowledging inbox's event by its stored row's claim and seq, a plain inbox's under the thread's
 * current claim), even when the thread's receiver has already consumed the events stored for it.
 */
export async function insertEvents(
  pool: Pool,
  n: TableNames,
  epoch: string,
  items: readonly EventToStore[],
): Promise<(TakenEvent | undefined)[]> {
  const res = await pool.query<{ k: string; ord: string | null; v: string | null; seq: string | null }>(
    `WITH data AS MATERIALIZED (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[], $8::text[]) WITH ORDINALITY
         AS d(thread_id, task_id, body, local, acks, event_key, ord)
     ), done AS MATERIALIZED (
       SELECT EXISTS (SELECT 1 FROM ${n.epochs} WHERE epoch = $6 AND event_key >= $9::bigint) AS d
     ), recv AS MATERIALIZED (
       SELECT thread_id, claim FROM ${n.receivers}
       WHERE epoch = $6 AND thread_id IN (SELECT thread_id FROM data WHERE local) FOR SHARE
     ), rows AS MATERIALIZED (
       SELECT d.*, r.claim FROM data d LEFT JOIN recv r ON d.local AND r.thread_id = d.thread_id
     ), ins AS (
       INSERT INTO ${n.events} (thread_id, task_id, body, taken_by, event_key)
       SELECT thread_id, task_id, body, claim, event_key FROM rows
       WHERE (claim IS NULL OR acks) AND NOT (SELECT d FROM done) ORDER BY ord
       ON CONFLICT (event_key) DO NOTHING
       RETURNING event_key, seq, taken_by
     ), mark AS (
       UPDATE ${n.epochs} SET event_key = greatest(coalesce(event_key, 0), $10::bigint)
       WHERE epoch = $6 AND NOT (SELECT d FROM done)
     ), had AS (
       SELECT e.event_key, e.seq, e.taken_by FROM ${n.events} e
       WHERE (SELECT d FROM done) AND e.event_key IN (SELECT event_key FROM data)
     )
     SELECT 'r' AS k, ord::text AS ord, claim AS v, NULL::text AS seq FROM rows WHERE claim IS NOT NULL
     UNION ALL SELECT 's', event_key, taken_by, seq::text FROM ins
     UNION ALL SELECT 's', event_key, taken_by, seq::text FROM had
     UNION ALL SELECT 'd', NULL, NULL, NULL FROM done WHERE d
     UNION ALL SELECT 'n', NULL, th || coalesce(pg_notify($7, json_build_object('k', 't', 't', th)::text)::text, ''), NULL
       FROM (SELECT DISTINCT thread_id AS th FROM rows WHERE claim IS NULL) x WHERE NOT (SELECT d FROM done)`,
    [
      items.map((i) => i.threadId),
      items.map((i) => i.event.task_id),
      items.map((i) => JSON.stringify(i.event)),
      items.map((i) => i.local !== undefined),
      items.map((i) => i.local === true),
      epoch,
      n.channel,
      items.map((i) => i.key),
      items[0]!.order,
      items[items.length - 1]!.order,
    ],
  );
  const claims = new Map<number, string>();
  const stored = new Map<string, { claim: string | null; seq: number }>();
  let echoed = false;
  for (const row of res.rows) {
    if (row.k === 'r') claims.set(Number(row.ord) - 1, row.v!);
    else if (row.k === 's') stored.set(row.ord!, { claim: row.v, seq: Number(row.seq) });
    else if (row.k === 'd') echoed = true;
  }
  return items.map((item, i) => {
    const row = stored.get(item.key);
    if (echoed) {
      // The earlier attempt committed: its stored row tells who took the event; an event not stored
      // (any more) went to the local plain inbox under the thread's claim, or to the receiver.
      if (row !== undefined) {
        return row.claim === null
          ? undefined
          : { threadId: item.threadId, event: item.event, claim: row.claim, seq: row.seq };
      }
      const claim = claims.get(i);
      if (claim === undefined || item.local === true) return undefined;
      return { threadId: item.threadId, event: item.event, claim, seq: undefined };
    }
    const claim = claims.get(i);
    if (claim === undefined) return undefined;
    return {
      threadId: item.threadId,
      event: item.event,
      claim,
      seq: item.local === true ? row?.seq : undefined,
    };
  });
}
