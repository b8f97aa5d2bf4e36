import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  AttemptFencedError,
  createTaskSupervisor,
  type DurableTaskStore,
  defineTask,
  MemoryTaskStore,
} from '../../src/index.js';
import { STORE_RETRY_DELAYS_MS } from '../../src/durable/storeCalls.js';
import { type Gate, gate, tick, until } from '../helpers/async.js';

/**
 * A memory store whose durable `setStep` rejects its next `fails` calls (`Infinity`: for good)
 * before writing; `onFail` runs at each rejected call. Counts every call (`tries`) and the calls
 * that reached the real store (`writes`); `tried` opens at the first call.
 */
function faultySteps(fails: number) {
  const store = new MemoryTaskStore();
  const real: DurableTaskStore = store.durable;
  const state = {
    fails,
    tries: 0,
    writes: 0,
    tried: gate() as Gate,
    onFail: undefined as undefined | ((taskId: string) => Promise<void>),
  };
  const durable: DurableTaskStore = {
    create: (row) => real.create(row),
    get: (id) => real.get(id),
    claim: (...a) => real.claim(...a),
    release: (...a) => real.release(...a),
    finish: (id) => real.finish(id),
    pending: (type) => real.pending(type),
    steps: (id) => real.steps(id),
    setStep: async (...a) => {
      state.tries++;
      state.tried.open();
      if (state.fails > 0) {
        state.fails--;
        await state.onFail?.(a[0]);
        throw new Error('database is locked');
      }
      state.writes++;
      return real.setStep(...a);
    },
    remove: (id) => real.remove(id),
  };
  Object.defineProperty(store, 'durable', { value: durable });
  return { store, real, state };
}

/**
 * A supervisor clock on which every wait is 1 ms: the store-call retry schedule (about 22 s of
 * waits) runs through in a moment. These tasks have no deadline, so nothing else waits on it.
 */
const fastClock = {
  setTimeout: (fn: (...args: unknown[]) => void, _ms: number) => setTimeout(fn, 1),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

const once = { initialIntervalMs: 1, jitter: 0, maximumAttempts: 1 };

describe('durable steps and checkpoints while the store rejects setStep (memory store wrapped)', () => {
  it('ctx.step: setStep rejects 3 times, then works: fn ran once, the value is recorded once, the body goes on, one attempt', async () => {
    const { store, real, state } = faultySteps(3);
    const sup = createTaskSupervisor({ store, clock: fastClock });
    let fetches = 0;
    const after: unknown[] = [];
    const job = defineTask({
      taskType: 'job',
      durable: { retry: { ...once, maximumAttempts: 3 } },
      run: async (ctx) => {
        const pages = await ctx.step('fetch', async () => {
          fetches++;
          return { pages: 3 };
        });
        after.push(pages);
        return { attempt: ctx.attempt, pages };
      },
    });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    const s = await sup.wait(id);
    expect(s.status).toBe('completed');
    expect(s.result).toEqual({ attempt: 1, pages: { pages: 3 } });
    expect(s.attempt).toBe(1);
    expect(s.attempt_errors).toBeUndefined();
    expect(fetches).toBe(1);
    expect(after).toEqual([{ pages: 3 }]);
    expect(state.tries).toBe(4);
    expect(state.writes).toBe(1);
    expect(await real.steps(id)).toEqual({ 'step:fetch': { pages: 3 } });
    await sup.stop();
  });

  it('ctx.checkpoint.set: setStep rejects twice, then works: the checkpoint is stored and read back, one attempt', async () => {
    const { store, real, state } = faultySteps(2);
    const sup = createTaskSupervisor({ store, clock: fastClock });
    const job = defineTask({
      taskType: 'job',
      durable: { retry: { ...once, maximumAttempts: 3 } },
      run: async (ctx) => {
        await ctx.checkpoint.set('cursor', { page: 7 });
        return { attempt: ctx.attempt, cursor: (await ctx.checkpoint.get('cursor')) ?? null };
      },
    });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    const s = await sup.wait(id);
    expect(s.status).toBe('completed');
    expect(s.result).toEqual({ attempt: 1, cursor: { page: 7 } });
    expect(state.tries).toBe(3);
    expect(state.writes).toBe(1);
    expect(await real.steps(id)).toEqual({ 'checkpoint:cursor': { page: 7 } });
    await sup.stop();
  });

  it('setStep rejects for good: after the last try the attempt fails with the store failure, the body sees it, the task fails', async () => {
    const { store, real, state } = faultySteps(Number.POSITIVE_INFINITY);
    const sup = createTaskSupervisor({ store, clock: fastClock });
    const seen: unknown[] = [];
    const job = defineTask({
      taskType: 'job',
      durable: { retry: once },
      run: async (ctx) => {
        try {
          await ctx.step('fetch', () => 1);
        } catch (e) {
          seen.push(e);
          throw e;
        }
        return 'unreachable';
      },
    });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    const s = await sup.wait(id);
    const tries = STORE_RETRY_DELAYS_MS.length + 1;
    expect(s.status).toBe('failed');
    expect(s.error).toBe(
      `task '${id}': the store failed to record step 'fetch' (${tries} tries): database is locked`,
    );
    expect(s.attempt_errors).toEqual([s.error]);
    expect(seen).toHaveLength(1);
    expect((seen[0] as Error).name).toBe('StoreCallFailed');
    expect(((seen[0] as Error).cause as Error).message).toBe('database is locked');
    expect(state.tries).toBe(tries);
    expect(state.writes).toBe(0);
    expect(await real.steps(id)).toEqual({});
    await sup.stop();
  });

  it('a checkpoint the store never takes fails its attempt like any error: the next attempt writes it and completes', async () => {
    const tries = STORE_RETRY_DELAYS_MS.length + 1;
    // Exactly the first attempt's tries fail.
    const { store, state } = faultySteps(tries);
    const sup = createTaskSupervisor({ store, clock: fastClock });
    const job = defineTask({
      taskType: 'job',
      durable: { retry: { ...once, maximumAttempts: 2 } },
      run: async (ctx) => {
        await ctx.checkpoint.set('cursor', ctx.attempt);
        return ctx.attempt;
      },
    });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    const s = await sup.wait(id);
    expect(s.status).toBe('completed');
    expect(s.result).toBe(2);
    expect(s.attempt_errors).toEqual([
      `task '${id}': the store failed to record checkpoint 'cursor' (${tries} tries): database is locked`,
    ]);
    expect(state.tries).toBe(tries + 1);
    expect(state.writes).toBe(1);
    await sup.stop();
  });

  it('cancelled while a rejected step waits for its next try: the body sees the cancel, the task ends cancelled, no further try', async () => {
    const { store, real, state } = faultySteps(Number.POSITIVE_INFINITY);
    const clock = new SimulatedClock();
    clock.set(1_000);
    const sup = createTaskSupervisor({ store, clock, now: () => clock.now() });
    const seen = gate<unknown>();
    const job = defineTask({
      taskType: 'job',
      durable: { retry: { ...once, maximumAttempts: 3 } },
      run: async (ctx) => {
        try {
          await ctx.step('fetch', () => 1);
        } catch (e) {
          seen.open(e);
          throw e;
        }
        return 'unreachable';
      },
    });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    await state.tried.promise;
    // The first try rejected; the next one waits on the (simulated) clock.
    await tick();
    expect(sup.cancel(id)).toBe(true);
    const error = (await seen.promise) as Error;
    expect(error.name).toBe('AbortError');
    const s = await sup.wait(id);
    expect(s.status).toBe('cancelled');
    expect(s.attempt).toBe(1);
    // Well past the whole retry schedule: no try happens any more.
    clock.increment(60_000);
    await tick();
    expect(state.tries).toBe(1);
    expect(await real.steps(id)).toEqual({});
    await sup.stop();
  });

  it('the attempt times out (fenced) while a rejected step waits for its next try: AttemptFencedError, no further try', async () => {
    const { store, state } = faultySteps(Number.POSITIVE_INFINITY);
    const clock = new SimulatedClock();
    clock.set(1_000);
    const sup = createTaskSupervisor({ store, clock, now: () => clock.now() });
    const seen = gate<unknown>();
    const job = defineTask({
      taskType: 'job',
      // Shorter than the first wait between tries (50 ms).
      durable: { retry: once, attemptTimeoutMs: 20 },
      run: async (ctx) => {
        try {
          await ctx.step('fetch', () => 1);
        } catch (e) {
          seen.open(e);
          throw e;
        }
        return 'unreachable';
      },
    });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    await state.tried.promise;
    await tick();
    clock.increment(20);
    expect(await seen.promise).toBeInstanceOf(AttemptFencedError);
    const s = await sup.wait(id);
    expect(s.status).toBe('failed');
    expect(s.error).toBe('attempt 1 timed out after 20 ms');
    clock.increment(60_000);
    await tick();
    expect(state.tries).toBe(1);
    await sup.stop();
  });

  it("the task's own deadline passes while a rejected step waits for its next try: the body sees the deadline, not a fenced write", async () => {
    const { store, state } = faultySteps(Number.POSITIVE_INFINITY);
    const clock = new SimulatedClock();
    clock.set(1_000);
    const sup = createTaskSupervisor({ store, clock, now: () => clock.now() });
    const seen = gate<unknown>();
    const job = defineTask({
      taskType: 'job',
      durable: { retry: once },
      run: async (ctx) => {
        try {
          await ctx.step('fetch', () => 1);
        } catch (e) {
          seen.open(e);
          throw e;
        }
        return 'unreachable';
      },
    });
    // Shorter than the first wait between tries (50 ms).
    const id = await job.spawn(sup, { threadId: 't', description: 'j', timeoutMs: 20 });
    await state.tried.promise;
    await tick();
    clock.increment(20);
    const error = await seen.promise;
    expect(error).not.toBeInstanceOf(AttemptFencedError);
    expect((error as Error).name).toBe('TimeoutError');
    const s = await sup.wait(id);
    expect(s.status).not.toBe('running');
    expect(s.error ?? '').not.toMatch(/refused/);
    clock.increment(60_000);
    await tick();
    expect(state.tries).toBe(1);
    await sup.stop();
  });

  it('the attempt lost the task while its step was retried: the next try is refused by the fence, AttemptFencedError', async () => {
    const { store, real, state } = faultySteps(1);
    // While the first try fails, the row is released under the attempt (another owner's takeover).
    state.onFail = async (taskId) => {
      const row = (await real.get(taskId))!;
      expect(await real.release(taskId, row.attempt, row.owner!, 'taken over', undefined)).toBe(true);
    };
    const sup = createTaskSupervisor({ store, clock: fastClock });
    const seen: unknown[] = [];
    let bodyAfter = false;
    const job = defineTask({
      taskType: 'job',
      durable: { retry: { ...once, maximumAttempts: 3 } },
      run: async (ctx) => {
        try {
          await ctx.step('fetch', () => 1);
          bodyAfter = true;
        } catch (e) {
          seen.push(e);
          expect(ctx.signal.aborted).toBe(true);
          throw e;
        }
        return 'unreachable';
      },
    });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    await until(() => seen.length === 1, 10_000, 'the body to see the refused write');
    expect(seen[0]).toBeInstanceOf(AttemptFencedError);
    expect(bodyAfter).toBe(false);
    expect(state.tries).toBe(2);
    expect(state.writes).toBe(1);
    expect(await real.steps(id)).toEqual({});
    await sup.wait(id);
    await sup.stop();
  });
});
