import { afterAll, describe, expect, it } from 'vitest';
import { createTaskSupervisor, TaskResult } from '../../src/index.js';
import type { TaskContext } from '../../src/index.js';
import { gate } from '../helpers/async.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/supervisor/replicasNestedRun.test.ts');

/** Nested spawns record their run (S2) with PostgreSQL as the authority of two replicas. */
describe.skipIf(!pgUrl)('nested spawns and the run fence on PostgreSQL replicas (S2, S3, gap 11)', () => {
  const db = pgSuite();
  const { pool } = db;
  const stops: Array<() => Promise<void>> = [];
  const replica = (table: string) => {
    const s = createTaskSupervisor({ store: db.store(table) });
    stops.push(() => s.stop());
    return s;
  };
  const table = () => db.table('nestrun');
  /** Two replicas on a new table, both with their schema ready. */
  const twoReady = async () => {
    const t = table();
    const a = replica(t);
    const b = replica(t);
    await Promise.all([a.loadThread('T'), b.loadThread('T')]);
    return { t, a, b };
  };
  /** Waits until run `run` is fenced (cancelled) in the database. */
  const fencedInDatabase = (t: string, run: string, what: string) =>
    until(
      async () =>
        (await pool.query(`SELECT 1 FROM "${t}_runs" WHERE run_id = $1 AND cancelled`, [run])).rowCount === 1,
      10_000,
      what,
    );
  const row = async (t: string, id: string) =>
    (await pool.query(`SELECT run_id, parent_task_id, status FROM "${t}" WHERE task_id = $1`, [id])).rows[0];
  const opts = (extra: object = {}) => ({ threadId: 'T', taskType: 'job', description: 'd', ...extra });
  const untilCancelled = async (ctx: TaskContext) => {
    await ctx.cancelled();
    return TaskResult.cancelled();
  };

  // Runs before pgSuite's cleanup (after-hooks run last registered first).
  afterAll(async () => {
    for (const stop of stops) await stop();
  });

  it('S2 the nested record carries run_id in the database; B sees only the root as the run root and its sweep reaches the nested task on A once', async () => {
    const t = table();
    const a = replica(t);
    const b = replica(t);
    const nested = gate<string>();
    const root = await a.spawn(opts({ parentContext: { run_id: 'run-n' } }), async (ctx) => {
      nested.open(await a.spawn(opts(), untilCancelled));
      return untilCancelled(ctx);
    });
    const kid = await nested.promise;
    expect(await row(t, kid)).toEqual({ run_id: 'run-n', parent_task_id: root, status: 'running' });
    await b.loadThread('T');
    expect(b.get(kid)?.parent_context).toEqual({ task_id: root, run_id: 'run-n' });
    expect(b.runningRootsOfRun('run-n').map((s) => s.task_id)).toEqual([root]);
    expect(b.cancelDescendantsForRun('run-n')).toBe(2);
    for (const id of [root, kid])
      await until(async () => (await row(t, id))?.status === 'cancelled', 10_000, `${id} cancelled on A`);
  }, 30_000);

  it('S3 gap 11: the database fence trims run ids on both sides and never fences a blank one', async () => {
    const { t, a, b } = await twoReady();
    b.cancelDescendantsForRun(' run-t ');
    b.cancelDescendantsForRun('  ');
    await fencedInDatabase(t, 'run-t', 'the trimmed run fence in the database');
    // A never saw the cancel: only the database refuses these.
    for (const run of ['run-t', '\trun-t', 'run-t  ']) {
      const e = await a
        .spawn(opts({ parentContext: { run_id: run } }), untilCancelled)
        .catch((err: unknown) => err);
      expect(e).toMatchObject({ code: 'parent_cancelled', message: `run '${run}' is cancelled` });
    }
    const blank = await a.spawn(opts({ parentContext: { run_id: ' ' } }), untilCancelled);
    expect((await row(t, blank))?.status).toBe('running');
    expect((await pool.query(`SELECT run_id FROM "${t}_runs" WHERE cancelled`)).rows).toEqual([
      { run_id: 'run-t' },
    ]);
  }, 30_000);

  it('S2 gap 11: a nested spawn that inherits a fenced run is judged by its parent on every replica (the database fences parentless spawns only)', async () => {
    const { t, a, b } = await twoReady();
    b.cancelDescendantsForRun('run-f');
    // The fence is in the database: a parentless spawn into run-f on A is refused.
    await fencedInDatabase(t, 'run-f', 'the run fence in the database');
    await expect(a.spawn(opts({ parentContext: { run_id: 'run-f' } }), untilCancelled)).rejects.toMatchObject(
      {
        code: 'parent_cancelled',
      },
    );
    const nested = gate<string>();
    const parent = await a.spawn(
      opts({ parentContext: { task_id: 'bg_elsewhere', run_id: 'run-f' } }),
      async (ctx) => {
        nested.open(await a.spawn(opts(), untilCancelled));
        return untilCancelled(ctx);
      },
    );
    const kid = await nested.promise;
    expect(await row(t, kid)).toEqual({ run_id: 'run-f', parent_task_id: parent, status: 'running' });
  }, 30_000);
});
