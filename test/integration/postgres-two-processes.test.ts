import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORPHAN_ERROR } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { tableNames } from '../../src/stores/postgres/schema.js';
import type { TaskSummary } from '../../src/wire/types.js';
import { buildDist, type Child, startChild, untilChild } from '../fixtures/childProcess.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/integration/postgres-two-processes.test.ts');

type Ready = { t: 'ready'; instanceId: string; completed: string[]; running: string[] };
type Loaded = { t: 'loaded'; thread: string; added: number; tasks: TaskSummary[] };

const TASKS = 200;
// A killed process is dead at once (its advisory lock goes with its connection); the lease only
// covers stalls, and a long one keeps a busy machine from making a live peer look stalled.
const LEASE_MS = 30_000;

describe.skipIf(!pgUrl)('two processes on one PostgreSQL database (I17, section 6 item 18)', () => {
  const db = pgSuite();
  const { pool } = db;
  const table = db.table('two');
  let dist = '';
  const children: Child[] = [];

  beforeAll(() => {
    dist = buildDist('postgres');
  }, 120_000);
  // Runs before pgSuite's cleanup (after-hooks run last registered first).
  afterAll(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.closed.catch(() => undefined)));
  });

  const start = (thread: string) => {
    const c = startChild('pg-child.mjs', {
      AWAKEN_DIST: dist,
      DATABASE_URL: pgUrl!,
      TABLE: table,
      THREAD: thread,
      TASKS: String(TASKS),
      LEASE_MS: String(LEASE_MS),
      // A gone process is judged dead this long after its lock is first seen missing.
      LOCK_GRACE_MS: '1000',
    });
    children.push(c);
    return c;
  };
  const ready = async (c: Child) => {
    await untilChild(
      c,
      () => c.lines.some((l) => (l as Ready).t === 'ready'),
      30_000,
      'the child to be ready',
    );
    return c.lines.find((l) => (l as Ready).t === 'ready') as Ready;
  };
  const load = async (c: Child, thread: string, cmd: 'load' | 'load-fresh' = 'load') => {
    const before = c.lines.length;
    c.send({ cmd, thread });
    await untilChild(c, () => c.lines.length > before, 10_000, `load of ${thread}`);
    return c.lines[before] as Loaded;
  };

  it('no lost or mixed records; a live peer is never orphaned; a killed one is, once its lock has been gone for the grace (long before its lease)', async () => {
    const a = start('thread-a');
    const b = start('thread-b');
    const [ra, rb] = await Promise.all([ready(a), ready(b)]);

    // Concurrent writers: every record present, in its own thread, with its own results; ids unique.
    const observer = new PostgresTaskStore({ pool, table });
    for (const [r, thread] of [
      [ra, 'thread-a'],
      [rb, 'thread-b'],
    ] as const) {
      const records = await observer.load(thread);
      expect(records.map((x) => x.task_id).sort()).toEqual([...r.completed, ...r.running].sort());
      for (const rec of records) {
        if (r.completed.includes(rec.task_id)) {
          expect(rec.status).toBe('completed');
          expect((rec.result as { thread: string }).thread).toBe(thread);
        } else expect(rec.status).toBe('running');
      }
    }
    const allIds = [...ra.completed, ...ra.running, ...rb.completed, ...rb.running];
    expect(new Set(allIds).size).toBe(2 * TASKS);

    // While both live, each loading the other's thread marks nothing orphaned.
    for (const [c, thread, other] of [
      [a, 'thread-b', rb],
      [b, 'thread-a', ra],
    ] as const) {
      const loaded = await load(c, thread);
      expect(loaded.tasks.filter((t) => t.error === ORPHAN_ERROR)).toEqual([]);
      expect(
        loaded.tasks
          .filter((t) => t.status === 'running')
          .map((t) => t.task_id)
          .sort(),
      ).toEqual([...other.running].sort());
    }
    expect((await observer.load('thread-a')).filter((r) => r.status !== 'completed').length).toBe(TASKS / 2);

    // Kill a; its connection closes, so the server releases its advisory lock: dead at once, long
    // before its lease would lapse.
    a.proc.kill('SIGKILL');
    await a.closed;
    await until(
      async () =>
        (
          await pool.query(
            `SELECT 1 FROM pg_locks l JOIN "${table}_epochs" e ON l.objid = e.lock_id::bigint::oid
               AND l.classid = $2::bigint::oid
             WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND e.instance_id = $1`,
            // Lock ids count from 1 in every table: the class tells this table's locks from those of
            // another test running at the same time.
            [ra.instanceId, tableNames(table).lockClass],
          )
        ).rowCount === 0,
      10_000,
      "a's advisory lock to be released",
    );
    // Both a supervisor that never saw a's tasks and the one holding them as remote entries orphan
    // them, once the lock has been seen missing for the grace (1 s here; the lease is 30 s).
    const killedAt = Date.now();
    let again = await load(b, 'thread-a');
    await until(
      async () => {
        again = await load(b, 'thread-a');
        return again.tasks.some((t) => t.error === ORPHAN_ERROR);
      },
      10_000,
      "a's tasks to be orphaned",
    );
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS / 3);
    expect(
      again.tasks
        .filter((t) => t.error === ORPHAN_ERROR)
        .map((t) => t.task_id)
        .sort(),
    ).toEqual([...ra.running].sort());
    const after = await load(b, 'thread-a', 'load-fresh');
    const orphans = after.tasks
      .filter((t) => t.status === 'failed' && t.error === ORPHAN_ERROR)
      .map((t) => t.task_id);
    expect(orphans.sort()).toEqual([...ra.running].sort());
    expect(
      after.tasks
        .filter((t) => t.status === 'completed')
        .map((t) => t.task_id)
        .sort(),
    ).toEqual([...ra.completed].sort());
    await observer.close();
  }, 90_000);
});
