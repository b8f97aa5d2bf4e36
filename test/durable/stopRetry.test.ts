import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  createTaskSupervisor,
  type DurableTaskStore,
  defineTask,
  LOST_ATTEMPT_ERROR,
  MemoryTaskStore,
  type TaskSupervisor,
} from '../../src/index.js';
import { type Gate, gate, tick, until } from '../helpers/async.js';

type Method = 'claim' | 'release' | 'setStep';

/**
 * What a faulty call does: rejects at once, is held until the test opens `held` (then lands or
 * rejects), or rejects after `ms` on the test's clock (a store in an outage whose calls time out).
 */
type Fault = 'reject' | 'hold' | { readonly timeoutMs: number };

/**
 * A memory store whose durable `method` misbehaves per `script`, one entry per call (the last
 * entry repeats when `forGood`; past the script the real store answers). Counts the calls
 * (`tries`); `inFlight` opens once a held or timing-out call started.
 */
function faultyStore(method: Method, script: readonly Fault[], clock: SimulatedClock, forGood = false) {
  const store = new MemoryTaskStore();
  const real: DurableTaskStore = store.durable;
  const state = {
    tries: 0,
    inFlight: gate() as Gate,
    held: gate<'land' | 'reject'>(),
    healed: false,
  };
  const faulty =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const fault = state.healed ? undefined : (script[state.tries] ?? (forGood ? script.at(-1) : undefined));
      state.tries++;
      if (fault === undefined) return f(...a);
      if (fault === 'reject') throw new Error('connection refused');
      state.inFlight.open();
      if (fault === 'hold') {
        if ((await state.held.promise) === 'land') return f(...a);
        throw new Error('connection terminated');
      }
      await new Promise((resolve) => clock.setTimeout(resolve, fault.timeoutMs));
      throw new Error('query read timeout');
    };
  const durable: DurableTaskStore = {
    create: (row) => real.create(row),
    get: (id) => real.get(id),
    claim: method === 'claim' ? faulty((...a) => real.claim(...a)) : (...a) => real.claim(...a),
    release: method === 'release' ? faulty((...a) => real.release(...a)) : (...a) => real.release(...a),
    finish: (id) => real.finish(id),
    pending: (type) => real.pending(type),
    steps: (id) => real.steps(id),
    setStep: method === 'setStep' ? faulty((...a) => real.setStep(...a)) : (...a) => real.setStep(...a),
    remove: (id) => real.remove(id),
  };
  Object.defineProperty(store, 'durable', { value: durable });
  return { store, real, state };
}

/** A supervisor on a clock that stands still unless the test moves it. */
function stillClock() {
  const clock = new SimulatedClock();
  clock.set(1_000);
  return clock;
}

/**
 * Awaits `stop()` with the clock standing still: a stop that waited for the store-call retry
 * schedule, a held call or the cancel grace (all on that clock) would never resolve. The bound is
 * generous: it only turns such a hang into a failure.
 */
async function stopsWhileClockStandsStill(sup: TaskSupervisor): Promise<void> {
  let stopped = false;
  const stopping = sup.stop().then(() => {
    stopped = true;
  });
  await until(() => stopped, 10_000, 'stop() to resolve while the clock stands still');
  await stopping;
}

let fetches = 0;
/** A task that records one step; `life` 1 throws after it when `throwFirst`. */
function stepJob(throwFirst = false) {
  let life = 1;
  const job = defineTask({
    taskType: 'job',
    durable: { retry: { initialIntervalMs: 1, jitter: 0, maximumAttempts: 3 } },
    run: async (ctx) => {
      const pages = await ctx.step('fetch', () => ++fetches);
      if (throwFirst && life === 1) throw new Error('boom');
      return { attempt: ctx.attempt, pages };
    },
  });
  return { job, nextLife: () => void life++ };
}

/**
 * Spawns a `stepJob` on a supervisor whose clock stands still, with `method`'s first try rejecting
 * and its second held; calls `stop()` while that second try is in flight, and checks that it
 * resolves and leaves the task `running` here.
 */
async function stoppedDuringHeldRetry(method: Method, throwFirst = false) {
  const clock = stillClock();
  const faulty = faultyStore(method, ['reject', 'hold'], clock);
  const { job, nextLife } = stepJob(throwFirst);
  const sup = createTaskSupervisor({ store: faulty.store, clock, now: () => clock.now() });
  const id = await job.spawn(sup, { threadId: 't', description: 'j' });
  await until(() => faulty.state.tries === 1, 10_000, 'the first try');
  await tick();
  clock.increment(50); // the first wait between tries: the second try is held
  await faulty.state.inFlight.promise;
  await stopsWhileClockStandsStill(sup);
  expect(sup.get(id)!.status).toBe('running');
  return { ...faulty, clock, job, nextLife, id };
}

describe('stop() while a durable store call is retried (memory store wrapped)', () => {
  it('a step write in flight when stop() is called: stop resolves, the task stays running and claimable, the next process completes it from the recorded step', async () => {
    fetches = 0;
    const { store, real, state, clock, job, id } = await stoppedDuringHeldRetry('setStep');
    expect((await store.load('t'))[0]!.status).toBe('running');
    const row = (await real.get(id))!;
    expect(row.state).toBe('running');
    expect(row.attempt).toBe(1);
    expect(row.attempt_errors).toEqual([]);
    // The abandoned write lands late, fenced by the attempt that still holds the row.
    state.held.open('land');
    await until(async () => Object.keys(await real.steps(id)).length === 1, 10_000, 'the late write');
    clock.increment(60_000);
    await tick();
    expect(state.tries).toBe(2);

    const next = createTaskSupervisor({ store });
    expect(await next.register(job)).toBe(1);
    const s = await next.wait(id);
    expect(s.status).toBe('completed');
    expect(s.result).toEqual({ attempt: 2, pages: 1 });
    expect(s.attempt_errors).toEqual([`attempt 1: ${LOST_ATTEMPT_ERROR}`]);
    expect(fetches).toBe(1);
    await next.stop();
  });

  it('a store whose step writes time out for good: stop() during a try resolves at once; no try after it, the task is not failed', async () => {
    const clock = stillClock();
    const { store, real, state } = faultyStore('setStep', [{ timeoutMs: 15_000 }], clock, true);
    const { job } = stepJob();
    const sup = createTaskSupervisor({ store, clock, now: () => clock.now() });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    await state.inFlight.promise;
    await stopsWhileClockStandsStill(sup);
    // The abandoned try times out now; its rejection is handled, and no further try starts.
    clock.increment(15_000);
    await tick();
    clock.increment(60_000);
    await tick();
    expect(state.tries).toBe(1);
    expect(sup.get(id)!.status).toBe('running');
    expect((await store.load('t'))[0]!.status).toBe('running');
    const row = (await real.get(id))!;
    expect(row.state).toBe('running');
    expect(row.attempt_errors).toEqual([]);
  });

  it('a claim in flight when stop() is called: stop resolves, the row still waits for that attempt, the next process claims and completes it', async () => {
    const { store, real, state, clock, job, id } = await stoppedDuringHeldRetry('claim');
    // The outage ends the held claim with an error: the attempt was never claimed.
    state.held.open('reject');
    clock.increment(60_000);
    await tick();
    expect(state.tries).toBe(2);
    const row = (await real.get(id))!;
    expect(row.state).toBe('waiting');
    expect(row.attempt).toBe(0);
    expect((await store.load('t'))[0]!.status).toBe('running');

    const next = createTaskSupervisor({ store });
    expect(await next.register(job)).toBe(1);
    const s = await next.wait(id);
    expect(s.status).toBe('completed');
    expect(s.attempt).toBe(1);
    expect(s.attempt_errors).toBeUndefined();
    await next.stop();
  });

  it('a claim rejecting for good, stop() between its tries: stop resolves at once, no further try, the row still waits', async () => {
    const clock = stillClock();
    const { store, real, state } = faultyStore('claim', ['reject'], clock, true);
    const { job } = stepJob();
    const sup = createTaskSupervisor({ store, clock, now: () => clock.now() });
    const id = await job.spawn(sup, { threadId: 't', description: 'j' });
    await until(() => state.tries === 1, 10_000, 'the first claim');
    await tick();
    await stopsWhileClockStandsStill(sup);
    clock.increment(60_000);
    await tick();
    expect(state.tries).toBe(1);
    expect(sup.get(id)!.status).toBe('running');
    expect((await real.get(id))!.state).toBe('waiting');
    expect((await store.load('t'))[0]!.status).toBe('running');
  });

  it("a failed attempt's release in flight when stop() is called: stop resolves, the attempt stays the row's, the next process counts it lost and completes the task", async () => {
    const { store, real, state, clock, job, nextLife, id } = await stoppedDuringHeldRetry('release', true);
    state.held.open('reject');
    clock.increment(60_000);
    await tick();
    expect(state.tries).toBe(2);
    const row = (await real.get(id))!;
    expect(row.state).toBe('running');
    expect(row.attempt).toBe(1);
    expect((await store.load('t'))[0]!.status).toBe('running');

    nextLife();
    state.healed = true;
    const next = createTaskSupervisor({ store });
    expect(await next.register(job)).toBe(1);
    const s = await next.wait(id);
    expect(s.status).toBe('completed');
    expect(s.attempt).toBe(2);
    expect(s.attempt_errors).toEqual([`attempt 1: ${LOST_ATTEMPT_ERROR}`]);
    await next.stop();
  });
});
