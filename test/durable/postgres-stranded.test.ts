import { describe, expect, it } from 'vitest';
import { createTaskSupervisor, defineTask } from '../../src/index.js';
import { durableState, pgSuite, pgUrl, requirePostgres, storedStatus, until } from '../stores/pgEnv.js';

requirePostgres('test/durable/postgres-stranded.test.ts');

/**
 * A durable row waiting for its next attempt under this process's own (live) epoch, with no
 * attempt loop here to claim it, is no takeover's (its epoch is alive), yet nobody else will run
 * it: the sweep takes it up, as it takes up a dead epoch's rows.
 */
describe.skipIf(!pgUrl)('durable tasks on PostgreSQL: a row stranded under this process’s own epoch', () => {
  const db = pgSuite();

  it('a row of this epoch waiting with no attempt loop here is taken up by the sweep and completes, once', async () => {
    const table = db.table('dstrand');
    // One store, one epoch, two supervisors: the first leaves the row waiting between attempts
    // when it stops; the second, on the same epoch, never claimed it.
    const store = db.store(table);
    const first = createTaskSupervisor({ store });
    const runs: number[] = [];
    let failFirst = true;
    const job = defineTask({
      taskType: 'stranded-job',
      durable: { retry: { initialIntervalMs: 200, jitter: 0, maximumAttempts: 3 } },
      run: async (ctx) => {
        runs.push(ctx.attempt);
        if (failFirst && ctx.attempt === 1) throw new Error('first fails');
        return { attempt: ctx.attempt };
      },
    });
    const id = await job.spawn(first, { threadId: 'T', description: 's' });
    await until(() => first.get(id)?.phase === 'retrying', 10_000, 'retrying');
    await first.stop();
    failFirst = false;
    const row = await db.pool.query<{ state: string; owner_epoch: string }>(
      `SELECT state, owner_epoch FROM "${table}_durable" WHERE task_id = $1`,
      [id],
    );
    // Stranded: waiting, under the store's live epoch, and no supervisor running it.
    expect(row.rows[0]).toEqual({ state: 'waiting', owner_epoch: store.epoch });

    const second = createTaskSupervisor({ store });
    await second.register(job);
    await until(
      async () => (await storedStatus(db.pool, table, id)) === 'completed',
      15_000,
      'stored completed',
    );
    expect(runs).toEqual([1, 2]);
    expect(await second.wait(id)).toMatchObject({ status: 'completed', attempt: 2, result: { attempt: 2 } });
    await until(
      async () => (await durableState(db.pool, table, id)) === 'done',
      10_000,
      'the durable row done',
    );
    await second.stop();
  }, 30_000);
});
