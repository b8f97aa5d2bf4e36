import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  createTaskSupervisor,
  type DurableTaskStore,
  defineTask,
  LOST_ATTEMPT_ERROR,
} from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { gate, until } from '../helpers/async.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-durable-register-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/**
 * Replaces `store.durable` with one whose `release` rejects once, on its `nth` call: before its
 * write (`'before'`) or after it landed, its reply lost (`'after'`).
 */
function releaseRejectsOnce(store: SqliteTaskStore, nth: number, when: 'before' | 'after'): void {
  const real: DurableTaskStore = store.durable;
  let calls = 0;
  const durable: DurableTaskStore = {
    create: (row) => real.create(row),
    get: (id) => real.get(id),
    claim: (...a) => real.claim(...a),
    release: async (...a) => {
      calls++;
      if (calls === nth && when === 'before') throw new Error('disk I/O error (release)');
      const landed = await real.release(...a);
      if (calls === nth) throw new Error('connection reset after release');
      return landed;
    },
    finish: (id) => real.finish(id),
    pending: (type) => real.pending(type),
    steps: (id) => real.steps(id),
    setStep: (...a) => real.setStep(...a),
    remove: (id) => real.remove(id),
  };
  Object.defineProperty(store, 'durable', { value: durable });
}

describe('register() whose own store call rejects (durable-tasks.md, recovery)', () => {
  it.each(['before', 'after'] as const)(
    'the release of a lost attempt rejects once (%s its write lands): register rejects; called again it takes up the rest; each task runs once more, its lost attempt counted once',
    async (when) => {
      const file = join(dir, `register-${files++}.db`);
      const started: string[] = [];
      const runs: Array<{ id: string; attempt: number }> = [];
      let firstLife = true;
      const release = gate();
      const job = defineTask<{ n: number }, Record<never, never>, { n: number; attempt: number }>({
        taskType: 'job',
        durable: { retry: { initialIntervalMs: 1, jitter: 0, maximumAttempts: 3 } },
        run: async (ctx, input) => {
          if (firstLife) {
            started.push(ctx.taskId);
            // Runs until the process stops: the attempt is lost, as after a crash.
            await new Promise((_, reject) =>
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
            );
          }
          runs.push({ id: ctx.taskId, attempt: ctx.attempt });
          // Still running when register is called again: it must not be taken up twice.
          await release.promise;
          return { n: input.n, attempt: ctx.attempt };
        },
      });

      let store = new SqliteTaskStore(file);
      let sup = createTaskSupervisor({ store });
      const ids: string[] = [];
      for (let n = 0; n < 3; n++)
        ids.push(await job.spawn(sup, { threadId: 't', description: `job ${n}` }, { n }));
      await until(() => started.length === 3, 5_000, 'three attempts running');
      await sup.stop();
      await store.close();

      firstLife = false;
      store = new SqliteTaskStore(file);
      // Recovery releases each lost attempt in spawn order: the second one's release rejects.
      releaseRejectsOnce(store, 2, when);
      sup = createTaskSupervisor({ store });
      await expect(sup.register(job)).rejects.toThrow(
        when === 'before' ? 'disk I/O error' : 'connection reset',
      );
      // The rest are taken up by the next call; the task taken up by the first is skipped.
      await until(() => runs.length === 1, 5_000, 'the task taken up first to run');
      expect(await sup.register(job)).toBe(2);
      await until(() => runs.length === 3, 5_000, 'the other two to run');
      release.open();
      for (const [n, id] of ids.entries()) {
        const end = await sup.wait(id);
        expect(end.status).toBe('completed');
        expect(end.result).toEqual({ n, attempt: 2 });
        expect(end.attempt_errors).toEqual([`attempt 1: ${LOST_ATTEMPT_ERROR}`]);
      }
      // Each task ran once in this life, as attempt 2: none twice, none left behind.
      expect(runs.map((r) => r.id).sort()).toEqual([...ids].sort());
      expect(runs.every((r) => r.attempt === 2)).toBe(true);
      const stored = await store.load('t');
      expect(stored.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
      // Every row is marked done once its task ended (after the terminal record, in the background).
      await until(async () => (await store.durable.pending('job')).length === 0, 5_000, 'every row done');
      for (const id of ids) {
        expect((await store.durable.get(id))?.attempt_errors).toEqual([`attempt 1: ${LOST_ATTEMPT_ERROR}`]);
      }
      await sup.stop();
      await store.close();
    },
    20_000,
  );
});

describe('stop() while a durable task backs off (durable-tasks.md, choices and limits)', () => {
  it('the task loses nothing: the next process runs attempt 2, with only attempt 1’s error', async () => {
    const file = join(dir, `backoff-${files++}.db`);
    const failed = gate();
    const attempts: number[] = [];
    const job = defineTask<Record<string, never>, Record<never, never>, { attempt: number }>({
      taskType: 'job',
      durable: { retry: { initialIntervalMs: 60_000, jitter: 0, maximumAttempts: 2 } },
      run: async (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) {
          failed.open();
          throw new Error('boom 1');
        }
        return { attempt: ctx.attempt };
      },
    });
    // The first life's clock stands still ten minutes in the past: the task is still backing off
    // when it stops, and its stored next run time has passed for the next process's real clock.
    const clock = new SimulatedClock();
    clock.set(Date.now() - 600_000);
    let store = new SqliteTaskStore(file);
    let sup = createTaskSupervisor({ store, clock, now: () => clock.now() });
    const id = await job.spawn(sup, { threadId: 't', description: 'backs off' }, {});
    await failed.promise;
    await until(() => sup.get(id)?.phase === 'retrying', 5_000, 'the task to back off');
    await sup.stop();
    expect(sup.get(id)!.status).toBe('running');
    await store.close();

    store = new SqliteTaskStore(file);
    sup = createTaskSupervisor({ store });
    expect(await sup.register(job)).toBe(1);
    const end = await sup.wait(id);
    // maximumAttempts is 2: had the stop counted as a lost attempt, the task would have failed.
    expect(end.status).toBe('completed');
    expect(end.result).toEqual({ attempt: 2 });
    expect(end.attempt_errors).toEqual(['boom 1']);
    expect(attempts).toEqual([1, 2]);
    await sup.stop();
    await store.close();
  }, 20_000);
});

describe('recovery: a record already terminal wins (durable-tasks.md, recovery is a re-enqueue)', () => {
  it.each(['running', 'waiting'] as const)(
    'the process died after writing the terminal record, before marking its row done (row %s): register runs nothing, marks the row done, the result stays',
    async (state) => {
      const file = join(dir, `terminal-${files++}.db`);
      const runs: number[] = [];
      const job = defineTask<{ n: number }, Record<never, never>, { n: number }>({
        taskType: 'job',
        durable: { retry: { initialIntervalMs: 1, jitter: 0, maximumAttempts: 3 } },
        run: async (ctx, input) => {
          runs.push(ctx.attempt);
          return { n: input.n };
        },
      });
      let store = new SqliteTaskStore(file);
      let sup = createTaskSupervisor({ store });
      const id = await job.spawn(sup, { threadId: 't', description: 'once' }, { n: 7 });
      expect((await sup.wait(id)).status).toBe('completed');
      await until(async () => (await store.durable.pending('job')).length === 0, 5_000, 'the row done');
      await sup.stop();
      await store.close();
      // As if the process died between the two writes: the row still says the attempt runs (or waits).
      const db = new Database(file);
      db.prepare('UPDATE durable_tasks SET state = ? WHERE task_id = ?').run(state, id);
      db.close();

      store = new SqliteTaskStore(file);
      sup = createTaskSupervisor({ store });
      expect(await sup.register(job)).toBe(0);
      expect(await store.durable.pending('job')).toEqual([]);
      await sup.loadThread('t');
      expect(sup.get(id)).toMatchObject({ status: 'completed', result: { n: 7 } });
      expect(runs).toEqual([1]);
      await sup.stop();
      await store.close();
    },
  );
});
