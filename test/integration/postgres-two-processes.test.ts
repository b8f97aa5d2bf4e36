import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORPHAN_ERROR } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import type { TaskSummary } from '../../src/wire/types.js';
import { buildDist, type Child, startChild } from '../fixtures/childProcess.js';
import { dropTables, pgUrl, requirePostgres, uniqueTable, until } from '../stores/pgEnv.js';

requirePostgres('test/integration/postgres-two-processes.test.ts');

type Ready = { t: 'ready'; instanceId: string; completed: string[]; running: string[] };
type Loaded = { t: 'loaded'; thread: string; added: number; tasks: TaskSummary[] };

const TASKS = 200;
const LEASE_MS = 500;

describe.skipIf(!pgUrl)('two processes on one PostgreSQL database (I17, section 6 item 18)', () => {
  const table = uniqueTable('two');
  let dist = '';
  let pool: pg.Pool;
  const children: Child[] = [];

  beforeAll(() => {
    dist = buildDist('postgres');
    pool = new pg.Pool({ connectionString: pgUrl });
  }, 120_000);
  afterAll(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.closed.catch(() => undefined)));
    await dropTables(pool, table);
    await pool.end();
  });

  const start = (thread: string) => {
    const c = startChild('pg-child.mjs', {
      AWAKEN_DIST: dist,
      DATABASE_URL: pgUrl!,
      TABLE: table,
      THREAD: thread,
      TASKS: String(TASKS),
      LEASE_MS: String(LEASE_MS),
    });
    children.push(c);
    return c;
  };
  const ready = async (c: Child) => {
    await until(() => c.lines.some((l) => (l as Ready).t === 'ready'), 30_000, 'the child to be ready');
    return c.lines.find((l) => (l as Ready).t === 'ready') as Ready;
  };
  const load = async (c: Child, thread: string, cmd: 'load' | 'load-fresh' = 'load') => {
    const before = c.lines.length;
    c.send({ cmd, thread });
    await until(() => c.lines.length > before, 10_000, `load of ${thread}`);
    return c.lines[before] as Loaded;
  };

  it('no lost or mixed records; a live peer is never orphaned; a dead one is, once its lease lapses', async () => {
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

    // Kill a; wait (by polling the database's clock) until its lease has lapsed.
    a.proc.kill('SIGKILL');
    await a.closed;
    await until(
      async () =>
        (
          await pool.query(`SELECT 1 FROM "${table}_leases" WHERE instance_id = $1 AND expires_at > now()`, [
            ra.instanceId,
          ])
        ).rowCount === 0,
      10_000,
      "a's lease to expire",
    );
    // A supervisor that has not seen a's tasks yet: the one that loaded them while a lived holds
    // them as remote entries, which its loadThread does not re-examine (reported to the core owner).
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
