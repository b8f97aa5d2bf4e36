import { describe, expect, it } from 'vitest';
import { TaskResult } from '../../src/index.js';
import type { PersistedTaskMeta, TaskContext, TaskEvent } from '../../src/index.js';
import { gate, opts, parked, setup, tick, until } from '../helpers/async.js';

const meta = (id: string, extra: Partial<PersistedTaskMeta> = {}): PersistedTaskMeta => ({
  task_id: id,
  owner_thread_id: 't',
  task_type: 'x',
  description: 'restored',
  status: 'completed',
  created_at_ms: 1,
  completed_at_ms: 2,
  parent_context: {},
  ...extra,
});

describe('F. cancel, cancelTree, cancelAll, cancelDescendantsForRun', () => {
  it('F1 cancel of a parked task returns true and it ends cancelled', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), parked);
    expect(sup.cancel(id)).toBe(true);
    expect((await sup.wait(id)).status).toBe('cancelled');
    await sup.stop();
  });

  it('F2 cancel of an unknown id returns false', async () => {
    const { sup } = setup();
    expect(sup.cancel('nonexistent')).toBe(false);
    expect(sup.cancel('bg_0')).toBe(false);
    await sup.stop();
  });

  it('F3 cancel of a completed task returns false and the status stays', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), () => 'ok');
    await sup.wait(id);
    expect(sup.cancel(id)).toBe(false);
    expect(sup.get(id)?.status).toBe('completed');
    expect(events().map((e) => e.kind)).toEqual(['completed']);
    await sup.stop();
  });

  it('F4 cancelTree cascades through three generations', async () => {
    const { sup } = setup();
    const root = await sup.spawn(opts({ description: 'root-task' }), parked);
    const child = await sup.spawn(opts({ description: 'child', parentContext: { task_id: root } }), parked);
    const grand = await sup.spawn(
      opts({ description: 'grandchild', parentContext: { task_id: child } }),
      parked,
    );
    expect(sup.cancelTree(root)).toBe(3);
    for (const id of [root, child, grand]) expect((await sup.wait(id)).status).toBe('cancelled');
    await sup.stop();
  });

  it('F5 a child spawned from inside the root body is cancelled with it', async () => {
    const { sup } = setup();
    const childId = gate<string>();
    const root = await sup.spawn(opts(), async (ctx) => {
      childId.open(await sup.spawn(opts(), parked));
      return parked(ctx);
    });
    const child = await childId.promise;
    expect(sup.get(child)?.parent_context).toEqual({ task_id: root });
    expect(sup.cancelTree(root)).toBe(2);
    expect((await sup.wait(root)).status).toBe('cancelled');
    expect((await sup.wait(child)).status).toBe('cancelled');
    await sup.stop();
  });

  it('F6 cancelAll returns 3 and leaves nothing running', async () => {
    const { sup } = setup();
    for (let i = 0; i < 3; i++) await sup.spawn({ ...opts(), threadId: 'thread-1' }, parked);
    expect(sup.cancelAll('thread-1')).toBe(3);
    await until(() => !sup.hasRunning('thread-1'));
    expect(sup.list('thread-1').map((s) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    await sup.stop();
  });

  it('F7 cancelAll is isolated to its thread', async () => {
    const { sup } = setup();
    await sup.spawn({ ...opts(), threadId: 'thread-1' }, parked);
    const other = await sup.spawn({ ...opts(), threadId: 'thread-2' }, parked);
    expect(sup.cancelAll('thread-1')).toBe(1);
    await until(() => !sup.hasRunning('thread-1'));
    expect(sup.hasRunning('thread-2')).toBe(true);
    expect(sup.get(other)?.status).toBe('running');
    await sup.stop();
  });

  it('F8 cancelAll during concurrent emits: 5 signalled, exactly 5 cancelled events', async () => {
    const { sup, events } = setup();
    const heartbeat = async (ctx: TaskContext) => {
      let n = 0;
      while (!ctx.isCancelled()) {
        ctx.emit('heartbeat', { n: n++ });
        await tick();
      }
      return TaskResult.cancelled();
    };
    for (let i = 0; i < 5; i++) await sup.spawn({ ...opts(), threadId: 'thread-1' }, heartbeat);
    await until(() => events().length >= 10);
    expect(sup.cancelAll('thread-1')).toBe(5);
    await until(() => !sup.hasRunning('thread-1'));
    await until(() => events().filter((e) => e.kind === 'cancelled').length === 5);
    await sup.stop();
    expect(events().filter((e) => e.kind === 'cancelled')).toHaveLength(5);
  });

  it('F10 / §6.8 repeated cancel of a live task returns true; after terminal, false', async () => {
    const { sup } = setup();
    const g = gate();
    const id = await sup.spawn(opts(), async (ctx) => {
      await ctx.cancelled();
      await g.promise;
      return TaskResult.cancelled();
    });
    expect(sup.cancel(id)).toBe(true);
    expect(sup.cancel(id)).toBe(true);
    expect(sup.taskActor(id)?.getSnapshot().value).toEqual({ running: 'cancelling' });
    g.open();
    await sup.wait(id);
    expect(sup.cancel(id)).toBe(false);
    await sup.stop();
  });

  it('F10 a restored-only task cannot be cancelled', async () => {
    const { sup } = setup();
    await sup.restoreForThread('t', [meta('bg_7')]);
    expect(sup.cancel('bg_7')).toBe(false);
    expect(sup.cancelTree('bg_7')).toBe(0);
    await sup.stop();
  });

  it('F11 / §6.10 cancelTree of an unknown id is 0', async () => {
    const { sup } = setup();
    await sup.spawn(opts(), parked);
    expect(sup.cancelTree('bg_404')).toBe(0);
    expect(sup.hasRunning('t')).toBe(true);
    await sup.stop();
  });

  it('§6.10 a terminal root is not counted; its live descendants are', async () => {
    const { sup } = setup();
    const childId = gate<string>();
    const root = await sup.spawn(opts(), async () => {
      childId.open(await sup.spawn(opts(), parked));
      return 'root done';
    });
    const child = await childId.promise;
    await sup.wait(root);
    expect(sup.cancelTree(root)).toBe(1);
    expect((await sup.wait(child)).status).toBe('cancelled');
    await sup.stop();
  });

  it('§6.10 descendants owned by other threads are cancelled by cancelTree, not by cancelAll (F12)', async () => {
    const { sup } = setup();
    const root = await sup.spawn(opts(), parked);
    const foreign = await sup.spawn(
      { ...opts(), threadId: 'elsewhere', parentContext: { task_id: root } },
      parked,
    );
    expect(sup.cancelAll('t')).toBe(1);
    await sup.wait(root);
    expect(sup.get(foreign)?.status).toBe('running');
    const root2 = await sup.spawn(opts(), parked);
    const foreign2 = await sup.spawn(
      { ...opts(), threadId: 'elsewhere', parentContext: { task_id: root2 } },
      parked,
    );
    expect(sup.cancelTree(root2)).toBe(2);
    expect((await sup.wait(foreign2)).status).toBe('cancelled');
    await sup.stop();
  });

  it('§6.10 cyclic parent links terminate and count each task once', async () => {
    const { sup } = setup();
    // bg_0 names bg_1 (not yet known: allowed) as parent; bg_1 names bg_0.
    const a = await sup.spawn(opts({ parentContext: { task_id: 'bg_1' } }), parked);
    const b = await sup.spawn(opts({ parentContext: { task_id: a } }), parked);
    expect([a, b]).toEqual(['bg_0', 'bg_1']);
    expect(sup.cancelTree(a)).toBe(2);
    expect(sup.cancelTree(b)).toBe(2);
    await sup.stop();
  });

  it('§6.10 a self-parented task is counted once', async () => {
    const { sup } = setup();
    const a = await sup.spawn(opts({ parentContext: { task_id: 'bg_0' } }), parked);
    expect(sup.cancelTree(a)).toBe(1);
    await sup.stop();
  });

  it('§6.10 cyclic links among restored records terminate (0 live)', async () => {
    const { sup } = setup();
    await sup.restoreForThread('t', [
      meta('bg_1', { parent_context: { task_id: 'bg_2' } }),
      meta('bg_2', { parent_context: { task_id: 'bg_1' } }),
    ]);
    expect(sup.cancelTree('bg_1')).toBe(0);
    await sup.stop();
  });

  it('F12 / §6.11 cancelAll counts only live non-terminal tasks; an empty thread is 0', async () => {
    const { sup } = setup({ cancelGraceMs: 200 });
    const done = await sup.spawn(opts(), () => 1);
    await sup.wait(done);
    await sup.spawn(opts(), parked);
    const cancelling = await sup.spawn(opts(), async (ctx) => {
      await ctx.cancelled();
      await new Promise<void>(() => {});
    });
    sup.cancel(cancelling);
    await sup.restoreForThread('t', [meta('bg_50')]);
    expect(sup.cancelAll('t')).toBe(2);
    expect(sup.cancelAll('nobody')).toBe(0);
    await sup.stop();
  });

  it('F13 cancelDescendantsForRun sums cancelTree over the run roots', async () => {
    const { sup } = setup();
    const r1 = await sup.spawn(opts({ parentContext: { run_id: 'run-1' } }), parked);
    const c1 = await sup.spawn(opts({ parentContext: { run_id: 'run-1', task_id: r1 } }), parked);
    const r2 = await sup.spawn({ ...opts(), threadId: 'other', parentContext: { run_id: 'run-1' } }, parked);
    const g1 = await sup.spawn(opts({ parentContext: { task_id: c1 } }), parked);
    const otherRun = await sup.spawn(opts({ parentContext: { run_id: 'run-2' } }), parked);
    const noRoot = await sup.spawn(
      opts({ parentContext: { run_id: 'run-1', task_id: 'bg_elsewhere' } }),
      parked,
    );
    expect(sup.cancelDescendantsForRun('run-1')).toBe(4);
    for (const id of [r1, c1, r2, g1]) expect((await sup.wait(id)).status).toBe('cancelled');
    expect(sup.get(otherRun)?.status).toBe('running');
    // §3.12: a task with both run_id and task_id is not a root; reached only via its parent.
    expect(sup.get(noRoot)?.status).toBe('running');
    await sup.stop();
  });

  it('§3.12 cancelDescendantsForRun with no matching roots is 0', async () => {
    const { sup } = setup();
    await sup.spawn(opts({ parentContext: { run_id: 'run-1' } }), parked);
    expect(sup.cancelDescendantsForRun('run-none')).toBe(0);
    await sup.stop();
  });

  it('§3.12 cancelDescendantsForRun does not walk a terminal run root', async () => {
    const { sup, events } = setup();
    const kid = gate<string>();
    const root = await sup.spawn(opts({ parentContext: { run_id: 'run-9' } }), async () => {
      kid.open(await sup.spawn(opts(), parked));
      return 'done';
    });
    const child = await kid.promise;
    await sup.wait(root);
    const n = sup.cancelDescendantsForRun('run-9');
    // Contract: Σ cancelTree(root) over NON-TERMINAL run roots, so a finished root is not walked.
    expect(n).toBe(0);
    expect(sup.get(child)?.status).toBe('running');
    expect((events() as TaskEvent[]).map((e) => e.kind)).toEqual(['completed']);
    await sup.stop();
  });

  it('F4 while cancelling, each task actor says why it was asked, the first reason kept, and its summary ends with it', async () => {
    const { sup } = setup();
    const hold = gate();
    // Bodies that ignore the request for now, so the tasks stay in running.cancelling.
    const stubborn = async () => {
      await hold.promise;
      return TaskResult.cancelled();
    };
    const root = await sup.spawn(opts(), stubborn);
    const child = await sup.spawn(opts({ parentContext: { task_id: root } }), stubborn);
    const other = await sup.spawn(opts(), stubborn);
    const before = sup.taskActor(child)!.getSnapshot();
    expect(before.context.stopReason).toBeUndefined();
    expect(sup.cancelTree(root)).toBe(2);
    // A later cancel of the same task (another reason) does not replace the first.
    expect(sup.cancel(child)).toBe(true);
    expect(sup.cancelAll('t')).toBe(3);
    for (const [id, why] of [
      [root, 'user'],
      [child, 'parent'],
      [other, 'user'],
    ] as const) {
      const snapshot = sup.taskActor(id)!.getSnapshot();
      expect(snapshot.value).toEqual({ running: 'cancelling' });
      expect(snapshot.context.stopReason).toBe(why);
    }
    // Contexts are per task: the reason of one is not seen on another.
    expect(sup.taskActor(root)!.getSnapshot().context).not.toBe(sup.taskActor(child)!.getSnapshot().context);
    // A snapshot taken before the cancel is not changed by it (XState snapshots are immutable).
    expect(before.context.stopReason).toBeUndefined();
    expect(before.value).toEqual({ running: 'active' });
    hold.open();
    expect((await sup.wait(root)).stop_reason).toBe('user');
    expect((await sup.wait(child)).stop_reason).toBe('parent');
    expect((await sup.wait(other)).stop_reason).toBe('user');
    await sup.stop();
  });
});
