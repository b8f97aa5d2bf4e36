import type { TaskStore } from '../stores/types.js';
import { parsePersistedTaskMeta } from '../wire/parse.js';
import type { PersistedTaskMeta, TaskId } from '../wire/types.js';
import { type TaskEntry, storedEntry } from './entry.js';

/** The exact error of a task that was running when its process died. */
export const ORPHAN_ERROR = 'task orphaned: runtime restarted while running';

/** What restore needs from the supervisor. */
export interface RestoreHost {
  byId: ReadonlyMap<TaskId, TaskEntry>;
  now(): number;
  bumpPast(id: TaskId): void;
  add(entry: TaskEntry): void;
  /** Replaces a remote (other process's) running entry with its newer record. */
  replaceRemote(entry: TaskEntry, meta: PersistedTaskMeta): void;
  write(meta: PersistedTaskMeta): Promise<void>;
}

/** Accepts an iterable of records or a record keyed by task id; throws `TypeError` otherwise. */
export function recordsOf(
  metas: Iterable<PersistedTaskMeta> | Record<TaskId, PersistedTaskMeta>,
): PersistedTaskMeta[] {
  if (typeof metas !== 'object' || metas === null) {
    throw new TypeError(
      `Expected \`metas\` to be an iterable or a record of task records, got ${metas === null ? 'null' : typeof metas}`,
    );
  }
  const raw: unknown[] =
    Symbol.iterator in metas ? Array.from(metas as Iterable<unknown>) : Object.values(metas);
  // Validate everything first: a bad record rejects the whole restore, so nothing is half-restored.
  return raw.map((r, i) => {
    try {
      return parsePersistedTaskMeta(r);
    } catch (e) {
      const id = (r as { task_id?: unknown } | null)?.task_id;
      const where = typeof id === 'string' ? `record '${id}'` : `record ${i}`;
      throw new TypeError(`${where}: ${(e as Error).message}`);
    }
  });
}

/**
 * Upstream's `restore_for_thread`, plus orphan detection: for each record whose id is not held,
 * move the id counter past it, make `threadId` its owner, turn a `running` record with no live
 * task (and no live writer elsewhere) into `failed` + {@link ORPHAN_ERROR}, keep it and write it.
 * Records are added in creation order so `list` stays ordered. Returns how many were added.
 */
export async function restoreRecords(
  host: RestoreHost,
  threadId: string,
  records: readonly PersistedTaskMeta[],
  store: TaskStore,
): Promise<number> {
  // Held remote entries are asked about again: their writer may have died since the last load.
  const running = records.filter((r) => r.status === 'running' && (host.byId.get(r.task_id)?.remote ?? true));
  const liveElsewhere: ReadonlySet<TaskId> =
    running.length > 0 && store.liveElsewhere !== undefined ? await store.liveElsewhere(running) : new Set();
  const sorted = [...records].sort((a, b) => a.created_at_ms - b.created_at_ms);
  const writes: Promise<void>[] = [];
  let added = 0;
  for (const record of sorted) {
    const held = host.byId.get(record.task_id);
    let meta: PersistedTaskMeta = { ...record, owner_thread_id: threadId };
    const remote = meta.status === 'running' && liveElsewhere.has(meta.task_id);
    if (held !== undefined) {
      if (held.remote && !remote) {
        // Its writer finished it, or died: take the newer record, or orphan it now.
        const next =
          meta.status === 'running' && meta.max_attempts === undefined
            ? orphanedMeta(meta, host.now())
            : meta;
        host.replaceRemote(held, next);
        if (next !== meta) writes.push(host.write(next));
      }
      continue;
    }
    host.bumpPast(meta.task_id);
    // A durable task (its record has `max_attempts`) is not orphaned: registering its type resumes it.
    if (meta.status === 'running' && !remote && meta.max_attempts === undefined)
      meta = orphanedMeta(meta, host.now());
    const entry = storedEntry(meta, threadId);
    entry.remote = remote;
    host.add(entry);
    // Another live process owns a remote record's row; writing it back could undo that process's writes.
    if (!remote) writes.push(host.write(meta));
    added++;
  }
  await Promise.all(writes);
  return added;
}

/**
 * The record of a task orphaned at `completedAtMs`: `failed` with {@link ORPHAN_ERROR} and
 * `stop_reason: 'orphaned'`, without a result, and without what only a running task has (its
 * phase and input request; a durable task's next attempt), as a task that ends any other way.
 * Restore and the PostgreSQL store (a row orphaned in SQL) both make it here.
 *
 * @example
 * orphanedMeta(runningRecord, Date.now()).status; // 'failed'
 */
export function orphanedMeta(meta: PersistedTaskMeta, completedAtMs: number): PersistedTaskMeta {
  const next: PersistedTaskMeta & { phase?: unknown } = {
    ...meta,
    status: 'failed',
    error: ORPHAN_ERROR,
    completed_at_ms: completedAtMs,
    stop_reason: 'orphaned',
  };
  delete next.result;
  delete next.phase;
  delete next.input_request;
  if (next.max_attempts !== undefined) delete next.next_attempt_at_ms;
  return next;
}
