// Shared by the PostgreSQL write-path tests (postgres-batch-kill, postgres-pipeline): tasks whose
// bodies wait for a gate, an inbox that records what it is sent, a row locked elsewhere to hold a
// put, and the backends of the store's put statements.
import type pg from 'pg';
import type { InboxSender } from '../../src/inbox/types.js';
import type { TaskSupervisor } from '../../src/index.js';
import type { TaskEvent, TaskId } from '../../src/wire/types.js';
import { pgUrl } from '../stores/pgEnv.js';

/** An owner inbox that records every event it is sent. */
export function recordingInbox(): { sender: InboxSender; events: TaskEvent[] } {
  const events: TaskEvent[] = [];
  const sender: InboxSender = {
    send(e) {
      events.push(e as unknown as TaskEvent);
      return true;
    },
    trySend(e) {
      return this.send(e);
    },
    isClosed: () => false,
    clone() {
      return this;
    },
    close() {},
  };
  return { sender, events };
}

/** `n` tasks on `threadId` (described `task <i>`, returning `{ i }`), their bodies held until `release`. */
export async function spawnHeld(
  supervisor: TaskSupervisor,
  n: number,
  threadId: string,
): Promise<{ ids: TaskId[]; release: () => void }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const ids = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      supervisor.spawn({ threadId, taskType: 'job', description: `task ${i}` }, async () => {
        await gate;
        return { i };
      }),
    ),
  );
  return { ids, release };
}

/** The database URL with its sessions named `app` in pg_stat_activity. */
export function namedUrl(app: string): string {
  const url = new URL(pgUrl!);
  url.searchParams.set('application_name', app);
  return url.href;
}

/**
 * Runs `fn` while row `taskId` of `table` is locked (`FOR UPDATE`) in a transaction of its own,
 * rolled back afterwards whatever `fn` does.
 */
export async function whileRowLocked<T>(
  pool: pg.Pool,
  table: string,
  taskId: TaskId,
  fn: () => Promise<T>,
): Promise<T> {
  const blocker = await pool.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM "${table}" WHERE task_id = $1 FOR UPDATE`, [taskId]);
    return await fn();
  } finally {
    await blocker.query('ROLLBACK').catch(() => undefined);
    blocker.release();
  }
}

/** The backends of `app` whose last statement is a put (waiting on a lock only, if `waiting`). */
export async function putBackends(pool: pg.Pool, app: string, waiting = false): Promise<number[]> {
  const res = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%WITH data AS MATERIALIZED%'
       AND ($2::bool IS FALSE OR wait_event_type = 'Lock')`,
    [app, waiting],
  );
  return res.rows.map((r) => r.pid);
}
