import type { Pool } from 'pg';
import { taskIdNumber, terminalEventOf } from '../../wire/convert.js';
import type { PersistedTaskMeta } from '../../wire/types.js';
import { decodeRows } from '../decode.js';
import type { TakenEvent } from '../coordination.js';
import type { PutResult } from '../types.js';
import { boolArray, column, recordsArray, textArray } from './arrays.js';
import { echoes, type StoredRow, takeEchoed, takeTerminal } from './echo.js';
import { applyStatusColumn } from './orphan.js';
import type { PipelinedConnection } from './pipeline.js';
import type { TableNames } from './schema.js';

/** What a fenced put needs from its store. */
export interface FenceState {
  readonly pool: Pool;
  readonly names: TableNames;
  readonly instanceId: string;
  /** The current owner epoch. */
  epoch(): string;
  /** The epoch each local running task was inserted under. */
  readonly epochOf: Map<string, string>;
  /** Local tasks whose events have an inbox in this process, and whether that inbox acknowledges reads. */
  readonly localInbox: Map<string, boolean>;
  /** Terminal events this process took (to deliver locally) in its last puts. */
  readonly tookTerminal: Map<string, TakenEvent>;
  /** Where puts' statements go when they are pipelined (else the pool): run in the order queued. */
  readonly writes: PipelinedConnection | undefined;
}

/** A duplicate running name or a cancelled run, refused by the database for one record. */
export class RejectedRecordError extends Error {
  override readonly name = 'RejectedRecordError';
  readonly code: 'duplicate_name' | 'parent_cancelled' | 'owner_revoked';
  constructor(code: RejectedRecordError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The run a record's spawn is fenced by: the trimmed `run_id` of a task without a parent task, or
 * `null` (a parented task is judged by its parent; a blank run id names no run).
 */
function fenceRunOf(r: PersistedTaskMeta): string | null {
  if (r.parent_context.task_id !== undefined) return null;
  const run = r.parent_context.run_id?.trim();
  return run === undefined || run === '' ? null : run;
}

/**
 * Writes `records` in one statement, fenced: a new `running` record is inserted under the current
 * epoch (refused if the epoch was revoked, its name is running in its thread, or its run was
 * cancelled); any other change lands only on a row still `running` under the epoch the writer
 * inserted it with, and a status change records its terminal event in the same statement (taken
 * here when this process receives the thread and the task has a local inbox). A record for an
 * unknown id that is not `running` is inserted as is. Returns the refused rows as stored, and the
 * rejected new records with why.
 */
export async function fencedPut(s: FenceState, records: readonly PersistedTaskMeta[]): Promise<PutResult> {
  const latest = new Map<string, PersistedTaskMeta>();
  for (const r of records) latest.set(r.task_id, r);
  const batch = [...latest.values()];
  const recordsJson = recordsArray(batch);
  let next = 0;
  for (const r of batch) {
    const k = taskIdNumber(r.task_id);
    if (k !== undefined && k >= next) next = k + 1;
  }
  const n = s.names;
  const epoch = s.epoch();
  const local = batch.map((r) => s.localInbox.has(r.task_id));
  const thread = batch[0]?.owner_thread_id ?? '';
  const status = batch[0]?.status ?? 'running';
  type Row = { k: string; task_id: string; seq: string | null; claim: string | null };
  // On the pipelined connection the statement is prepared once (named), not parsed and planned
  // per put.
  const query = (text: string, values: unknown[]) =>
    s.writes !== undefined
      ? s.writes.query<Row>(text, values, 'awaken_put')
      : s.pool.query<Row>(text, values);
  const res = await query(
    `WITH data AS MATERIALIZED (
       SELECT task_id, coalesce(owner_thread_id, $16) AS owner_thread_id, coalesce(status, $17) AS status,
         record::text AS record, name, parent_task_id, run_id, coalesce(epoch, $9) AS epoch,
         nullif(event::text, 'null') AS event, coalesce(local_inbox, false) AS local_inbox,
         coalesce(acks, false) AS acks, fence_run, ord
       FROM ROWS FROM (unnest($1::text[]), unnest($2::text[]), unnest($3::text[]),
         json_array_elements($4::json), unnest($5::text[]), unnest($6::text[]), unnest($7::text[]),
         unnest($8::text[]), json_array_elements($19::json), unnest($13::bool[]), unnest($14::bool[]),
         unnest($15::text[])) WITH ORDINALITY
         AS d(task_id, owner_thread_id, status, record, name, parent_task_id, run_id, epoch, event, local_inbox,
           acks, fence_run, ord)
     ), ep AS (
       -- KEY SHARE: the epoch's revocation (its DELETE) waits for this put, but the updates every
       -- live epoch's row gets (lease, event and control keys) neither wait for it nor hold it up.
       SELECT epoch FROM ${n.epochs} WHERE epoch = $9 FOR KEY SHARE
     ), runs_up AS (
       INSERT INTO ${n.runs} (run_id)
       SELECT DISTINCT fence_run FROM data WHERE status = 'running' AND fence_run IS NOT NULL
       ON CONFLICT (run_id) DO UPDATE SET run_id = excluded.run_id
       RETURNING run_id, cancelled
     ), recv AS MATERIALIZED (
       SELECT thread_id, claim FROM ${n.receivers}
       WHERE epoch = $9 AND thread_id IN (SELECT owner_thread_id FROM data WHERE local_inbox) FOR SHARE
     ), upd AS (
       UPDATE ${n.tasks} t SET status = d.status, record = d.record, writer = $10
       FROM data d WHERE t.task_id = d.task_id AND t.status = 'running' AND t.owner_epoch = d.epoch
       -- What the terminal event needs comes back from the update: no second join with data.
       RETURNING t.task_id, t.owner_thread_id, d.owner_thread_id AS thread, d.event, d.local_inbox, d.acks, d.ord
     ), ins AS (
       INSERT INTO ${n.tasks} (task_id, owner_thread_id, status, record, writer, owner_epoch, name, parent_task_id, run_id)
       SELECT d.task_id, d.owner_thread_id, d.status, d.record, $10,
         CASE WHEN d.status = 'running' THEN $9 END, d.name, d.parent_task_id, d.run_id
       FROM data d
       -- A row just updated would only conflict: skipping it saves an index probe per record.
       WHERE NOT EXISTS (SELECT 1 FROM upd u WHERE u.task_id = d.task_id)
         AND (d.status <> 'running' OR (EXISTS (SELECT 1 FROM ep) AND NOT EXISTS (
           SELECT 1 FROM runs_up r WHERE r.run_id = d.fence_run AND r.cancelled)))
       ORDER BY d.ord
       -- An existing id conflicts on the key (its row was updated above, or is not ours to touch).
       ON CONFLICT DO NOTHING
       RETURNING task_id, owner_thread_id, status
     ), ended AS (
       SELECT u.task_id, u.thread, u.event, u.acks, u.ord, r.claim
       FROM upd u LEFT JOIN recv r ON u.local_inbox AND r.thread_id = u.thread
       WHERE u.event IS NOT NULL
     ), ev AS (
       INSERT INTO ${n.events} (thread_id, task_id, body, taken_by)
       SELECT thread, task_id, event, claim FROM ended WHERE claim IS NULL OR acks
       ORDER BY ord
       RETURNING task_id, seq, taken_by, thread_id
     ), nx AS (
       UPDATE ${n.meta} SET value = $11::bigint WHERE name = 'next_id' AND value < $11::bigint
     )
     -- Whether a record did not land is counted first: when all did, data is not searched.
     SELECT 'm' AS k, d.task_id, NULL::bigint AS seq, NULL AS claim FROM data d
       WHERE (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins) < $18::bigint
         AND NOT EXISTS (SELECT 1 FROM upd u WHERE u.task_id = d.task_id)
         AND NOT EXISTS (SELECT 1 FROM ins i WHERE i.task_id = d.task_id)
     UNION ALL SELECT 'i', i.task_id, NULL, NULL FROM ins i
       WHERE i.status <> 'running' OR i.task_id IN (SELECT task_id FROM data WHERE epoch <> $9)
     UNION ALL SELECT 'e', task_id, seq, taken_by FROM ev WHERE taken_by IS NOT NULL
     UNION ALL SELECT 'c', thread_id, NULL, claim FROM recv WHERE EXISTS (SELECT 1 FROM ended)
     UNION ALL SELECT 'n', th || coalesce(pg_notify($12, json_build_object('k', 't', 't', th, 'e', $9::text,
         'u', th IN (SELECT thread_id FROM ev WHERE taken_by IS NULL))::text)::text, ''), NULL, NULL
       FROM (SELECT owner_thread_id AS th FROM upd UNION SELECT owner_thread_id FROM ins) x`,
    [
      textArray(batch.map((r) => r.task_id)),
      // Columns most records share hold NULL for the common value, sent once (the first record's
      // thread and status, the current epoch, no name, parent or run): a column where every
      // record has it is sent as '{}'. Fewer bytes to build, send and parse per record.
      column(batch, (r) => r.owner_thread_id, thread),
      column(batch, (r) => r.status, status),
      // The records travel as one JSON array of objects, split by the database
      // (`json_array_elements` keeps each element's text as written): one JSON.stringify per batch,
      // where a text array literal (or a JSON array of strings) escapes every quote again.
      recordsJson,
      column(batch, (r) => r.name),
      column(batch, (r) => r.parent_context.task_id),
      column(batch, (r) => r.parent_context.run_id),
      column(batch, (r) => s.epochOf.get(r.task_id) ?? epoch, epoch),
      epoch,
      s.instanceId,
      next,
      n.channel,
      boolArray(local),
      boolArray(batch.map((r) => s.localInbox.get(r.task_id) === true)),
      column(batch, fenceRunOf),
      thread,
      status,
      batch.length,
      // The terminal events; '[]' for a batch of running records (every row reads NULL).
      batch.some((r) => r.status !== 'running')
        ? JSON.stringify(batch.map((r) => terminalEventOf(r) ?? null))
        : '[]',
    ],
  );
  // Only the exceptions come back (a result row per record costs more than the write itself):
  // records that did not land ('m'), inserted rows the caller cannot infer ('i': a terminal
  // record for an unknown id, or a running one inserted while its task was known under another
  // epoch), stored events taken here ('e'), and this epoch's claim per received thread ('c').
  const missingIds = new Set<string>();
  const inserted = new Set<string>();
  const stored = new Map<string, number>();
  const claims = new Map<string, string>();
  for (const row of res.rows) {
    if (row.k === 'm') missingIds.add(row.task_id);
    else if (row.k === 'i') inserted.add(row.task_id);
    else if (row.k === 'e') stored.set(row.task_id, Number(row.seq));
    else if (row.k === 'c') claims.set(row.task_id, row.claim!);
  }
  const missing: PersistedTaskMeta[] = [];
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i]!;
    if (!missingIds.has(r.task_id)) {
      if (r.status === 'running') {
        // Landed without 'i': inserted under this epoch, or updated under the epoch it is known by.
        // An epoch replaced while the put ran is not brought back (its revocation forgot its tasks;
        // a durable task's next claim moves the row to the current one).
        if ((inserted.has(r.task_id) || !s.epochOf.has(r.task_id)) && epoch === s.epoch())
          s.epochOf.set(r.task_id, epoch);
      } else {
        // A terminal record that updated a row (not inserted) recorded its terminal event; the
        // event was taken here when the task has a local inbox and this epoch receives its thread.
        const claim = local[i] && !inserted.has(r.task_id) ? claims.get(r.owner_thread_id) : undefined;
        if (claim !== undefined) takeTerminal(s, r, claim, stored.get(r.task_id));
        s.epochOf.delete(r.task_id);
        s.localInbox.delete(r.task_id);
      }
    } else {
      missing.push(r);
    }
  }
  if (missing.length === 0) return { refused: [] };
  return explain(s, missing);
}

/** Why records were not written: refused (a row exists: as stored now), or rejected (new, with a reason). */
async function explain(s: FenceState, missing: PersistedTaskMeta[]): Promise<PutResult> {
  const n = s.names;
  const rows = await s.pool.query<StoredRow & { orphaned_at_ms: string | null }>(
    `SELECT task_id, record, status, orphaned_at_ms, owner_epoch, writer FROM ${n.tasks} WHERE task_id = ANY($1::text[])`,
    [missing.map((r) => r.task_id)],
  );
  const byId = new Map(rows.rows.map((r) => [r.task_id, r]));
  // A retry of a put that committed but whose reply was lost finds its own records: they landed.
  const landed = echoes(s, missing, byId);
  if (landed.length > 0) {
    await takeEchoed(s, landed, byId);
    for (const r of landed) byId.delete(r.task_id);
    const done = new Set(landed);
    missing = missing.filter((r) => !done.has(r));
    if (missing.length === 0) return { refused: [] };
  }
  const { records } = decodeRows(byId.values());
  const refused = records.map((m) => {
    const row = byId.get(m.task_id)!;
    return applyStatusColumn(m, row.status, row.orphaned_at_ms);
  });
  const rejected = new Map<string, Error>();
  for (const r of missing) {
    if (byId.has(r.task_id)) {
      s.epochOf.delete(r.task_id);
      s.localInbox.delete(r.task_id);
      continue;
    }
    let error: Error;
    const run = fenceRunOf(r);
    if (
      r.name !== undefined &&
      (
        await s.pool.query(
          `SELECT 1 FROM ${n.tasks} WHERE owner_thread_id = $1 AND name = $2 AND status = 'running'`,
          [r.owner_thread_id, r.name],
        )
      ).rowCount
    ) {
      error = new RejectedRecordError('duplicate_name', `a running task named '${r.name}' already exists`);
    } else if (
      run !== null &&
      (await s.pool.query(`SELECT 1 FROM ${n.runs} WHERE run_id = $1 AND cancelled`, [run])).rowCount
    ) {
      error = new RejectedRecordError('parent_cancelled', `run '${r.parent_context.run_id}' is cancelled`);
    } else {
      error = new RejectedRecordError(
        'owner_revoked',
        'this process no longer owns tasks (its epoch was revoked)',
      );
    }
    rejected.set(r.task_id, error);
  }
  return { refused, rejected };
}
