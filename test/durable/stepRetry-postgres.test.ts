import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTaskSupervisor, defineTask, LOST_ATTEMPT_ERROR } from '../../src/index.js';
import { gate } from '../helpers/async.js';
import { durableState, pgSuite, pgUrl, requirePostgres, storedStatus, until } from '../stores/pgEnv.js';

requirePostgres('test/durable/stepRetry-postgres.test.ts');

/** The server processes whose statement names `text` and waits on a lock. */
async function lockWaiters(pool: pg.Pool, text: string): Promise<number[]> {
  const res = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0`,
    [text],
  );
  return res.rows.map((r) => r.pid);
}

describe.skipIf(!pgUrl)(
  'a durable step whose store connection is killed while it records (PostgreSQL)',
  () => {
    const db = pgSuite();
    const pool = db.pool;
    const table = db.table('dstep');
    const store = db.store(table);

    it('pg_terminate_backend of the connection writing the step: the step is recorded on a later try, the task completes on attempt 1', async () => {
      const sup = createTaskSupervisor({ store });
      const inStep = gate();
      const release = gate();
      let fetches = 0;
      const job = defineTask({
        taskType: 'job',
        durable: { retry: { initialIntervalMs: 1, jitter: 0, maximumAttempts: 3 } },
        run: async (ctx) => {
          const pages = await ctx.step('fetch', async () => {
            fetches++;
            inStep.open();
            await release.promise;
            return { pages: 3 };
          });
          return { attempt: ctx.attempt, pages };
        },
      });
      const id = await job.spawn(sup, { threadId: 't', description: 'j' });
      await inStep.promise;

      // Hold the task's row so the step's write (fenced FOR SHARE on that row) waits on the lock:
      // the store's connection is then caught mid-write, and killed there.
      const locker = await pool.connect();
      try {
        await locker.query('BEGIN');
        await locker.query(`SELECT 1 FROM "${table}_durable" WHERE task_id = $1 FOR UPDATE`, [id]);
        release.open();
        const writing = () => lockWaiters(pool, `${table}_durable_steps`);
        await until(async () => (await writing()).length === 1, 10_000, 'the step write to wait on the lock');
        const killed = await pool.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND position($1 in query) > 0`,
          [`${table}_durable_steps`],
        );
        expect(killed.rowCount).toBe(1);
        await until(async () => (await writing()).length === 0, 10_000, 'the killed write to be gone');
      } finally {
        await locker.query('ROLLBACK');
        locker.release();
      }

      const s = await sup.wait(id);
      expect(s.status).toBe('completed');
      expect(s.result).toEqual({ attempt: 1, pages: { pages: 3 } });
      expect(s.attempt).toBe(1);
      expect(s.attempt_errors).toBeUndefined();
      expect(fetches).toBe(1);
      const steps = await pool.query<{ name: string; value: string }>(
        `SELECT name, value FROM "${table}_durable_steps" WHERE task_id = $1`,
        [id],
      );
      expect(steps.rows.map((r) => [r.name, JSON.parse(r.value)])).toEqual([['step:fetch', { pages: 3 }]]);
      await sup.stop();
    });
  },
);

describe.skipIf(!pgUrl)('stop() while a durable step write waits on the database (PostgreSQL)', () => {
  const suite = pgSuite();

  it('the step write waits on a row lock when stop() is called: stop resolves without it, the task stays running in the store, another process takes it up and completes it', async () => {
    const table = suite.table('dstepstop');
    // The write would wait for the lock until the query timeout (the lease: 60 s here), the body
    // for it, and stop() for the body until the cancel grace (120 s here).
    const first = suite.store(table, { leaseMs: 60_000 });
    const sup = createTaskSupervisor({ store: first, cancelGraceMs: 120_000 });
    const started = gate();
    const release = gate();
    let life = 1;
    const job = defineTask({
      taskType: 'job',
      durable: { retry: { initialIntervalMs: 1, jitter: 0, maximumAttempts: 3 } },
      run: async (ctx) => {
        if (life === 1) {
          started.open();
          await release.promise;
        }
        const pages = await ctx.step('fetch', () => 3);
        return { attempt: ctx.attempt, pages };
      },
    });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    await started.promise;
    const locker = await suite.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM "${table}_durable" WHERE task_id = $1 FOR UPDATE`, [id]);
      release.open();
      await until(
        async () => (await lockWaiters(suite.pool, `${table}_durable_steps`)).length === 1,
        10_000,
        'the step write to wait on the lock',
      );
      let stopped = false;
      const stopping = sup.stop().then(() => {
        stopped = true;
      });
      // Generous, and far short of the write's own timeout.
      await until(() => stopped, 20_000, 'stop() to resolve while the step write waits');
      await stopping;
      expect(sup.get(id)!.status).toBe('running');
      expect(await storedStatus(suite.pool, table, id)).toBe('running');
      expect(await durableState(suite.pool, table, id)).toBe('running');
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await first.close();

    life = 2;
    const next = createTaskSupervisor({ store: suite.store(table) });
    expect(await next.register(job)).toBe(1);
    const s = await next.wait(id);
    expect(s.status).toBe('completed');
    expect(s.result).toEqual({ attempt: 2, pages: 3 });
    expect(s.attempt_errors).toEqual([`attempt 1: ${LOST_ATTEMPT_ERROR}`]);
    await next.stop();
  }, 60_000);
});
