import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createInbox,
  createTaskSupervisor,
  defineTask,
  type TaskEvent,
  type TaskSupervisor,
} from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { dropTables, pgUrl, requirePostgres, uniqueTable, until } from '../stores/pgEnv.js';

requirePostgres('test/durable/postgres-clock.test.ts');

/**
 * Durable tasks on PostgreSQL against the database's clock: backoff and delayed start read from
 * the stored rows and `clock_timestamp()`, cancel while waiting, and an owner epoch replaced inside
 * a live process between attempts.
 */
describe.skipIf(!pgUrl)('durable tasks on PostgreSQL: timing on the database clock (issue 21)', () => {
  let pool: pg.Pool;
  const tables: string[] = [];
  let open: { store: PostgresTaskStore; sup: TaskSupervisor }[] = [];
  // How far this process's estimate of the database clock may be off, and how long a release takes.
  const SLACK_MS = 60;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: pgUrl, max: 4 });
  });
  afterEach(async () => {
    for (const o of open) {
      await o.sup.stop();
      await o.store.close();
    }
    open = [];
  });
  afterAll(async () => {
    for (const t of tables) await dropTables(pool, t);
    await pool.end();
  });

  const setup = (leaseMs?: number) => {
    const table = uniqueTable('dclock');
    tables.push(table);
    const store = new PostgresTaskStore({
      connectionString: pgUrl!,
      table,
      pollMs: 100,
      ...(leaseMs === undefined ? {} : { leaseMs }),
    });
    const inbox = createInbox<TaskEvent>();
    const sup = createTaskSupervisor({ store, ownerInbox: inbox.sender });
    open.push({ store, sup });
    return { table, store, sup, receiver: inbox.receiver };
  };
  /**
   * The terminal events delivered for `id`: waits for the first, then until nothing is left to
   * write and no stored event of the task is left untaken, and drains again (a duplicate would be
   * delivered by then). A task whose epoch was replaced while it ran has no local inbox in the
   * store any more: its terminal event is stored for the thread's receiver (this process) and
   * arrives by notification, after its record and row landed, not with the write.
   */
  const terminalEvents = async (
    sup: TaskSupervisor,
    receiver: ReturnType<typeof createInbox<TaskEvent>>['receiver'],
    table: string,
    id: string,
  ) => {
    const got: TaskEvent[] = [];
    const take = () => {
      for (const e of receiver.drain()) if (e.task_id === id && e.kind !== 'custom') got.push(e);
    };
    await until(
      () => {
        take();
        return got.length > 0;
      },
      10_000,
      'the terminal event delivered',
    );
    await until(() => sup.stats().storeBacklog === 0, 10_000, 'nothing left to write');
    await until(
      async () =>
        (await pool.query(`SELECT 1 FROM "${table}_events" WHERE task_id = $1`, [id])).rowCount === 0,
      10_000,
      'every stored event of the task taken',
    );
    take();
    return got;
  };
  const dbNow = async (): Promise<number> =>
    Number(
      (
        await pool.query<{ ms: string }>(
          `SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms`,
        )
      ).rows[0]!.ms,
    );
  const durableRow = async (table: string, id: string) =>
    (
      await pool.query<{ state: string; attempt: number; next_run_at_ms: string; owner_epoch: string }>(
        `SELECT state, attempt, next_run_at_ms, owner_epoch FROM "${table}_durable" WHERE task_id = $1`,
        [id],
      )
    ).rows[0]!;
  const taskRow = async (table: string, id: string) =>
    (
      await pool.query<{ status: string; owner_epoch: string | null }>(
        `SELECT status, owner_epoch FROM "${table}" WHERE task_id = $1`,
        [id],
      )
    ).rows[0]!;

  it('backoff is honoured on the database clock: each stored next run is within the jitter bounds, and the next attempt starts no earlier', async () => {
    const { table, sup } = setup();
    const policy = { initialIntervalMs: 300, backoffCoefficient: 2, jitter: 0.5, maximumAttempts: 3 };
    // Per attempt: the database clock when it started, when it threw, and the stored next run it saw;
    // `readMs`, how long (on this process's clock) from sending that last clock read to the throw.
    const seen: {
      attempt: number;
      startedAt: number;
      threwAt?: number;
      readMs?: number;
      nextRunAt: number;
    }[] = [];
    const flaky = defineTask({
      taskType: 'clock-flaky',
      durable: { retry: policy },
      run: async (ctx) => {
        const startedAt = await dbNow();
        const row = await durableRow(table, ctx.taskId);
        const entry: (typeof seen)[number] = {
          attempt: ctx.attempt,
          startedAt,
          nextRunAt: Number(row.next_run_at_ms),
        };
        seen.push(entry);
        if (ctx.attempt < 3) {
          const sent = performance.now();
          entry.threwAt = await dbNow();
          entry.readMs = performance.now() - sent;
          throw new Error(`boom ${ctx.attempt}`);
        }
        return 'done';
      },
    });
    const id = await flaky.spawn(sup, { threadId: 'T', description: 'b' });
    expect((await sup.wait(id)).status).toBe('completed');
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    for (const n of [1, 2]) {
      const failed = seen[n - 1]!;
      const next = seen[n]!;
      const base = policy.initialIntervalMs * policy.backoffCoefficient ** (n - 1);
      // The stored next run time, measured from the failure on the database clock. The runtime
      // reads its clock after the throw, up to `readMs` after the database read `threwAt` (a busy
      // machine can hold the reply or the throw for longer than the slack).
      const delay = next.nextRunAt - failed.threwAt!;
      expect(delay).toBeGreaterThanOrEqual(base * (1 - policy.jitter) - SLACK_MS);
      expect(delay).toBeLessThanOrEqual(base + Math.ceil(failed.readMs!) + SLACK_MS);
      // The next attempt started no earlier than that time (database clock).
      expect(next.startedAt).toBeGreaterThanOrEqual(next.nextRunAt - SLACK_MS);
      expect(next.startedAt - failed.threwAt!).toBeGreaterThanOrEqual(base * (1 - policy.jitter) - SLACK_MS);
    }
    console.log(
      `backoff on the database clock: ${seen
        .slice(1)
        .map(
          (s, i) =>
            `attempt ${s.attempt} due ${s.nextRunAt - seen[i]!.threwAt!} ms after the failure, started ${s.startedAt - seen[i]!.threwAt!} ms after`,
        )
        .join('; ')}`,
    );
  });

  it('startAfterMs: the stored run time is the spawn (database clock) plus the delay, and the body starts no earlier', async () => {
    const { table, sup } = setup();
    let startedAt = 0;
    const later = defineTask({
      taskType: 'clock-later',
      durable: { retry: { maximumAttempts: 1 } },
      run: async () => {
        startedAt = await dbNow();
        return 'ran';
      },
    });
    const before = await dbNow();
    const id = await later.spawn(sup, { threadId: 'T', description: 'l', startAfterMs: 1_000 });
    // Seen queued first: the phase lasts the delay only, and the reads below take round trips.
    await until(() => sup.get(id)?.phase === 'queued', 2_000, 'queued');
    const queued = sup.get(id)!;
    const after = await dbNow();
    const created = queued.created_at_ms;
    expect(created).toBeGreaterThanOrEqual(before - SLACK_MS);
    expect(created).toBeLessThanOrEqual(after + SLACK_MS);
    expect(queued.next_attempt_at_ms).toBe(created + 1_000);
    const row = await durableRow(table, id);
    expect(Number(row.next_run_at_ms)).toBe(created + 1_000);
    expect((await sup.wait(id)).status).toBe('completed');
    expect(startedAt).toBeGreaterThanOrEqual(created + 1_000 - SLACK_MS);
    expect(startedAt).toBeGreaterThanOrEqual(before + 1_000 - SLACK_MS);
  });

  it('cancel while waiting for a start or for a retry: cancelled at once, no further body, the rows say so', async () => {
    const { table, sup } = setup();
    let runs = 0;
    const slowRetry = defineTask({
      taskType: 'clock-cancel',
      durable: { retry: { initialIntervalMs: 60_000, jitter: 0, maximumAttempts: 5 } },
      run: async () => {
        runs++;
        throw new Error('again');
      },
    });
    const queued = await slowRetry.spawn(sup, { threadId: 'T', description: 'q', startAfterMs: 60_000 });
    const retrying = await slowRetry.spawn(sup, { threadId: 'T', description: 'r' });
    await until(() => sup.get(queued)?.phase === 'queued', 2_000, 'queued');
    await until(() => sup.get(retrying)?.phase === 'retrying', 5_000, 'retrying');
    const due = Number((await durableRow(table, retrying)).next_run_at_ms);
    expect(due - (await dbNow())).toBeGreaterThan(50_000);
    for (const id of [queued, retrying]) {
      expect(sup.cancel(id)).toBe(true);
      expect(sup.get(id)!.status).toBe('cancelled');
      expect((await sup.wait(id)).status).toBe('cancelled');
    }
    expect(runs).toBe(1);
    await until(
      async () =>
        (await taskRow(table, queued)).status === 'cancelled' &&
        (await taskRow(table, retrying)).status === 'cancelled' &&
        (await durableRow(table, queued)).state === 'done' &&
        (await durableRow(table, retrying)).state === 'done',
      5_000,
      'rows cancelled and done',
    );
    expect((await durableRow(table, queued)).attempt).toBe(0);
    expect((await durableRow(table, retrying)).attempt).toBe(1);
  });

  it('an owner epoch replaced inside a live process between attempts: the next claim moves the record to the new epoch and the task completes', async () => {
    const { table, store, sup } = setup();
    // The takeover sweep is switched off, so only the retry loop's claim can move the record.
    let sweeps = 0;
    store.durable.adopt = async () => {
      sweeps++;
      return [];
    };
    const flaky = defineTask({
      taskType: 'clock-epoch',
      // Room for the epoch to be replaced while it waits, on a busy machine too.
      durable: { retry: { initialIntervalMs: 3_000, jitter: 0, maximumAttempts: 3 } },
      run: async (ctx) => {
        if (ctx.attempt === 1) throw new Error('first fails');
        return { attempt: ctx.attempt };
      },
    });
    const id = await flaky.spawn(sup, { threadId: 'T', description: 'e' });
    await until(() => sup.get(id)?.phase === 'retrying', 5_000, 'retrying');
    const old = store.epoch;
    expect((await taskRow(table, id)).owner_epoch).toBe(old);
    // The lease lapses by the database clock: the heartbeat finds it gone and takes a new epoch.
    await pool.query(
      `UPDATE "${table}_epochs" SET expires_at = now() - interval '1 second' WHERE epoch = $1`,
      [old],
    );
    await until(() => store.epoch !== old, 5_000, 'a new epoch');
    expect(sup.get(id)?.phase).toBe('retrying');
    const s = await sup.wait(id);
    expect(s).toMatchObject({ status: 'completed', attempt: 2, result: { attempt: 2 } });
    await until(async () => (await taskRow(table, id)).status === 'completed', 5_000, 'stored completed');
    const row = await durableRow(table, id);
    expect(row.owner_epoch).toBe(store.epoch);
    expect((await store.load('T')).find((r) => r.task_id === id)).toMatchObject({
      status: 'completed',
      attempt: 2,
      attempt_errors: ['first fails'],
    });
    await until(async () => (await durableRow(table, id)).state === 'done', 5_000, 'row done');
    expect(sweeps).toBeGreaterThan(0);
  });

  it('an owner epoch replaced while an attempt runs: the late attempt is fenced, one outcome, nothing stays running', async () => {
    const { table, store, sup, receiver } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const attempts: number[] = [];
    const def = defineTask({
      taskType: 'clock-mid',
      durable: { retry: { initialIntervalMs: 50, jitter: 0, maximumAttempts: 3 } },
      run: async (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) await gate;
        return { attempt: ctx.attempt };
      },
    });
    const id = await def.spawn(sup, { threadId: 'T', description: 'm' });
    await until(() => attempts.length === 1, 5_000, 'attempt 1 started');
    const old = store.epoch;
    await pool.query(
      `UPDATE "${table}_epochs" SET expires_at = now() - interval '1 second' WHERE epoch = $1`,
      [old],
    );
    await until(() => store.epoch !== old, 5_000, 'a new epoch');
    // Attempt 1 returns under the dead epoch: its result is refused.
    release();
    await until(async () => (await taskRow(table, id)).status === 'completed', 10_000, 'stored completed');
    // Either the sweep took the row over before the late result was written (refused; attempt 2
    // completes it), or after (the row and record already moved to this epoch: attempt 1's result
    // lands). One outcome either way, the store and memory agree, nothing stays running.
    expect([[1], [1, 2]]).toContainEqual(attempts);
    const last = attempts.at(-1)!;
    const stored = (await store.load('T')).find((r) => r.task_id === id)!;
    expect(stored).toMatchObject({ status: 'completed', attempt: last, result: { attempt: last } });
    if (last === 2) {
      expect(stored.attempt_errors).toEqual([
        'attempt 1: the process running this attempt stopped before it ended',
      ]);
    }
    await until(() => sup.get(id)?.status === 'completed', 5_000, 'memory completed');
    expect(sup.get(id)).toMatchObject({ attempt: last, result: { attempt: last } });
    await until(async () => (await durableRow(table, id)).state === 'done', 5_000, 'row done');
    expect((await taskRow(table, id)).owner_epoch).toBe(store.epoch);
    // One outcome, one terminal event: the late attempt's result and attempt 2's do not both arrive.
    expect(await terminalEvents(sup, receiver, table, id)).toEqual([
      { kind: 'completed', task_id: id, result: { attempt: last } },
    ]);
  });

  it('a lost attempt’s backoff starts when the takeover runs (database clock), not when its owner died', async () => {
    const { table, store, sup, receiver } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const attempts: number[] = [];
    const BACKOFF = 2_000;
    const def = defineTask({
      taskType: 'clock-lost',
      durable: { retry: { initialIntervalMs: BACKOFF, jitter: 0, maximumAttempts: 3 } },
      run: async (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) await gate;
        return { attempt: ctx.attempt };
      },
    });
    const id = await def.spawn(sup, { threadId: 'T', description: 'lost' });
    await until(() => attempts.length === 1, 5_000, 'attempt 1 started');
    const old = store.epoch;
    // The owner epoch died a minute ago by the database clock: a backoff counted from its death
    // would be long over; counted from the takeover it still has BACKOFF to run.
    const before = await dbNow();
    await pool.query(
      `UPDATE "${table}_epochs" SET expires_at = now() - interval '60 seconds' WHERE epoch = $1`,
      [old],
    );
    let row = await durableRow(table, id);
    let seenAt = 0;
    await until(
      async () => {
        row = await durableRow(table, id);
        seenAt = await dbNow();
        return row.state !== 'running' || row.attempt !== 1;
      },
      10_000,
      'the takeover to record attempt 1 lost',
    );
    expect(row).toMatchObject({ state: 'waiting', attempt: 1 });
    const nextRunAt = Number(row.next_run_at_ms);
    expect(nextRunAt).toBeGreaterThanOrEqual(before + BACKOFF - SLACK_MS);
    expect(nextRunAt).toBeLessThanOrEqual(seenAt + BACKOFF + SLACK_MS);
    // The late attempt 1 then ends (this process took its own row over: its result may land, as
    // in the test above); one outcome either way, nothing stays running.
    release();
    await until(async () => (await taskRow(table, id)).status === 'completed', 15_000, 'stored completed');
    const last = (await store.load('T')).find((r) => r.task_id === id)!.attempt!;
    expect([1, 2]).toContain(last);
    expect(attempts.slice(0, last)).toEqual(last === 1 ? [1] : [1, 2]);
    await until(() => sup.get(id)?.status === 'completed', 5_000, 'memory completed');
    expect(sup.get(id)).toMatchObject({ attempt: last, result: { attempt: last } });
    await until(async () => (await durableRow(table, id)).state === 'done', 5_000, 'row done');
    expect(await terminalEvents(sup, receiver, table, id)).toEqual([
      { kind: 'completed', task_id: id, result: { attempt: last } },
    ]);
  });
});
