import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTaskSupervisor, defineTask, type TaskContext, type TaskId } from '../../src/index.js';
import { type Gate, gate, until } from '../helpers/async.js';

const MINUTE = 60_000;

/**
 * Bodies that count how many run at once (durable attempts and plain bodies alike): each waits
 * for its gate (or its signal) and records the most seen running together.
 */
function counter() {
  const state = { running: 0, max: 0, started: [] as string[] };
  const run = async (name: string, g: Gate, signal: AbortSignal): Promise<void> => {
    state.started.push(name);
    state.running++;
    state.max = Math.max(state.max, state.running);
    try {
      await Promise.race([
        g.promise,
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      ]);
    } finally {
      state.running--;
    }
  };
  const plain = (name: string, g: Gate) => async (ctx: TaskContext) => {
    await run(name, g, ctx.signal);
    return name;
  };
  return { state, run, plain };
}

/** A supervisor on a simulated clock (backoffs and start times take no wall time), with `concurrency`. */
function setup(concurrency: { global?: number; perType?: Record<string, number> }) {
  const clock = new SimulatedClock();
  const sup = createTaskSupervisor({ clock, now: () => clock.now(), concurrency });
  const { state, run, plain } = counter();
  // Attempt n of a task waits for gates[`${name}#${n}`]; attempt 1 of a `flaky` input then fails.
  const gates = new Map<string, Gate>();
  const gateOf = (key: string): Gate => {
    let g = gates.get(key);
    if (g === undefined) gates.set(key, (g = gate()));
    return g;
  };
  const job = defineTask<{ name: string; flaky: boolean }, Record<never, never>, string>({
    taskType: 'job',
    durable: { retry: { maximumAttempts: 3, initialIntervalMs: MINUTE, jitter: 0 } },
    run: async (ctx, input) => {
      const key = `${input.name}#${ctx.attempt}`;
      await run(key, gateOf(key), ctx.signal);
      if (input.flaky && ctx.attempt === 1) throw new Error(`${input.name} failed once`);
      return key;
    },
  });
  return { clock, sup, state, plain, job, gateOf };
}

describe('a durable task holds a concurrency slot only while an attempt runs', () => {
  it('limit 1: a task backing off gives its slot back; another task runs and completes meanwhile; the retry then queues and completes', async () => {
    const { clock, sup, state, plain, job, gateOf } = setup({ global: 1 });
    const a = await job.spawn(sup, { threadId: 't', description: 'a' }, { name: 'a', flaky: true });
    await until(() => state.started.includes('a#1'), 2_000, 'attempt 1 of a');
    gateOf('a#1').open();
    await until(() => sup.get(a)?.phase === 'retrying', 2_000, 'a retrying');
    expect(sup.get(a)?.next_attempt_at_ms).toBe(clock.now() + MINUTE);

    // a's backoff has a minute to go: b takes the free slot and runs to its end.
    const bGate = gate();
    const b = await sup.spawn({ threadId: 't', taskType: 'plain', description: 'b' }, plain('b', bGate));
    await until(() => state.started.includes('b'), 2_000, 'b started during a backoff');
    expect(sup.get(b)?.phase).toBeUndefined();
    // c comes while b runs: it queues.
    const cGate = gate();
    const c = await sup.spawn({ threadId: 't', taskType: 'plain', description: 'c' }, plain('c', cGate));
    expect(sup.get(c)?.phase).toBe('queued');

    // a's backoff ends while b holds the slot: a's next attempt waits in the queue.
    clock.increment(MINUTE);
    await until(() => sup.get(a)?.phase === 'queued', 2_000, 'a queued for a slot');
    expect(sup.get(a)?.status).toBe('running');
    expect(sup.get(a)?.next_attempt_at_ms).toBeUndefined();
    expect(state.started).not.toContain('a#2');

    bGate.open();
    expect((await sup.wait(b)).status).toBe('completed');
    // a was spawned before c: within one priority it goes first.
    await until(() => state.started.includes('a#2'), 2_000, 'attempt 2 of a');
    expect(sup.get(c)?.phase).toBe('queued');
    expect(sup.get(a)?.phase).toBeUndefined();
    gateOf('a#2').open();
    const done = await sup.wait(a);
    expect(done.status).toBe('completed');
    expect(done.result).toBe('a#2');
    expect(done.attempt_errors).toEqual(['a failed once']);
    cGate.open();
    expect((await sup.wait(c)).status).toBe('completed');
    expect(state.started).toEqual(['a#1', 'b', 'a#2', 'c']);
    expect(state.max).toBe(1);
    await sup.stop();
  });

  it('a retry whose backoff is over queues in priority order: a queued task of a higher priority goes first', async () => {
    const { clock, sup, state, plain, job, gateOf } = setup({ global: 1 });
    const a = await job.spawn(sup, { threadId: 't', description: 'a' }, { name: 'a', flaky: true });
    await until(() => state.started.includes('a#1'), 2_000, 'attempt 1 of a');
    gateOf('a#1').open();
    await until(() => sup.get(a)?.phase === 'retrying', 2_000, 'a retrying');
    const bGate = gate();
    const b = await sup.spawn({ threadId: 't', taskType: 'plain', description: 'b' }, plain('b', bGate));
    await until(() => state.started.includes('b'), 2_000, 'b started');
    const hiGate = gate();
    const hi = await sup.spawn(
      { threadId: 't', taskType: 'plain', description: 'hi', priority: 5 },
      plain('hi', hiGate),
    );
    clock.increment(MINUTE);
    await until(() => sup.get(a)?.phase === 'queued', 2_000, 'a queued for a slot');
    bGate.open();
    await until(() => state.started.includes('hi'), 2_000, 'hi started');
    expect(sup.get(a)?.phase).toBe('queued');
    hiGate.open();
    await sup.wait(hi);
    await until(() => state.started.includes('a#2'), 2_000, 'attempt 2 of a');
    gateOf('a#2').open();
    expect((await sup.wait(a)).status).toBe('completed');
    expect(state.started).toEqual(['a#1', 'b', 'hi', 'a#2']);
    expect(state.max).toBe(1);
    expect((await sup.wait(b)).status).toBe('completed');
    await sup.stop();
  });

  it('limit 1: a task waiting for its delayed start holds no slot; an immediate task runs; at its start time it takes the slot', async () => {
    const { clock, sup, state, plain, job, gateOf } = setup({ global: 1 });
    const d = await job.spawn(
      sup,
      { threadId: 't', description: 'd', startAfterMs: MINUTE },
      { name: 'd', flaky: false },
    );
    await until(() => sup.get(d)?.phase === 'queued', 2_000, 'd waits for its start');
    expect(sup.get(d)?.next_attempt_at_ms).toBe(clock.now() + MINUTE);
    const bGate = gate();
    const b = await sup.spawn({ threadId: 't', taskType: 'plain', description: 'b' }, plain('b', bGate));
    await until(() => state.started.includes('b'), 2_000, 'b started before d start time');
    bGate.open();
    expect((await sup.wait(b)).status).toBe('completed');

    // At d's start time another task holds the slot: d waits for it.
    const cGate = gate();
    const c = await sup.spawn({ threadId: 't', taskType: 'plain', description: 'c' }, plain('c', cGate));
    await until(() => state.started.includes('c'), 2_000, 'c started');
    clock.increment(MINUTE);
    await until(() => sup.get(d)?.next_attempt_at_ms === undefined, 2_000, 'd due');
    expect(sup.get(d)?.phase).toBe('queued');
    expect(state.started).not.toContain('d#1');
    cGate.open();
    await sup.wait(c);
    await until(() => state.started.includes('d#1'), 2_000, 'd started');
    gateOf('d#1').open();
    const s = await sup.wait(d);
    expect(s.status).toBe('completed');
    expect(s.attempt).toBe(1);
    expect(state.started).toEqual(['b', 'c', 'd#1']);
    expect(state.max).toBe(1);
    await sup.stop();
  });

  it('a delayed-start task whose start time comes while a slot is free takes it at once', async () => {
    const { clock, sup, state, job, gateOf } = setup({ perType: { job: 1 } });
    const d = await job.spawn(
      sup,
      { threadId: 't', description: 'd', startAfterMs: MINUTE },
      { name: 'd', flaky: false },
    );
    await until(() => sup.get(d)?.phase === 'queued', 2_000, 'd waits for its start');
    clock.increment(MINUTE);
    await until(() => state.started.includes('d#1'), 2_000, 'd started');
    gateOf('d#1').open();
    expect((await sup.wait(d)).status).toBe('completed');
    await sup.stop();
  });

  it('cancel while retrying without a slot ends it cancelled at once and frees nothing: still one body at a time', async () => {
    const { clock, sup, state, plain, job, gateOf } = setup({ global: 1 });
    const ids: Record<string, TaskId> = {};
    ids.a = await job.spawn(sup, { threadId: 't', description: 'a' }, { name: 'a', flaky: true });
    ids.q = await job.spawn(sup, { threadId: 't', description: 'q' }, { name: 'q', flaky: true });
    await until(() => state.started.includes('a#1'), 2_000, 'attempt 1 of a');
    gateOf('a#1').open();
    await until(() => state.started.includes('q#1'), 2_000, 'attempt 1 of q');
    gateOf('q#1').open();
    await until(
      () => sup.get(ids.a!)?.phase === 'retrying' && sup.get(ids.q!)?.phase === 'retrying',
      2_000,
      'a and q retrying',
    );
    const gates: Record<string, Gate> = { b: gate(), c: gate(), e: gate() };
    for (const n of ['b', 'c', 'e'])
      ids[n] = await sup.spawn({ threadId: 't', taskType: 'plain', description: n }, plain(n, gates[n]!));
    await until(() => state.started.includes('b'), 2_000, 'b started');
    expect(sup.get(ids.c!)?.phase).toBe('queued');

    // a: cancelled while it backs off (no slot, not queued).
    expect(sup.cancel(ids.a!)).toBe(true);
    // q: its backoff ends, it queues for the slot b holds; cancelled there.
    clock.increment(MINUTE);
    await until(() => sup.get(ids.q!)?.phase === 'queued', 2_000, 'q queued for a slot');
    expect(sup.cancel(ids.q!)).toBe(true);
    for (const n of ['a', 'q']) {
      const s = await sup.wait(ids[n]!);
      expect(s.status).toBe('cancelled');
      expect(s.stop_reason).toBe('user');
    }
    // Neither cancel freed b's slot: c and e still wait.
    expect(sup.get(ids.c!)?.phase).toBe('queued');
    expect(sup.get(ids.e!)?.phase).toBe('queued');
    expect(state.running).toBe(1);
    gates.b!.open();
    await until(() => state.started.includes('c'), 2_000, 'c started');
    expect(sup.get(ids.e!)?.phase).toBe('queued');
    gates.c!.open();
    await until(() => state.started.includes('e'), 2_000, 'e started');
    gates.e!.open();
    for (const n of ['b', 'c', 'e']) expect((await sup.wait(ids[n]!)).status).toBe('completed');
    expect(state.started).toEqual(['a#1', 'q#1', 'b', 'c', 'e']);
    expect(state.max).toBe(1);
    await sup.stop();
  });
});
