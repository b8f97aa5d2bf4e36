import type { Pool, PoolClient } from 'pg';

/** A pool, or one of its clients inside a transaction. */
type Queryable = Pool | PoolClient;
import { ORPHAN_ERROR, orphanedMeta } from '../../supervisor/restore.js';
import type { PersistedTaskMeta } from '../../wire/types.js';
import { checkout, rollback } from './checkout.js';
import type { TableNames } from './schema.js';

/** `true` when the session advisory lock of an epoch row `e` is held (its owner's connection is open). */
export function lockHeldSql(n: TableNames): string {
  return `EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = ${n.lockClass}::bigint::oid AND l.objid = e.lock_id::bigint::oid)`;
}

/**
 * Revokes (deletes) the epochs PostgreSQL judges dead: lease expired by the database clock; or
 * advisory lock gone (the owner's connection closed) for longer than `lockGraceMs`, the time an
 * owner gets to reconnect and take it again — a missing lock alone never ends a live owner; or, when
 * `previousLivesOf` is given, an earlier life of this instance. Epochs whose lock is newly gone are
 * marked (`lock_lost_at`, database clock), which starts their grace. Returns the revoked epochs. A
 * revoked owner's heartbeat finds no row, so it can never renew itself back to life.
 */
export async function revokeDead(
  pool: Queryable,
  n: TableNames,
  lockGraceMs: number,
  previousLivesOf?: { instanceId: string; current: string },
): Promise<string[]> {
  const res = await pool.query<{ epoch: string }>(
    `WITH dead AS (
       DELETE FROM ${n.epochs} e WHERE e.expires_at <= now()
         OR (e.lock_id IS NOT NULL AND NOT ${lockHeldSql(n)}
           AND coalesce(e.lock_lost_at, now()) <= now() - make_interval(secs => $3::float8 / 1000))
         OR (e.instance_id = $1 AND e.epoch <> $2)
       RETURNING e.epoch
     ), mark AS (
       UPDATE ${n.epochs} e SET lock_lost_at = now()
       WHERE e.lock_id IS NOT NULL AND e.lock_lost_at IS NULL AND NOT ${lockHeldSql(n)}
         AND e.epoch NOT IN (SELECT epoch FROM dead)
     )
     SELECT epoch FROM dead`,
    [previousLivesOf?.instanceId ?? null, previousLivesOf?.current ?? null, lockGraceMs],
  );
  return res.rows.map((r) => r.epoch);
}

/**
 * Revokes the epochs PostgreSQL judges dead ({@link revokeDead}) and, when it revoked any, orphans
 * their tasks at once ({@link orphanOwnerless}): whoever notices a dead replica first also ends its
 * tasks, so none waits `running` for the next `loadThread` of its thread. Both in one transaction:
 * a revocation whose orphaning did not commit (the connection lost between them) is undone, so the
 * next reaper finds the epoch dead again and does both, where it would otherwise find nothing left
 * to revoke and never orphan those tasks.
 */
export async function reapDead(
  pool: Pool,
  n: TableNames,
  lockGraceMs: number,
  previousLivesOf?: { instanceId: string; current: string },
): Promise<string[]> {
  const client = await checkout(pool);
  try {
    await client.query('BEGIN');
    const revoked = await revokeDead(client, n, lockGraceMs, previousLivesOf);
    if (revoked.length > 0) await orphanOwnerless(client, n);
    await client.query('COMMIT');
    return revoked;
  } catch (e) {
    // A connection that could not even roll back is not handed back to the pool.
    await rollback(client);
    throw e;
  } finally {
    client.release();
  }
}

/**
 * Marks every `running` task whose owner epoch no longer exists `failed` (orphaned) — except a
 * durable task with work left, which a live replica adopts instead — and records
 * its terminal event, in ONE statement: the decision is the database's, so a completion that
 * commits first wins and an orphaning that commits first makes the late completion a refused write.
 * Notifies each affected thread. Returns how many tasks it orphaned.
 */
export async function orphanOwnerless(pool: Queryable, n: TableNames): Promise<number> {
  const res = await pool.query(
    `WITH orph AS (
       UPDATE ${n.tasks} t SET status = 'failed',
         orphaned_at_ms = floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint
       WHERE t.status = 'running'
         AND (t.owner_epoch IS NULL OR NOT EXISTS (SELECT 1 FROM ${n.epochs} e WHERE e.epoch = t.owner_epoch))
         -- A durable task is not orphaned: a live replica takes it over (its row says what remains).
         AND NOT EXISTS (SELECT 1 FROM ${n.durable} dt WHERE dt.task_id = t.task_id AND dt.state <> 'done')
       RETURNING t.task_id, t.owner_thread_id, t.seq
     ), ev AS (
       INSERT INTO ${n.events} (thread_id, task_id, body)
       SELECT owner_thread_id, task_id, json_build_object('kind', 'failed', 'task_id', task_id, 'error', $1::text)::text
       FROM orph ORDER BY seq
     )
     SELECT th || coalesce(pg_notify($2, json_build_object('k', 't', 't', th)::text)::text, '') AS th
     FROM (SELECT DISTINCT owner_thread_id AS th FROM orph) x`,
    [ORPHAN_ERROR, n.channel],
  );
  return res.rowCount ?? 0;
}

/** A stored row's status column wins over its record: an orphaned row keeps the owner's last record. */
export function applyStatusColumn(
  meta: PersistedTaskMeta,
  status: string,
  orphanedAtMs: string | number | null,
): PersistedTaskMeta {
  if (status === meta.status || orphanedAtMs === null) return meta;
  return orphanedMeta(meta, Number(orphanedAtMs));
}
