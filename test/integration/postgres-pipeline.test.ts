import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTaskSupervisor } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import type { TaskEvent, TaskId } from '../../src/wire/types.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';
import { namedUrl, putBackends, recordingInbox, spawnHeld, whileRowLocked } from './heldWrites.js';

requirePostgres('test/integration/postgres-pipeline.test.ts');

const THREAD = 'pipeline';

describe.skipIf(!pgUrl)('PostgreSQL pipelined puts', () => {
  const { pool, table: newTable } = pgSuite();

  /** Every task completed once: in memory, in the store, one terminal event each. */
  async function expectAllCompletedOnce(
    table: string,
    supervisor: ReturnType<typeof createTaskSupervisor>,
    events: TaskEvent[],
    ids: readonly TaskId[],
  ) {
    await until(() => events.length >= ids.length, 30_000, 'every terminal event delivered');
    expect(events).toHaveLength(ids.length);
    expect(new Set(events.map((e) => e.task_id)).size).toBe(ids.length);
    expect(events.every((e) => e.kind === 'completed')).toBe(true);
    for (const id of ids) expect(supervisor.get(id)?.status).toBe('completed');
    const rows = await pool.query<{ status: string; record: string }>(
      `SELECT status, record FROM "${table}"`,
    );
    expect(rows.rows).toHaveLength(ids.length);
    for (const row of rows.rows) {
      expect(row.status).toBe('completed');
      const rec = JSON.parse(row.record) as { description: string; result: { i: number } };
      expect(rec.description).toBe(`task ${rec.result.i}`);
    }
    const dup = await pool.query(
      `SELECT task_id FROM "${table}_events" GROUP BY task_id HAVING count(*) > 1`,
    );
    expect(dup.rows).toEqual([]);
  }

  it('the store pipelines puts (and does not behind a transaction-pooling proxy)', async () => {
    const a = new PostgresTaskStore({ connectionString: pgUrl!, table: newTable('pdepth') });
    const b = new PostgresTaskStore({
      connectionString: pgUrl!,
      table: newTable('pdepth'),
      transactionPooling: true,
    });
    expect(a.pipelinedPuts).toBeGreaterThan(1);
    expect(b.pipelinedPuts).toBe(1);
    await a.close();
    await b.close();
  });

  it('I20 the write connection killed with several puts in flight: they all fail, are written again on a new connection, every task completes once', async () => {
    const table = newTable('pkill');
    const app = `pkill_${process.pid}_${Date.now()}`;
    const store = new PostgresTaskStore({ connectionString: namedUrl(app), table });
    const { sender, events } = recordingInbox();
    const supervisor = createTaskSupervisor({ store, ownerInbox: sender });
    const { ids, release } = await spawnHeld(supervisor, 1200, THREAD);
    // A row of the first terminal chunk is locked elsewhere: that put waits, and the chunks after
    // it are queued behind it on the same connection.
    await whileRowLocked(pool, table, ids[10]!, async () => {
      release();
      let victim: number | undefined;
      await until(
        async () => (victim = (await putBackends(pool, app, true))[0]) !== undefined,
        20_000,
        'the first terminal put waiting on the locked row',
      );
      // Every terminal record was written by now, in puts queued behind the waiting one.
      await until(
        () => ids.every((id) => supervisor.get(id)?.status === 'completed'),
        20_000,
        'all bodies ended',
      );
      const killed = await pool.query('SELECT pg_terminate_backend($1) AS ok', [victim]);
      expect(killed.rows[0].ok).toBe(true);
    });
    await expectAllCompletedOnce(table, supervisor, events, ids);
    // The put that waited and the ones queued behind it failed together.
    expect(supervisor.stats().storeFailures).toBeGreaterThanOrEqual(2);
    expect(supervisor.stats().storeRefused).toBe(0);
    await supervisor.stop();
    await store.close();
  }, 60_000);

  it('I20 a put held past its time by a lock is ended by the server, not by dropping the connection: the puts behind it go on, on the same connection', async () => {
    const table = newTable('plock');
    const app = `plock_${process.pid}_${Date.now()}`;
    // A 3 s lease: statements on the write connection end server-side after 2.25 s.
    const store = new PostgresTaskStore({ connectionString: namedUrl(app), table, leaseMs: 3000 });
    const { sender, events } = recordingInbox();
    const supervisor = createTaskSupervisor({ store, ownerInbox: sender });
    const { ids, release } = await spawnHeld(supervisor, 600, THREAD);
    let pid: number | undefined;
    await whileRowLocked(pool, table, ids[5]!, async () => {
      release();
      await until(
        async () => (pid = (await putBackends(pool, app))[0]) !== undefined,
        20_000,
        'the write connection',
      );
      // The held put is ended by the server (statement timeout) and retried: more than once.
      await until(() => supervisor.stats().storeFailures >= 2, 20_000, 'the held put failed twice');
      // The puts queued behind it landed meanwhile: their tasks' events arrived.
      await until(() => events.length > 0, 20_000, 'events of the puts behind the held one');
    });
    await expectAllCompletedOnce(table, supervisor, events, ids);
    // One connection all along: never dropped for a slow statement.
    expect(await putBackends(pool, app)).toEqual([pid]);
    await supervisor.stop();
    await store.close();
  }, 60_000);

  it('I20 a statement failing between others in the pipeline fails only its own record: the spawns around it land', async () => {
    const table = newTable('pbad');
    const store = new PostgresTaskStore({ connectionString: pgUrl!, table });
    const { sender, events } = recordingInbox();
    const supervisor = createTaskSupervisor({ store, ownerInbox: sender });
    await store.load('none');
    // A running name too large for its unique index (incompressible): the database refuses that
    // row, and with it the statement that holds it.
    const huge = randomBytes(6000).toString('base64');
    const N = 900;
    const spawns = Array.from({ length: N }, (_, i) =>
      supervisor.spawn(
        { threadId: THREAD, taskType: 'job', description: `task ${i}`, ...(i === 300 ? { name: huge } : {}) },
        async () => ({ i }),
      ),
    );
    const settled = await Promise.allSettled(spawns);
    const failed = settled.filter((s) => s.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({
      name: 'SpawnError',
      code: 'store_failed',
    });
    expect(String((failed[0] as PromiseRejectedResult).reason.message)).toContain('index row');
    expect(settled[300]!.status).toBe('rejected');
    const ids = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    await expectAllCompletedOnce(table, supervisor, events, ids);
    await supervisor.stop();
    await store.close();
  }, 60_000);
});
