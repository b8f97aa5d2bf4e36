import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createTaskSupervisor, SpawnError, type TaskContext, type TaskSupervisor } from '../../src/index.js';
import { type Gate, gate, opts, parked, setup, until } from '../helpers/async.js';

/** Bodies that run until their gate opens, recording which started, in order. */
function bodies() {
  const started: string[] = [];
  const gates = new Map<string, Gate<unknown>>();
  const body = (label: string) => (ctx: TaskContext) => {
    started.push(label);
    const g = gate<unknown>();
    gates.set(label, g);
    return Promise.race([g.promise, ctx.cancelled().then(() => 'cancelled')]);
  };
  const finish = (label: string) => gates.get(label)!.open(label);
  return { started, body, finish };
}

const phaseOf = (sup: TaskSupervisor, id: string) => sup.get(id)?.phase;

describe('concurrency limits and the queue', () => {
  it('a global limit: the spawn past it is queued (running on the wire, phase queued, machine state queued)', async () => {
    const { sup } = setup({ concurrency: { global: 2 } });
    const { started, body, finish } = bodies();
    const a = await sup.spawn(opts(), body('a'));
    await sup.spawn(opts(), body('b'));
    const c = await sup.spawn(opts(), body('c'));
    expect(started).toEqual(['a', 'b']);
    expect(sup.get(c)).toMatchObject({ status: 'running', phase: 'queued' });
    expect(sup.get(a)).not.toHaveProperty('phase');
    expect(sup.taskActor(c)?.getSnapshot().value).toBe('queued');
    expect(sup.hasRunning('t')).toBe(true);
    finish('a');
    await sup.wait(a);
    await until(() => started.includes('c'));
    expect(phaseOf(sup, c)).toBeUndefined();
    expect(sup.taskActor(c)?.getSnapshot().value).toEqual({ running: 'active' });
    finish('b');
    finish('c');
    expect((await sup.wait(c)).status).toBe('completed');
    expect(sup.get(c)).not.toHaveProperty('phase');
    await sup.stop();
  });

  it('FIFO within a priority, higher priority first', async () => {
    const { sup } = setup({ concurrency: { global: 1 } });
    const { started, body, finish } = bodies();
    const first = await sup.spawn(opts(), body('first'));
    await sup.spawn(opts({ priority: 0 }), body('low1'));
    await sup.spawn(opts({ priority: 5 }), body('high1'));
    await sup.spawn(opts({ priority: 0 }), body('low2'));
    await sup.spawn(opts({ priority: 5 }), body('high2'));
    finish('first');
    await sup.wait(first);
    for (const label of ['high1', 'high2', 'low1', 'low2']) {
      await until(() => started.at(-1) === label, 10_000, label);
      finish(label);
    }
    expect(started).toEqual(['first', 'high1', 'high2', 'low1', 'low2']);
    await sup.stop();
  });

  it('per-thread and per-type limits: a full thread or type does not block other queued tasks', async () => {
    const { sup } = setup({ concurrency: { perThread: 1, perType: { browser: 1 } } });
    const { started, body, finish } = bodies();
    await sup.spawn(opts({ threadId: 't1', taskType: 'shell' }), body('t1-a'));
    const t1b = await sup.spawn(opts({ threadId: 't1', taskType: 'shell' }), body('t1-b'));
    await sup.spawn(opts({ threadId: 't2', taskType: 'browser' }), body('t2-browser'));
    const t3 = await sup.spawn(opts({ threadId: 't3', taskType: 'browser' }), body('t3-browser'));
    const t4 = await sup.spawn(opts({ threadId: 't4', taskType: 'shell' }), body('t4-shell'));
    expect(started).toEqual(['t1-a', 't2-browser', 't4-shell']);
    expect(phaseOf(sup, t1b)).toBe('queued');
    expect(phaseOf(sup, t3)).toBe('queued');
    expect(phaseOf(sup, t4)).toBeUndefined();
    finish('t2-browser');
    await until(() => started.includes('t3-browser'));
    expect(phaseOf(sup, t1b)).toBe('queued');
    finish('t1-a');
    await until(() => started.includes('t1-b'));
    for (const l of ['t1-b', 't3-browser', 't4-shell']) finish(l);
    await sup.stop();
  });

  it('a freed slot is taken by exactly one next task', async () => {
    const { sup } = setup({ concurrency: { global: 3 } });
    const { started, body, finish } = bodies();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await sup.spawn(opts(), body(`t${i}`)));
    expect(started).toHaveLength(3);
    finish('t0');
    await sup.wait(ids[0]!);
    await until(() => started.length === 4);
    // Nothing else starts while the other slots stay taken.
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['t0', 't1', 't2', 't3']);
    expect(ids.filter((id) => phaseOf(sup, id) === 'queued')).toHaveLength(6);
    await sup.stop();
  });

  it('cancel, cancelTree and run-cancel reach queued tasks at once: cancelled without running their bodies', async () => {
    const { sup } = setup({ concurrency: { global: 1 } });
    const { started, body } = bodies();
    const holder = await sup.spawn(opts({ parentContext: { run_id: 'r0' } }), body('holder'));
    const q1 = await sup.spawn(opts(), body('q1'));
    const q2 = await sup.spawn(opts({ parentContext: { task_id: holder } }), body('q2'));
    const q3 = await sup.spawn(opts({ parentContext: { run_id: 'r1' } }), body('q3'));
    expect(sup.cancel(q1)).toBe(true);
    expect(sup.get(q1)).toMatchObject({ status: 'cancelled', stop_reason: 'user' });
    expect(sup.get(q1)).not.toHaveProperty('phase');
    expect(sup.cancelDescendantsForRun('r1')).toBe(1);
    expect(sup.get(q3)).toMatchObject({ status: 'cancelled', stop_reason: 'run' });
    expect(sup.cancelTree(holder)).toBe(2);
    expect(sup.get(q2)).toMatchObject({ status: 'cancelled', stop_reason: 'parent' });
    expect((await sup.wait(holder)).status).toBe('completed');
    expect(started).toEqual(['holder']);
    await sup.stop();
  });

  it('backpressure: past maxQueued a spawn is refused with SpawnError queue_full, consuming no id', async () => {
    const { sup } = setup({ concurrency: { global: 1, maxQueued: 1 } });
    await sup.spawn(opts(), parked);
    await sup.spawn(opts(), parked);
    const err = await sup.spawn(opts(), parked).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpawnError);
    expect((err as SpawnError).code).toBe('queue_full');
    expect(await sup.spawn(opts({ threadId: 'other' }), parked).catch((e: SpawnError) => e.code)).toBe(
      'queue_full',
    );
    sup.cancelAll('t');
    await until(() => !sup.hasRunning('t'));
    expect(await sup.spawn(opts(), parked)).toBe('bg_2');
    await sup.stop();
  });

  it("a queued task's deadline counts from when it starts", async () => {
    const clock = new SimulatedClock();
    const sup = createTaskSupervisor({ clock, now: () => clock.now(), concurrency: { global: 1 } });
    const { body, finish } = bodies();
    const a = await sup.spawn(opts(), body('a'));
    const b = await sup.spawn(opts({ timeoutMs: 100 }), parked);
    clock.increment(1_000);
    expect(sup.get(b)).toMatchObject({ status: 'running', phase: 'queued' });
    finish('a');
    await sup.wait(a);
    await until(() => sup.get(b)?.phase === undefined);
    clock.increment(99);
    expect(sup.taskActor(b)?.getSnapshot().value).toEqual({ running: 'active' });
    clock.increment(1);
    expect(await sup.wait(b)).toMatchObject({ status: 'cancelled', stop_reason: 'timeout' });
    await sup.stop();
  });

  it('stop() cancels queued tasks at once (stop_reason shutdown) and never starts them', async () => {
    const { sup } = setup({ concurrency: { global: 1 } });
    const { started, body } = bodies();
    await sup.spawn(opts(), body('a'));
    const q = await sup.spawn(opts(), body('q'));
    await sup.stop();
    expect(sup.get(q)).toMatchObject({ status: 'cancelled', stop_reason: 'shutdown' });
    expect(started).toEqual(['a']);
  });

  it('a body that throws at once frees its slot; invalid limits are TypeErrors', async () => {
    const { sup } = setup({ concurrency: { global: 1 } });
    const a = await sup.spawn(opts(), () => {
      throw new Error('boom');
    });
    const b = await sup.spawn(opts(), () => 'ok');
    expect((await sup.wait(a)).status).toBe('failed');
    expect((await sup.wait(b)).status).toBe('completed');
    await sup.stop();
    for (const bad of [{ global: 0 }, { perThread: 1.5 }, { perType: { x: -1 } }, { maxQueued: -1 }])
      expect(() => createTaskSupervisor({ concurrency: bad })).toThrow(TypeError);
    expect(() => createTaskSupervisor({ concurrency: null as never })).toThrow(TypeError);
    const other = createTaskSupervisor({ concurrency: { global: 1 } });
    for (const bad of ['high', Number.NaN, Number.POSITIVE_INFINITY])
      await expect(other.spawn(opts({ priority: bad }), () => 1)).rejects.toThrow(TypeError);
    expect(await other.spawn(opts(), () => 1)).toBe('bg_0');
    await other.stop();
  });

  it('without limits a plain task gets no flow state and a summary without the new fields', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), () => 1);
    expect(Object.keys(await sup.wait(id)).sort()).toEqual(
      ['completed_at_ms', 'created_at_ms', 'description', 'result', 'status', 'task_id', 'task_type'].sort(),
    );
    await sup.stop();
  });

  it('a priority without limits, or a type without a budget, allocates no flow state (nothing it would use)', async () => {
    const { sup } = setup({ budgetPerType: { costly: { tokens: 10 } } });
    // The flow state is internal: read it from the registry.
    const flowOf = (id: string) =>
      (sup as unknown as { registry: { byId: Map<string, { flow?: unknown }> } }).registry.byId.get(id)?.flow;
    const prioritised = await sup.spawn(opts({ priority: 5 }), parked);
    const cheap = await sup.spawn(opts({ taskType: 'cheap' }), parked);
    const costly = await sup.spawn(opts({ taskType: 'costly' }), parked);
    const budgeted = await sup.spawn(opts({ budget: { tokens: 1 } }), parked);
    expect(flowOf(prioritised)).toBeUndefined();
    expect(flowOf(cheap)).toBeUndefined();
    expect(flowOf(costly)).toBeDefined();
    expect(flowOf(budgeted)).toBeDefined();
    expect(sup.get(costly)!.budget).toEqual({ tokens: 10 });
    expect(sup.get(prioritised)).not.toHaveProperty('priority');
    sup.cancelAll('t');
    await sup.stop();
  });
});
