/**
 * Edge cases found while probing the supervisor: timer limits, failed spawns racing a cancel,
 * and value semantics of what bodies emit and return.
 */
import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor } from '../../src/index.js';
import type { Json, TaskEvent } from '../../src/index.js';
import { FlakyStore, gate, opts, setup, tick, until } from '../helpers/async.js';

const stubborn = () => new Promise<never>(() => {});

describe('§6.9 cancelGraceMs beyond the 32-bit timer range', () => {
  it('§6.9 cancelGraceMs 2**31 ms: a stubborn body is not settled right after the cancel', async () => {
    const sup = createTaskSupervisor({ cancelGraceMs: 2 ** 31 });
    const id = await sup.spawn(opts(), stubborn);
    sup.cancel(id);
    await expect(sup.wait(id, { timeoutMs: 100 })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sup.get(id)?.status).toBe('running');
  });

  it('§6.9 cancelGraceMs Infinity (accepted by validation) never force-settles', async () => {
    const sup = createTaskSupervisor({ cancelGraceMs: Number.POSITIVE_INFINITY });
    const id = await sup.spawn(opts(), stubborn);
    sup.cancel(id);
    await expect(sup.wait(id, { timeoutMs: 100 })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sup.get(id)?.status).toBe('running');
  });

  it('wait timeoutMs Infinity means no timeout', async () => {
    const { sup } = setup();
    const g = gate();
    const id = await sup.spawn(opts(), () => g.promise.then(() => 'done'));
    const waiting = sup.wait(id, { timeoutMs: Number.POSITIVE_INFINITY });
    const outcome = waiting.then(
      (s) => s.status,
      (e: Error) => e.name,
    );
    await tick();
    await tick();
    g.open();
    expect(await outcome).toBe('completed');
    await sup.stop();
  });
});

describe('B13 / §6.14 a spawn whose store write fails never existed', () => {
  it('a cancel racing the failed spawn write delivers no terminal event and persists no record', async () => {
    const store = new FlakyStore();
    const inbox = createInbox();
    const sup = createTaskSupervisor({ store, ownerInbox: inbox.sender, cancelGraceMs: 0 });
    await sup.wait(await sup.spawn(opts(), () => 'warm-up')); // bg_0, and the first id block
    inbox.receiver.drain();
    const hold = gate();
    store.hold = () => hold.promise;
    store.failing = true;
    const spawning = sup.spawn(opts(), stubborn).then(
      () => 'spawned',
      (e: { code: string }) => e.code,
    );
    await until(() => sup.taskActor('bg_1') !== undefined, 10_000, 'bg_1 registered');
    expect(sup.cancel('bg_1')).toBe(true);
    // cancelGraceMs 0: the grace settles it while its spawn write is still pending.
    const actor = sup.taskActor('bg_1');
    await until(() => actor?.getSnapshot().status === 'done', 10_000, 'bg_1 actor final');
    // Its final state is held back until the spawn write resolves: still no terminal event.
    expect(sup.get('bg_1')?.status).toBe('running');
    store.hold = undefined;
    hold.open();
    expect(await spawning).toBe('store_failed');
    store.failing = false;
    await sup.stop();
    expect(sup.get('bg_1')).toBeUndefined();
    expect((inbox.receiver.drain() as TaskEvent[]).filter((e) => e.task_id === 'bg_1')).toEqual([]);
    expect(await store.record('bg_1')).toBeUndefined();
  });
});

describe('§6.29 value semantics of payloads and results', () => {
  it('an emitted payload is a snapshot: mutating the object after emit does not rewrite queued events', async () => {
    const { sup, events } = setup();
    const progress = { n: 0 };
    const id = await sup.spawn(opts(), (ctx) => {
      for (let i = 0; i < 3; i++) {
        progress.n = i;
        ctx.emit('tick', progress);
      }
    });
    await sup.wait(id);
    const payloads = events()
      .filter((e): e is Extract<TaskEvent, { kind: 'custom' }> => e.kind === 'custom')
      .map((e) => e.payload);
    expect(payloads).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    await sup.stop();
  });

  it("the supervisor does not freeze a body's own returned object", async () => {
    const { sup } = setup();
    const shared = { cache: { hits: 0 } };
    const id = await sup.spawn(opts(), () => shared);
    await sup.wait(id);
    expect(Object.isFrozen(shared)).toBe(false);
    expect(Object.isFrozen(shared.cache)).toBe(false);
    await sup.stop();
  });

  it('summaries handed out cannot be used to corrupt the supervisor state', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), () => ({ a: { b: 1 } }));
    const s = await sup.wait(id);
    try {
      (s.result as { a: { b: number } }).a.b = 99;
    } catch {
      // frozen: fine
    }
    expect(sup.get(id)?.result).toEqual({ a: { b: 1 } });
    await sup.stop();
  });

  it('a Date in a payload or result is serialized as JSON does (toJSON)', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      ctx.emit('at', { when: new Date(0) } as unknown as Json);
      return { when: new Date(0) };
    });
    expect((await sup.wait(id)).result).toEqual({ when: '1970-01-01T00:00:00.000Z' });
    expect(events()[0]).toMatchObject({ payload: { when: '1970-01-01T00:00:00.000Z' } });
    await sup.stop();
  });
});

describe('a clock that throws', () => {
  it('never strands a task: timestamps fall back to Date.now()', async () => {
    let broken = false;
    const sup = createTaskSupervisor({
      now: () => {
        if (broken) throw new Error('clock broke');
        return 1_000;
      },
    });
    const g = gate();
    const id = await sup.spawn(opts(), () => g.promise);
    broken = true;
    g.open();
    const s = await sup.wait(id, { timeoutMs: 5_000 });
    expect(s.status).toBe('completed');
    expect(s.created_at_ms).toBe(1_000);
    expect(s.completed_at_ms).toBeGreaterThan(1_000);
    await sup.stop();
  });
});

describe('a store whose allocateIds rejects', () => {
  it('spawn rejects with store_failed (cause kept), and a later spawn succeeds once it recovers', async () => {
    const store = new FlakyStore();
    let fail = true;
    const allocate = store.allocateIds.bind(store);
    store.allocateIds = async (count: number) => {
      if (fail) throw new Error('sequence unavailable');
      return allocate(count);
    };
    const sup = createTaskSupervisor({ store });
    const err = await sup.spawn(opts(), () => 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SpawnError', code: 'store_failed' });
    expect((err as Error).cause).toBeInstanceOf(Error);
    fail = false;
    const id = await sup.spawn(opts(), () => 'x');
    expect((await sup.wait(id)).status).toBe('completed');
    await sup.stop();
  });
});
