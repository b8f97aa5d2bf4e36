import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createInbox,
  createTaskSupervisor,
  type DurableTaskStore,
  defineTask,
  type TaskEvent,
} from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { type Gate, gate, until } from '../helpers/async.js';
import { dropTables, pgUrl, requirePostgres, uniqueTable } from '../stores/pgEnv.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-durable-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

type Method = 'claim' | 'release' | 'finish';

/**
 * A SQLite or PostgreSQL store whose durable `claim` / `release` / `finish` reject: the next `n` calls of a method
 * (`Infinity`: for good), either before the write (`'before'`) or after it landed, its reply lost
 * (`'after'`). Counts the calls that reached the real store.
 */
function faultyOf(open: Open) {
  const { store, key } = open();
  const real: DurableTaskStore = store.durable;
  const faults: Record<Method, { n: number; when: 'before' | 'after' }> = {
    claim: { n: 0, when: 'before' },
    release: { n: 0, when: 'before' },
    finish: { n: 0, when: 'before' },
  };
  const calls: Record<Method, number> = { claim: 0, release: 0, finish: 0 };
  /** Opened by the first call of each method (failing or not). */
  const tried: Record<Method, Gate> = { claim: gate(), release: gate(), finish: gate() };
  const wrap =
    <A extends unknown[], R>(m: Method, f: (...a: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      tried[m].open();
      const fault = faults[m];
      if (fault.n > 0 && fault.when === 'before') {
        fault.n--;
        throw new Error(`disk I/O error (${m})`);
      }
      calls[m]++;
      const result = await f(...args);
      if (fault.n > 0) {
        fault.n--;
        throw new Error(`connection reset after ${m}`);
      }
      return result;
    };
  const durable: DurableTaskStore = {
    create: (row) => real.create(row),
    get: (id) => real.get(id),
    claim: wrap('claim', real.claim.bind(real)),
    release: wrap('release', real.release.bind(real)),
    finish: wrap('finish', real.finish.bind(real)),
    pending: (type) => real.pending(type),
    steps: (id) => real.steps(id),
    setStep: (...a) => real.setStep(...a),
    remove: (id) => real.remove(id),
    // A shared store (PostgreSQL) keeps its takeover.
    ...(real.adopt === undefined
      ? {}
      : { adopt: real.adopt.bind(real), ...(real.sweepMs === undefined ? {} : { sweepMs: real.sweepMs }) }),
  };
  Object.defineProperty(store, 'durable', { value: durable });
  return { store, real, faults, calls, tried, key };
}

const failing = (runs: number[]) =>
  defineTask<{ failFirst: boolean }, Record<never, never>, { attempt: number }>({
    taskType: 'job',
    durable: { retry: { initialIntervalMs: 1, jitter: 0, maximumAttempts: 3 } },
    run: async (ctx, input) => {
      runs.push(ctx.attempt);
      if (input.failFirst && ctx.attempt === 1) throw new Error('boom 1');
      return { attempt: ctx.attempt };
    },
  });

function terminalEvents(events: TaskEvent[]): TaskEvent[] {
  return events.filter((e) => e.kind !== 'custom');
}

/**
 * A supervisor clock on which every wait is 1 ms: the store-call retry schedule (about 22 s of
 * waits) runs through in a moment. These tasks have no deadline, so nothing else waits on it.
 */
const fastClock = {
  setTimeout: (fn: (...args: unknown[]) => void, _ms: number) => setTimeout(fn, 1),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

requirePostgres('test/durable/store-faults.test.ts');

const pgTables: string[] = [];
afterAll(async () => {
  if (pgTables.length === 0) return;
  const pool = new pg.Pool({ connectionString: pgUrl });
  for (const t of pgTables) await dropTables(pool, t);
  await pool.end();
});

/** Opens a new store, or (given the `key` of an earlier one) the same file or table again. */
type Open = (key?: string) => { store: SqliteTaskStore | PostgresTaskStore; key: string };

const BACKENDS: ReadonlyArray<readonly [string, Open | undefined]> = [
  ['SQLite', (key = `faults-${files++}.db`) => ({ store: new SqliteTaskStore(join(dir, key)), key })],
  [
    'PostgreSQL',
    pgUrl === undefined
      ? undefined
      : (key) => {
          const table = key ?? uniqueTable('dfault');
          if (key === undefined) pgTables.push(table);
          return {
            store: new PostgresTaskStore({ connectionString: pgUrl!, table, pollMs: 100 }),
            key: table,
          };
        },
  ],
];

describe.each(BACKENDS)('a durable store (%s) that rejects claim, release or finish', (_name, open) => {
  if (open === undefined) return;
  const faultyStore = () => faultyOf(open);
  for (const when of ['before', 'after'] as const) {
    it(`claim rejects twice (${when} its write lands): the attempt is counted once, runs once, and completes`, async () => {
      const { store, real, faults } = faultyStore();
      const runs: number[] = [];
      const job = failing(runs);
      const sup = createTaskSupervisor({ store });
      faults.claim = { n: 2, when };
      const id = await job.spawn(sup, { threadId: 't', description: 'j' }, { failFirst: false });
      const s = await sup.wait(id);
      expect(s.status).toBe('completed');
      expect(s.result).toEqual({ attempt: 1 });
      expect(runs).toEqual([1]);
      // The row is marked done once the terminal record was written.
      await until(async () => (await real.get(id))?.state === 'done', 5_000, 'row done');
      expect(await real.get(id)).toMatchObject({ attempt: 1, attempt_errors: [] });
      await sup.stop();
      await store.close();
    });

    it(`release rejects twice (${when} its write lands): the failure is recorded once and attempt 2 completes`, async () => {
      const { store, real, faults } = faultyStore();
      const runs: number[] = [];
      const job = failing(runs);
      const sup = createTaskSupervisor({ store });
      faults.release = { n: 2, when };
      const id = await job.spawn(sup, { threadId: 't', description: 'j' }, { failFirst: true });
      const s = await sup.wait(id);
      expect(s.status).toBe('completed');
      expect(s.result).toEqual({ attempt: 2 });
      expect(s.attempt_errors).toEqual(['boom 1']);
      expect(runs).toEqual([1, 2]);
      await until(async () => (await real.get(id))?.state === 'done', 5_000, 'row done');
      expect(await real.get(id)).toMatchObject({ attempt: 2, attempt_errors: ['boom 1'] });
      await sup.stop();
      await store.close();
    });
  }

  it('claim rejects 10 times, an outage longer than a few seconds: the task still completes, attempt counted once', async () => {
    const { store, real, faults } = faultyStore();
    const runs: number[] = [];
    const job = failing(runs);
    const sup = createTaskSupervisor({ store, clock: fastClock });
    faults.claim = { n: 10, when: 'before' };
    const id = await job.spawn(sup, { threadId: 't', description: 'j' }, { failFirst: false });
    const s = await sup.wait(id);
    expect(s.status).toBe('completed');
    expect(runs).toEqual([1]);
    await until(async () => (await real.get(id))?.state === 'done', 5_000, 'row done');
    expect(await real.get(id)).toMatchObject({ attempt: 1, attempt_errors: [] });
    await sup.stop();
    await store.close();
  });

  for (const m of ['claim', 'release'] as const) {
    it(`${m} rejects for good: the task ends failed once with the store's error, nothing stays running, no later process runs it again`, async () => {
      const { store, real, faults, calls } = faultyStore();
      const runs: number[] = [];
      const job = failing(runs);
      const sup = createTaskSupervisor({ store, clock: fastClock });
      const inbox = createInbox<TaskEvent>();
      faults[m] = { n: Number.POSITIVE_INFINITY, when: 'before' };
      const id = await job.spawn(
        sup,
        { threadId: 't', description: 'j', inbox: inbox.sender },
        { failFirst: true },
      );
      const s = await sup.wait(id);
      expect(s.status).toBe('failed');
      expect(s.error).toMatch(
        m === 'claim'
          ? /the store failed to claim attempt 1 \(16 tries\): disk I\/O error \(claim\)/
          : /the store failed to record attempt 1's failure \(16 tries\): disk I\/O error \(release\)/,
      );
      expect(runs).toEqual(m === 'claim' ? [] : [1]);
      expect(calls[m]).toBe(0);
      expect(sup.list('t').filter((t) => t.status === 'running')).toEqual([]);
      const stored = (await store.load('t')).find((r) => r.task_id === id);
      expect(stored).toMatchObject({ status: 'failed', error: s.error });
      // The row is marked done once the failed record is written: no process runs the task again.
      await until(async () => (await real.get(id))?.state === 'done', 5_000, 'row done');
      await sup.stop();
      const events = terminalEvents(inbox.receiver.drain());
      expect(events.map((e) => e.kind)).toEqual(['failed']);

      faults[m] = { n: 0, when: 'before' };
      const next = createTaskSupervisor({ store });
      expect(await next.register(job)).toBe(0);
      expect(runs).toEqual(m === 'claim' ? [] : [1]);
      await next.stop();
      await store.close();
    });
  }

  it('finish rejects three times: the completed task stays completed and its row is marked done on a later try', async () => {
    const { store, real, faults, calls } = faultyStore();
    const runs: number[] = [];
    const job = failing(runs);
    const sup = createTaskSupervisor({ store, clock: fastClock });
    faults.finish = { n: 3, when: 'before' };
    const id = await job.spawn(sup, { threadId: 't', description: 'j' }, { failFirst: false });
    expect((await sup.wait(id)).status).toBe('completed');
    await until(async () => (await real.get(id))?.state === 'done', 5_000, 'row done');
    expect(faults.finish.n).toBe(0);
    expect(calls.finish).toBe(1);
    expect(runs).toEqual([1]);
    await sup.stop();
    await store.close();
  });

  it('finish rejects for good: the task stays completed, and the next process marks its row done without running it', async () => {
    const { store, real, faults, calls, tried, key } = faultyStore();
    const runs: number[] = [];
    const job = failing(runs);
    const sup = createTaskSupervisor({ store, clock: fastClock });
    const inbox = createInbox<TaskEvent>();
    faults.finish = { n: Number.POSITIVE_INFINITY, when: 'before' };
    const id = await job.spawn(
      sup,
      { threadId: 't', description: 'j', inbox: inbox.sender },
      { failFirst: false },
    );
    expect((await sup.wait(id)).status).toBe('completed');
    await tried.finish.promise;
    await sup.stop();
    expect(calls.finish).toBe(0);
    expect((await real.get(id))?.state).toBe('running');
    expect(terminalEvents(inbox.receiver.drain()).map((e) => e.kind)).toEqual(['completed']);
    await store.close();

    // The next process (a new store on the same file or table: on PostgreSQL a new epoch, the old
    // one closed) reads the completed record and marks the row done; the body does not run again.
    const again = open!(key).store;
    const next = createTaskSupervisor({ store: again });
    expect(await next.register(job)).toBe(0);
    expect(await again.durable.get(id)).toMatchObject({ state: 'done' });
    expect(runs).toEqual([1]);
    expect((await again.load('t')).find((r) => r.task_id === id)).toMatchObject({
      status: 'completed',
      result: { attempt: 1 },
    });
    await next.stop();
    await again.close();
  });

  it('a cancel while a rejected claim waits for its next try ends the task cancelled at once, no body run', async () => {
    const { store, faults, tried } = faultyStore();
    const runs: number[] = [];
    const job = failing(runs);
    const sup = createTaskSupervisor({ store });
    faults.claim = { n: Number.POSITIVE_INFINITY, when: 'before' };
    const id = await job.spawn(sup, { threadId: 't', description: 'j' }, { failFirst: false });
    await tried.claim.promise;
    expect(sup.cancel(id)).toBe(true);
    const s = await sup.wait(id);
    expect(s.status).toBe('cancelled');
    expect(runs).toEqual([]);
    await sup.stop();
    await store.close();
  });
});
