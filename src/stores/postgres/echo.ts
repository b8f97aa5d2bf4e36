import { terminalEventOf } from '../../wire/convert.js';
import type { PersistedTaskMeta } from '../../wire/types.js';
import type { FenceState } from './fencedPut.js';

/** A stored row as `explain` reads it for a record that did not land. */
export interface StoredRow {
  readonly task_id: string;
  readonly record: string;
  readonly status: string;
  readonly owner_epoch: string | null;
  readonly writer: string;
}

/**
 * The terminal records of `missing` that this process's own earlier attempt already wrote: a put
 * whose reply was lost with its connection (it committed) and is now retried. Such a record is
 * stored exactly as sent, by this writer, on the row it owned (or, for an id the store did not
 * know, inserted as is, with no owner epoch): it landed, it is not refused.
 */
export function echoes(
  s: FenceState,
  missing: readonly PersistedTaskMeta[],
  byId: ReadonlyMap<string, StoredRow>,
): PersistedTaskMeta[] {
  const out: PersistedTaskMeta[] = [];
  const epoch = s.epoch();
  for (const r of missing) {
    const row = byId.get(r.task_id);
    if (
      row !== undefined &&
      r.status !== 'running' &&
      row.status === r.status &&
      row.writer === s.instanceId &&
      (row.owner_epoch === null
        ? !s.epochOf.has(r.task_id)
        : row.owner_epoch === (s.epochOf.get(r.task_id) ?? epoch)) &&
      row.record === JSON.stringify(r)
    ) {
      out.push(r);
    }
  }
  return out;
}

/**
 * Takes, for local delivery, the terminal events of `landed` (records an earlier attempt wrote,
 * see `echoes`; `byId` holds their rows as stored) as that attempt would have: an event stored
 * for this epoch's claim (an acknowledging inbox) by its seq, an event not stored at all (it was
 * taken for the local inbox) under the thread's current claim. An event stored for the thread's
 * receiver stays there.
 */
export async function takeEchoed(
  s: FenceState,
  landed: readonly PersistedTaskMeta[],
  byId: ReadonlyMap<string, StoredRow>,
): Promise<void> {
  // A record inserted as is (no owner epoch) recorded no terminal event, as on its first attempt.
  const local = landed.filter(
    (r) => s.localInbox.has(r.task_id) && byId.get(r.task_id)?.owner_epoch !== null,
  );
  if (local.length > 0) {
    const n = s.names;
    const res = await s.pool.query<{ k: string; id: string; claim: string | null; seq: string | null }>(
      `SELECT 'c' AS k, thread_id AS id, claim, NULL::bigint AS seq FROM ${n.receivers}
         WHERE epoch = $1 AND thread_id = ANY($2::text[])
       UNION ALL SELECT 'e', task_id, taken_by, seq FROM ${n.events} WHERE task_id = ANY($3::text[])`,
      [s.epoch(), [...new Set(local.map((r) => r.owner_thread_id))], local.map((r) => r.task_id)],
    );
    const claims = new Map<string, string>();
    const stored = new Map<string, { claim: string | null; seq: number }>();
    for (const row of res.rows) {
      if (row.k === 'c') claims.set(row.id, row.claim!);
      else stored.set(row.id, { claim: row.claim, seq: Number(row.seq) });
    }
    for (const r of local) {
      const claim = claims.get(r.owner_thread_id);
      const ev = stored.get(r.task_id);
      if (claim === undefined || (ev !== undefined && ev.claim !== claim)) continue;
      takeTerminal(s, r, claim, ev?.seq);
    }
  }
  for (const r of landed) {
    s.epochOf.delete(r.task_id);
    s.localInbox.delete(r.task_id);
  }
}

/**
 * A landed terminal record's event is taken for this process's local inbox, under the thread's
 * `claim` (and its stored `seq`, for an acknowledging inbox): the supervisor delivers it.
 *
 * @example
 * takeTerminal(s, record, claim, undefined);
 */
export function takeTerminal(
  s: FenceState,
  r: PersistedTaskMeta,
  claim: string,
  seq: number | undefined,
): void {
  s.tookTerminal.set(r.task_id, { threadId: r.owner_thread_id, event: terminalEventOf(r)!, claim, seq });
}
