import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTaskSupervisor, defineTask, type TaskSupervisor } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { durableState, pgSuite, pgUrl, requirePostgres, storedStatus, until } from '../stores/pgEnv.js';

requirePostgres('test/durable/postgres-slowPuts.test.ts');

/** The fenced put (every record write of the store) starts with this. */
const PUT = /^WITH data AS MATERIALIZED \(\s+SELECT task_id, coalesce/;
/** How long each record write takes here: longer than the heartbeat that replaces the epoch. */
const PUT_MS = 400;

/**
 * An owner epoch replaced inside a live process while its record writes are slow (a loaded
 * database): writes in flight across the replacement must neither strand the task's later writes
 * nor end it with a record that is still running.
 */
describe.skipIf(!pgUrl)('durable tasks on PostgreSQL whose record writes are slow (issue 21)', () => {
  const db = pgSuite();
  let open: { sup: TaskSupervisor; store: PostgresTaskStore; pool: pg.Pool }[] = [];
  afterEach(async () => {
    for (const o of open) {
      await o.sup.stop();
      await o.store.close();
      await o.pool.end();
    }
    open = [];
  });

  /** A store on `table` whose every record write lands PUT_MS late, and its supervisor. */
  const slowStore = (table: string) => {
    const real = new pg.Pool({ connectionString: pgUrl, max: 4 });
    // The adversary: every record write lands PUT_MS late (the delay sets the scenario).
    const query = ((text: unknown, ...rest: unknown[]) => {
      const run = () => (real.query as (...a: unknown[]) => Promise<unknown>)(text, ...rest);
      return typeof text === 'string' && PUT.test(text)
        ? new Promise((r) => setTimeout(r, PUT_MS)).then(run)
        : run();
    }) as pg.Pool['query'];
    const pool = new Proxy(real, {
      get: (target, key, receiver) => (key === 'query' ? query : Reflect.get(target, key, receiver)),
    });
    const store = new PostgresTaskStore({ pool, table, pollMs: 100 });
    const sup = createTaskSupervisor({ store });
    open.push({ sup, store, pool: real });
    return { store, sup };
  };

  it('an owner epoch replaced between attempts while puts take 400 ms: attempt 2 completes, in memory and in the store', async () => {
    const table = db.table('dslow');
    const { store, sup } = slowStore(table);
    // Only the retry loop's claim moves the record to the new epoch (no takeover sweep).
    store.durable.adopt = async () => [];
    const flaky = defineTask({
      taskType: 'slow-epoch',
      durable: { retry: { initialIntervalMs: 3_000, jitter: 0, maximumAttempts: 3 } },
      run: async (ctx) => {
        if (ctx.attempt === 1) throw new Error('first fails');
        return { attempt: ctx.attempt };
      },
    });
    const id = await flaky.spawn(sup, { threadId: 'T', description: 'e' });
    await until(() => sup.get(id)?.phase === 'retrying', 10_000, 'retrying');
    const old = store.epoch;
    await db.pool.query(
      `UPDATE "${table}_epochs" SET expires_at = now() - interval '1 second' WHERE epoch = $1`,
      [old],
    );
    await until(() => store.epoch !== old, 10_000, 'a new epoch');
    const s = await sup.wait(id);
    expect(s).toMatchObject({ status: 'completed', attempt: 2, result: { attempt: 2 } });
    await until(
      async () => (await storedStatus(db.pool, table, id)) === 'completed',
      15_000,
      'stored completed',
    );
    expect((await store.load('T')).find((r) => r.task_id === id)).toMatchObject({
      status: 'completed',
      attempt: 2,
      attempt_errors: ['first fails'],
    });
    expect(sup.get(id)).toMatchObject({ status: 'completed', attempt: 2 });
  }, 30_000);

  it('an owner epoch replaced while attempt 1 runs and its start is still being written: memory, store and row agree on one outcome', async () => {
    const table = db.table('dslow');
    const { store, sup } = slowStore(table);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const attempts: number[] = [];
    const job = defineTask({
      taskType: 'slow-mid',
      durable: { retry: { initialIntervalMs: 50, jitter: 0, maximumAttempts: 3 } },
      run: async (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) await gate;
        return { attempt: ctx.attempt };
      },
    });
    const id = await job.spawn(sup, { threadId: 'T', description: 'm' });
    // Attempt 1's start (its running record, attempt 1) is a write in flight for PUT_MS.
    await until(() => attempts.length === 1, 10_000, 'attempt 1 started');
    const old = store.epoch;
    await db.pool.query(
      `UPDATE "${table}_epochs" SET expires_at = now() - interval '1 second' WHERE epoch = $1`,
      [old],
    );
    await until(() => store.epoch !== old, 10_000, 'a new epoch');
    // The task ends here while that write is still in flight: its refusal (the takeover moved the
    // row) must not send memory back to the running record the store held, nor strand the row.
    release();
    await until(
      async () => (await storedStatus(db.pool, table, id)) === 'completed',
      15_000,
      'stored completed',
    );
    const last = attempts.at(-1)!;
    await until(() => sup.get(id)?.status === 'completed', 15_000, 'memory completed');
    expect(sup.get(id)).toMatchObject({ status: 'completed', result: { attempt: last } });
    expect((await store.load('T')).find((r) => r.task_id === id)).toMatchObject({
      status: 'completed',
      result: { attempt: last },
    });
    await until(
      async () => (await durableState(db.pool, table, id)) === 'done',
      15_000,
      'the durable row done',
    );
  }, 40_000);
});
