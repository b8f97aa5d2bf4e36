import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTaskSupervisor,
  defineTask,
  LOST_ATTEMPT_ERROR,
  type SupervisorOptions,
  type TaskId,
  type TaskSupervisor,
} from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { gate, until } from '../helpers/async.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-durable-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A durable type whose bodies count how many run at once: `life` says which process runs them.
 * The first life's bodies never return (that process "dies"); later lives' bodies wait for
 * `release` (or their signal) and record the most bodies seen running together.
 */
function counted() {
  const state = {
    life: 1,
    running: 0,
    max: 0,
    started: 0,
    release: gate(),
    order: [] as number[],
  };
  const job = defineTask<{ n: number }, Record<never, never>, { n: number; attempt: number }>({
    taskType: 'job',
    durable: { retry: { initialIntervalMs: 1, jitter: 0 } },
    run: async (ctx, input) => {
      state.started++;
      if (state.life === 1) return new Promise<never>(() => {});
      state.order.push(input.n);
      state.running++;
      state.max = Math.max(state.max, state.running);
      try {
        await Promise.race([
          state.release.promise,
          new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        ]);
      } finally {
        state.running--;
      }
      return { n: input.n, attempt: ctx.attempt };
    },
  });
  return { state, job };
}

/**
 * A first process on `file`: `spawn` starts its tasks; once `started` resolves the process "dies":
 * never stopped, its store closed under it.
 */
async function firstProcess<T>(
  file: string,
  spawn: (sup: TaskSupervisor) => Promise<T>,
  started: (store: SqliteTaskStore) => Promise<unknown>,
): Promise<T> {
  const store = new SqliteTaskStore(file);
  const spawned = await spawn(createTaskSupervisor({ store }));
  await started(store);
  await store.close();
  return spawned;
}

/** The first process of `counted`: spawns five durable tasks, sees their bodies start, and is abandoned. */
function firstLife(file: string, job: ReturnType<typeof counted>['job'], state: { started: number }) {
  return firstProcess(
    file,
    async (sup) => {
      const ids: TaskId[] = [];
      for (let n = 0; n < 5; n++)
        ids.push(await job.spawn(sup, { threadId: 't', description: `job ${n}` }, { n }));
      return ids;
    },
    () => until(() => state.started === 5, 5_000, 'five bodies started'),
  );
}

/** A next process on `file` whose `register(type)` takes up `resumed` unfinished tasks. */
async function nextProcess(
  file: string,
  type: { readonly taskType: string },
  resumed: number,
  options: SupervisorOptions = {},
) {
  const store = new SqliteTaskStore(file);
  const sup = createTaskSupervisor({ store, ...options });
  expect(await sup.register(type)).toBe(resumed);
  return { store, sup };
}

describe('durable tasks taken up at register() pass through the concurrency limits', () => {
  it('a limit of 2 and five unfinished durable tasks after a restart: never more than 2 bodies at once, all 5 complete', async () => {
    const file = join(dir, 'limit.db');
    const { state, job } = counted();
    const ids = await firstLife(file, job, state);

    state.life = 2;
    const { store, sup } = await nextProcess(file, job, 5, { concurrency: { global: 2 } });
    const queued = () => ids.filter((id) => sup.get(id)?.phase === 'queued').length;
    // Every task has either started its body or waits for a slot.
    await until(() => state.running + queued() === 5, 5_000, 'five bodies running or queued');
    expect(state.running).toBe(2);
    expect(queued()).toBe(3);
    state.release.open();
    for (const id of ids) {
      const s = await sup.wait(id);
      expect(s.status).toBe('completed');
      expect(s.attempt).toBe(2);
      expect(s.attempt_errors).toEqual([`attempt 1: ${LOST_ATTEMPT_ERROR}`]);
      expect(s).not.toHaveProperty('phase');
    }
    expect(state.max).toBe(2);
    expect(state.order.sort()).toEqual([0, 1, 2, 3, 4]);
    await sup.stop();
    expect((await store.load('t')).map((r) => r.status)).toEqual(Array(5).fill('completed'));
    await store.close();
  });

  it('stop() while resumed tasks wait for a slot leaves them running in the store; the next process completes them', async () => {
    const file = join(dir, 'stop-queued.db');
    const { state, job } = counted();
    const ids = await firstLife(file, job, state);

    state.life = 2;
    let { store, sup } = await nextProcess(file, job, 5, { concurrency: { global: 1 } });
    const isQueued = (id: TaskId) => sup.get(id)?.phase === 'queued';
    await until(() => state.running + ids.filter(isQueued).length === 5, 5_000, 'running or queued');
    expect(state.running).toBe(1);
    const queued = ids.filter(isQueued);
    expect(queued).toHaveLength(4);
    await sup.stop();
    for (const id of ids) expect(sup.get(id)!.status).toBe('running');
    expect(state.started).toBe(6);
    await store.close();

    state.life = 3;
    state.release.open();
    store = new SqliteTaskStore(file);
    const stored = new Map((await store.load('t')).map((r) => [r.task_id, r]));
    for (const id of ids) expect(stored.get(id)!.status).toBe('running');
    sup = createTaskSupervisor({ store, concurrency: { global: 2 } });
    expect(await sup.register(job)).toBe(5);
    for (const id of ids) {
      const s = await sup.wait(id);
      expect(s.status).toBe('completed');
      // A task that waited for its slot lost no attempt; the one that ran in life 2 lost one more.
      const lost = queued.includes(id) ? 1 : 2;
      expect(s.attempt).toBe(lost + 1);
      expect(s.attempt_errors).toHaveLength(lost);
    }
    expect(state.max).toBeLessThanOrEqual(2);
    await sup.stop();
    await store.close();
  });
});

describe('a durable task taken up at register() keeps its stored budget', () => {
  it('a usage report past the budget in the resumed attempt cancels it with stop_reason budget', async () => {
    const file = join(dir, 'budget.db');
    let life = 1;
    const started = gate();
    const spender = defineTask({
      taskType: 'spender',
      durable: { retry: { initialIntervalMs: 1, jitter: 0 } },
      run: async (ctx) => {
        if (life === 1) {
          started.open();
          return new Promise<never>(() => {});
        }
        ctx.reportUsage({ tokens: 150 });
        // Over its budget: the report has cancelled it already.
        ctx.signal.throwIfAborted();
        return 'spent';
      },
    });
    const id = await firstProcess(
      file,
      (first) => spender.spawn(first, { threadId: 't', description: 's', budget: { tokens: 100 } }),
      () => started.promise,
    );

    life = 2;
    const { store, sup } = await nextProcess(file, spender, 1);
    const s = await sup.wait(id);
    expect(s).toMatchObject({ status: 'cancelled', stop_reason: 'budget', budget: { tokens: 100 } });
    await sup.stop();
    await store.close();
  });

  it('usage stored before the restart counts against the budget after it, as it would have in one process', async () => {
    const file = join(dir, 'budget-carry.db');
    let life = 1;
    const hanging = gate();
    const spender = defineTask({
      taskType: 'spender',
      durable: { retry: { initialIntervalMs: 1, jitter: 0, maximumAttempts: 5 } },
      run: async (ctx) => {
        if (life === 1 && ctx.attempt === 1) {
          ctx.reportUsage({ tokens: 60 });
          // A failed attempt: the retry writes the record, with the usage so far.
          throw new Error('first try');
        }
        if (life === 1) {
          hanging.open();
          return new Promise<never>(() => {});
        }
        ctx.reportUsage({ tokens: 60 });
        ctx.signal.throwIfAborted();
        return 'spent';
      },
    });
    const id = await firstProcess(
      file,
      (first) => spender.spawn(first, { threadId: 't', description: 's', budget: { tokens: 100 } }),
      async (store) => {
        await hanging.promise;
        await until(async () => (await store.load('t'))[0]?.usage?.tokens === 60, 5_000, 'usage stored');
      },
    );

    life = 2;
    const { store, sup } = await nextProcess(file, spender, 1);
    const s = await sup.wait(id);
    expect(s).toMatchObject({ status: 'cancelled', stop_reason: 'budget', usage: { tokens: 120 } });
    expect(sup.usageOf({ taskId: id, tree: true })).toEqual({ tokens: 120 });
    await sup.stop();
    await store.close();
  });
});
