import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createInbox, createTaskSupervisor, MemoryTaskStore, TaskResult } from '../../src/index.js';
import type { TaskContext, TaskEvent, TaskSupervisor } from '../../src/index.js';
import { gate, opts, parked, until } from '../helpers/async.js';

const GRACE = 1_000;

/** A supervisor whose timers and `now` run on one simulated clock. */
function simulated() {
  const clock = new SimulatedClock();
  clock.set(10_000);
  const store = new MemoryTaskStore();
  const inbox = createInbox();
  const sup = createTaskSupervisor({
    store,
    clock,
    now: () => clock.now(),
    cancelGraceMs: GRACE,
    ownerInbox: inbox.sender,
  });
  return { sup, clock, store, receiver: inbox.receiver };
}

/** Records what the body saw when its signal aborted; never returns (the grace must settle it). */
function stubborn(seen: { reason?: unknown; cancelled?: boolean }) {
  return (ctx: TaskContext) =>
    new Promise<never>(() => {
      ctx.signal.addEventListener('abort', () => {
        seen.reason = ctx.signal.reason;
        seen.cancelled = ctx.isCancelled();
      });
    });
}

const running = (sup: TaskSupervisor, id: string) => sup.get(id)?.status === 'running';

describe('deadlines: spawn({ timeoutMs }) on a simulated clock', () => {
  it('DL1 the deadline moves the task to cancelling at exactly timeoutMs; the grace then settles it cancelled, saying it timed out', async () => {
    const { sup, clock, store, receiver } = simulated();
    const seen: { reason?: unknown; cancelled?: boolean } = {};
    const id = await sup.spawn(opts({ timeoutMs: 5_000 }), stubborn(seen));
    clock.increment(4_999);
    expect(sup.taskActor(id)?.getSnapshot().value).toEqual({ running: 'active' });
    expect(seen.reason).toBeUndefined();
    clock.increment(1);
    expect(sup.taskActor(id)?.getSnapshot().value).toEqual({ running: 'cancelling' });
    expect(seen.cancelled).toBe(true);
    expect(seen.reason).toBeInstanceOf(DOMException);
    expect((seen.reason as DOMException).name).toBe('TimeoutError');
    expect((seen.reason as DOMException).message).toBe('task timed out after 5000 ms');
    expect(running(sup, id)).toBe(true);
    clock.increment(GRACE - 1);
    expect(running(sup, id)).toBe(true);
    clock.increment(1);
    const summary = await sup.wait(id);
    expect(summary).toMatchObject({
      status: 'cancelled',
      error: 'task timed out after 5000 ms',
      created_at_ms: 10_000,
      completed_at_ms: 10_000 + 5_000 + GRACE,
    });
    expect((await store.load('t')).find((m) => m.task_id === id)).toMatchObject({
      status: 'cancelled',
      error: 'task timed out after 5000 ms',
    });
    expect(receiver.drain()).toEqual([{ kind: 'cancelled', task_id: id }]);
    await sup.stop();
  });

  it('DL2 a body that acknowledges the deadline ends cancelled at once, with the timeout error', async () => {
    const { sup, clock } = simulated();
    const id = await sup.spawn(opts({ timeoutMs: 50 }), parked);
    clock.increment(50);
    expect(await sup.wait(id)).toMatchObject({
      status: 'cancelled',
      error: 'task timed out after 50 ms',
      completed_at_ms: 10_050,
    });
    await sup.stop();
  });

  it('DL3 a task that finishes before its deadline is untouched by it', async () => {
    const { sup, clock } = simulated();
    const g = gate();
    const id = await sup.spawn(opts({ timeoutMs: 100 }), async () => {
      await g.promise;
      return 'done';
    });
    clock.increment(99);
    g.open();
    expect(await sup.wait(id)).toMatchObject({ status: 'completed', result: 'done' });
    clock.increment(10_000);
    expect(sup.get(id)).not.toHaveProperty('error');
    await sup.stop();
  });

  it('DL4 a body that still returns a result within the grace keeps it (completed, no timeout error)', async () => {
    const { sup, clock } = simulated();
    const id = await sup.spawn(opts({ timeoutMs: 100 }), async (ctx) => {
      await ctx.cancelled();
      return TaskResult.success('partial');
    });
    clock.increment(100);
    const s = await sup.wait(id);
    expect(s).toMatchObject({ status: 'completed', result: 'partial' });
    expect(s).not.toHaveProperty('error');
    await sup.stop();
  });

  it('DL5 the deadline cancels the task with its descendants; a plain cancel before it leaves no timeout error', async () => {
    const { sup, clock } = simulated();
    const root = await sup.spawn(opts({ timeoutMs: 100 }), parked);
    const child = await sup.spawn(opts({ parentContext: { task_id: root } }), parked);
    const other = await sup.spawn(opts(), parked);
    clock.increment(100);
    expect((await sup.wait(root)).error).toBe('task timed out after 100 ms');
    const c = await sup.wait(child);
    expect(c.status).toBe('cancelled');
    expect(c).not.toHaveProperty('error');
    expect(running(sup, other)).toBe(true);

    const early = await sup.spawn(opts({ timeoutMs: 100 }), parked);
    expect(sup.cancel(early)).toBe(true);
    const e = await sup.wait(early);
    expect(e.status).toBe('cancelled');
    expect(e).not.toHaveProperty('error');
    clock.increment(1_000);
    sup.cancel(other);
    await sup.stop();
  });

  it('DL6 timeoutMs must be a non-negative number; Infinity means no deadline', async () => {
    const { sup, clock } = simulated();
    for (const bad of [-1, Number.NaN, '100', null]) {
      await expect(sup.spawn(opts({ timeoutMs: bad }), parked)).rejects.toThrow(
        /^Expected `opts.timeoutMs` to be a non-negative number, got /,
      );
    }
    const id = await sup.spawn(opts({ timeoutMs: Number.POSITIVE_INFINITY }), parked);
    clock.increment(1e12);
    expect(running(sup, id)).toBe(true);
    expect(sup.stats().spawned).toBe(1);
    await sup.stop();
  });

  it('DL7 a sub-agent deadline works the same way; timeoutMs 0 cancels as soon as the clock runs', async () => {
    const { sup, clock } = simulated();
    const agent = await sup.spawnAgent({ threadId: 't', description: 'a', timeoutMs: 0 }, async (ctx) => {
      await ctx.cancelled();
      return TaskResult.cancelled();
    });
    clock.increment(0);
    expect(await sup.wait(agent)).toMatchObject({ status: 'cancelled', error: 'task timed out after 0 ms' });
    await sup.stop();
  });

  it('DL8 on the real clock, too: a short deadline cancels a parked task', async () => {
    const events: TaskEvent[] = [];
    const sup = createTaskSupervisor({ cancelGraceMs: 10_000 });
    sup.onEvent((e) => events.push(e));
    const id = await sup.spawn(opts({ timeoutMs: 20 }), parked);
    await until(() => events.length > 0, 5_000, 'the terminal event');
    expect(sup.get(id)).toMatchObject({ status: 'cancelled', error: 'task timed out after 20 ms' });
    await sup.stop();
  });

  it('DL9 a bad clock option is a TypeError', () => {
    expect(() => createTaskSupervisor({ clock: {} as never })).toThrow(
      'Expected `clock` to have setTimeout and clearTimeout, got object',
    );
  });
});
