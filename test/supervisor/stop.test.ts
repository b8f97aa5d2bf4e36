import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, SpawnError, TaskResult } from '../../src/index.js';
import type { TaskContext } from '../../src/index.js';
import { FlakyStore, gate, isSettled, kinds, opts, parked, setup, tick, until } from '../helpers/async.js';

/** A body that never returns, whatever happens. */
const stubborn = () => new Promise<never>(() => {});

describe('§6.9 cancelGraceMs', () => {
  it('a body that ignores cancel is settled cancelled after the grace; its later return is ignored', async () => {
    const { sup, events } = setup({ cancelGraceMs: 20 });
    const late = gate();
    const id = await sup.spawn(opts(), () => late.promise.then(() => TaskResult.success('too late')));
    sup.cancel(id);
    expect(sup.get(id)?.status).toBe('running');
    await until(() => sup.get(id)?.status === 'cancelled', 10_000, 'the grace period');
    await sup.wait(id);
    expect(sup.hasRunning('t')).toBe(false);
    late.open();
    await tick();
    await tick();
    expect(sup.get(id)?.status).toBe('cancelled');
    expect(events()).toEqual([{ kind: 'cancelled', task_id: id }]);
    await sup.stop();
  });

  it('a body that ignores cancel and later throws is ignored after the grace', async () => {
    const { sup, events } = setup({ cancelGraceMs: 10 });
    const late = gate();
    const id = await sup.spawn(opts(), () => late.promise.then(() => Promise.reject(new Error('late'))));
    sup.cancel(id);
    await sup.wait(id);
    late.open();
    await tick();
    expect(sup.get(id)).not.toHaveProperty('error');
    expect(kinds(events())).toEqual(['cancelled']);
    await sup.stop();
  });

  it('a body that returns success within the grace ends completed', async () => {
    const { sup } = setup({ cancelGraceMs: 5_000 });
    const g = gate();
    const id = await sup.spawn(opts(), () => g.promise.then(() => 'made it'));
    sup.cancel(id);
    g.open();
    expect(await sup.wait(id)).toMatchObject({ status: 'completed', result: 'made it' });
    await sup.stop();
  });

  it('the grace only starts at the cancel request: an uncancelled slow body is never settled', async () => {
    const { sup } = setup({ cancelGraceMs: 0 });
    const g = gate();
    const id = await sup.spawn(opts(), () => g.promise);
    await tick();
    await tick();
    expect(sup.get(id)?.status).toBe('running');
    g.open();
    expect((await sup.wait(id)).status).toBe('completed');
    await sup.stop();
  });

  it('cancelGraceMs 0 settles a stubborn body promptly', async () => {
    const { sup } = setup({ cancelGraceMs: 0 });
    const id = await sup.spawn(opts(), stubborn);
    sup.cancel(id);
    expect((await sup.wait(id, { timeoutMs: 1_000 })).status).toBe('cancelled');
    await sup.stop();
  });

  it('the default grace is long: a stubborn body is still running shortly after cancel', async () => {
    const sup = createTaskSupervisor();
    const id = await sup.spawn(opts(), stubborn);
    sup.cancel(id);
    await expect(sup.wait(id, { timeoutMs: 50 })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sup.taskActor(id)?.getSnapshot().value).toEqual({ running: 'cancelling' });
    // Leave it: the actor's 30 s timer must not keep the test process alive or leak a rejection.
  });

  it('bad supervisor options are TypeErrors', () => {
    expect(() => createTaskSupervisor({ cancelGraceMs: -1 })).toThrow(TypeError);
    expect(() => createTaskSupervisor({ cancelGraceMs: Number.NaN })).toThrow(TypeError);
    expect(() => createTaskSupervisor({ now: 5 as never })).toThrow(TypeError);
  });
});

describe('stop()', () => {
  it('cancels every live task, waits, delivers terminal events and flushes the store', async () => {
    const store = new FlakyStore();
    const { sup, events } = setup({ store });
    const a = await sup.spawn(opts(), parked);
    const b = await sup.spawnAgent({ threadId: 'u', description: 'agent' }, parked);
    const c = await sup.spawn(opts(), async (ctx: TaskContext) => {
      await ctx.cancelled();
      ctx.emit('cleanup');
      return 'cleaned';
    });
    const done = await sup.spawn(opts(), () => 'done');
    await sup.wait(done);
    await sup.stop();
    expect([a, b, c, done].map((id) => sup.get(id)?.status)).toEqual([
      'cancelled',
      'cancelled',
      'completed',
      'completed',
    ]);
    expect(events().filter((e) => e.kind !== 'custom')).toHaveLength(4);
    expect(kinds(events().filter((e) => e.task_id === c))).toEqual(['custom', 'completed']);
    const stored = await store.load();
    expect(stored.map((r) => r.status).sort()).toEqual(['cancelled', 'cancelled', 'completed', 'completed']);
    expect(sup.stats()).toMatchObject({ live: 0, retained: 4 });
  });

  it('waits at most cancelGraceMs for a stubborn body, then settles it cancelled', async () => {
    const { sup, events } = setup({ cancelGraceMs: 20 });
    const id = await sup.spawn(opts(), stubborn);
    await sup.stop();
    expect(sup.get(id)?.status).toBe('cancelled');
    expect(events()).toEqual([{ kind: 'cancelled', task_id: id }]);
  });

  it('a second call resolves at once; concurrent calls both resolve', async () => {
    const { sup } = setup();
    await sup.spawn(opts(), parked);
    const one = sup.stop();
    const two = sup.stop();
    await Promise.all([one, two]);
    expect(await isSettled(sup.stop())).toBe(true);
  });

  it('get and list keep working; spawn then rejects supervisor_stopped', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), () => 1);
    await sup.wait(id);
    await sup.stop();
    expect(sup.get(id)?.status).toBe('completed');
    expect(sup.list('t')).toHaveLength(1);
    expect(sup.hasRunning('t')).toBe(false);
    for (const p of [
      sup.spawn(opts(), parked),
      sup.spawnAgent({ threadId: 't', description: 'a' }, parked),
    ]) {
      const e = await p.catch((err: unknown) => err);
      expect(e).toBeInstanceOf(SpawnError);
      expect((e as SpawnError).code).toBe('supervisor_stopped');
      expect((e as SpawnError).message).toBe('supervisor is stopped');
    }
    expect(sup.stats().spawned).toBe(1);
    expect(sup.taskActor(id)).toBeUndefined();
  });

  it('spawn while stopping is refused too', async () => {
    const { sup } = setup({ cancelGraceMs: 50 });
    await sup.spawn(opts(), stubborn);
    const stopping = sup.stop();
    await expect(sup.spawn(opts(), parked)).rejects.toMatchObject({ code: 'supervisor_stopped' });
    await stopping;
  });

  it('stop with nothing spawned resolves; cancel after stop is false; late emits are false', async () => {
    const inbox = createInbox();
    const sup = createTaskSupervisor({ ownerInbox: inbox.sender, cancelGraceMs: 10 });
    let kept: TaskContext | undefined;
    const id = await sup.spawn(opts(), (ctx) => {
      kept = ctx;
      return stubborn();
    });
    await sup.stop();
    expect(sup.cancel(id)).toBe(false);
    expect(kept?.emit('late')).toBe(false);
    expect(kinds(inbox.receiver.drain())).toEqual(['cancelled']);
    const empty = createTaskSupervisor();
    await expect(empty.stop()).resolves.toBeUndefined();
  });

  it('waiters pending at stop resolve with the cancelled summary', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), parked);
    const waiting = sup.wait(id);
    await sup.stop();
    expect((await waiting).status).toBe('cancelled');
  });
});
