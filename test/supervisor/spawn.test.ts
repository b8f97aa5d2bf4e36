import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, currentTaskId, SpawnError, TaskResult } from '../../src/index.js';
import type { TaskEvent } from '../../src/index.js';
import { FlakyStore, gate, isSettled, kinds, opts, parked, setup, until } from '../helpers/async.js';

describe('B. spawn and ids', () => {
  it('B1 ids are bg_0, bg_1, bg_2, shared by spawn and spawnAgent across threads', async () => {
    const { sup } = setup();
    const a = await sup.spawn(opts(), parked);
    const b = await sup.spawnAgent({ threadId: 'other', description: 'agent' }, parked);
    const c = await sup.spawn(opts(), parked);
    expect([a, b, c]).toEqual(['bg_0', 'bg_1', 'bg_2']);
    await sup.stop();
  });

  it('B2 list right after spawn shows the running task with its type and description', async () => {
    const { sup } = setup();
    const id = await sup.spawn({ threadId: 'thread-1', taskType: 'test', description: 'my task' }, parked);
    expect(sup.list('thread-1')).toEqual([
      { task_id: id, task_type: 'test', description: 'my task', status: 'running', created_at_ms: 1_000 },
    ]);
    await sup.stop();
  });

  it('B3 get is running as soon as spawn resolves, and the running record is in the store', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const id = await sup.spawn(opts(), parked);
    expect(sup.get(id)?.status).toBe('running');
    expect((await store.record(id))?.status).toBe('running');
    await sup.stop();
  });

  it('B4 no store configured: the default in-memory store is used and spawn works', async () => {
    const sup = createTaskSupervisor();
    const id = await sup.spawn(opts(), () => 1);
    expect((await sup.wait(id)).status).toBe('completed');
    await sup.stop();
  });

  it('B5 a store whose put rejects: spawn fails store_failed with the store error as cause', async () => {
    const store = new FlakyStore();
    store.failing = true;
    const { sup } = setup({ store });
    const err = await sup.spawn(opts({ name: 'worker' }), parked).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpawnError);
    expect((err as SpawnError).code).toBe('store_failed');
    expect((err as SpawnError).cause).toBe(store.error);
    expect((err as SpawnError).message).toContain('disk on fire');
    // The task never existed: not listed, its name free, nothing live.
    expect(sup.list('t')).toEqual([]);
    expect(sup.hasRunning('t')).toBe(false);
    expect(sup.stats()).toMatchObject({ live: 0, spawned: 0 });
    store.failing = false;
    await expect(sup.spawn(opts({ name: 'worker' }), parked)).resolves.toBe('bg_1');
    await sup.stop();
  });

  it('B6 the same name after completion gets a new id', async () => {
    const { sup } = setup();
    const a = await sup.spawn(opts({ name: 'n' }), () => 'done');
    await sup.wait(a);
    const b = await sup.spawn(opts({ name: 'n' }), () => 'done');
    expect(b).not.toBe(a);
    await sup.stop();
  });

  it('B7 a sub-agent body sees ctx.taskId equal to the spawned id', async () => {
    const { sup } = setup();
    const seen = gate<string>();
    const id = await sup.spawnAgent({ threadId: 't', description: 'a' }, (ctx) => seen.open(ctx.taskId));
    expect(await seen.promise).toBe(id);
    await sup.stop();
  });

  it('B8 a plain body runs with the ambient task id set to ctx.taskId, across await', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), async (ctx) => {
      const first = currentTaskId();
      await Promise.resolve();
      return { first, later: currentTaskId(), own: ctx.taskId };
    });
    expect((await sup.wait(id)).result).toEqual({ first: id, later: id, own: id });
    expect(currentTaskId()).toBeUndefined();
    await sup.stop();
  });

  it('B9 with no owner inbox ctx.inbox is undefined, emit is false, and the task completes', async () => {
    const sup = createTaskSupervisor();
    const id = await sup.spawn(opts(), (ctx) => ({ inbox: ctx.inbox === undefined, emitted: ctx.emit('x') }));
    const s = await sup.wait(id);
    expect(s).toMatchObject({ status: 'completed', result: { inbox: true, emitted: false } });
    expect(sup.stats()).toMatchObject({ eventsDelivered: 0, eventsUndelivered: 0 });
    await sup.stop();
  });

  it('B10 raw messages through ctx.inbox arrive in order before the terminal event', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      ctx.inbox?.send({ progress: 50 });
      ctx.inbox?.send({ progress: 100 });
      return TaskResult.success('done');
    });
    await sup.wait(id);
    expect(events()).toEqual([
      { progress: 50 },
      { progress: 100 },
      { kind: 'completed', task_id: id, result: 'done' },
    ]);
    // Raw sends are not counted in the event stats.
    expect(sup.stats()).toMatchObject({ eventsDelivered: 1, eventsUndelivered: 0 });
    await sup.stop();
  });

  it('B11 two parked and one instant task: list has 3, statuses right, both cancels true', async () => {
    const { sup } = setup();
    const a = await sup.spawn({ threadId: 'thread-1', taskType: 'shell', description: 'task A' }, parked);
    const b = await sup.spawn({ threadId: 'thread-1', taskType: 'http', description: 'task B' }, parked);
    const c = await sup.spawn({ threadId: 'thread-1', taskType: 'x', description: 'task C' }, () =>
      TaskResult.success('done'),
    );
    await sup.wait(c);
    expect(sup.list('thread-1').map((s) => [s.task_id, s.status])).toEqual([
      [a, 'running'],
      [b, 'running'],
      [c, 'completed'],
    ]);
    expect(sup.cancel(a)).toBe(true);
    expect(sup.cancel(b)).toBe(true);
    await sup.stop();
  });

  it('B12 three blocking and two completing tasks: after cancels, 2 completed and 3 cancelled', async () => {
    const { sup } = setup();
    const blocking = [];
    for (let i = 0; i < 3; i++)
      blocking.push(await sup.spawn(opts({ description: `blocking-${i}` }), parked));
    const completing = [];
    for (let i = 0; i < 2; i++)
      completing.push(await sup.spawn(opts({ description: `completing-${i}` }), () => i));
    for (const id of blocking) expect(sup.cancel(id)).toBe(true);
    await Promise.all([...blocking, ...completing].map((id) => sup.wait(id)));
    const statuses = sup.list('t').map((s) => s.status);
    expect(statuses.filter((s) => s === 'completed')).toHaveLength(2);
    expect(statuses.filter((s) => s === 'cancelled')).toHaveLength(3);
    await sup.stop();
  });

  it('B13 name failures consume no id; a failed store write consumes one (§6.14)', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    await expect(sup.spawn(opts({ name: 'self' }), parked)).rejects.toMatchObject({ code: 'reserved_name' });
    expect(await sup.spawn(opts({ name: 'w' }), parked)).toBe('bg_0');
    await expect(sup.spawn(opts({ name: 'w' }), parked)).rejects.toMatchObject({ code: 'duplicate_name' });
    store.failing = true;
    await expect(sup.spawn(opts(), parked)).rejects.toMatchObject({ code: 'store_failed' });
    store.failing = false;
    expect(await sup.spawn(opts(), parked)).toBe('bg_2');
    await sup.stop();
  });

  it('B13 the reserved check runs before the duplicate check', async () => {
    const { sup } = setup();
    await expect(sup.spawn(opts({ name: 'all' }), parked)).rejects.toMatchObject({ code: 'reserved_name' });
    await sup.stop();
  });

  it('B14 spawn does not wait for the body', async () => {
    const { sup } = setup();
    const g = gate();
    const id = await sup.spawn(opts(), () => g.promise);
    expect(sup.get(id)?.status).toBe('running');
    g.open();
    expect((await sup.wait(id)).status).toBe('completed');
    await sup.stop();
  });

  it('B14 a body may finish before spawn resolves; it is still completed exactly once', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), () => 7);
    expect((await sup.wait(id)).result).toBe(7);
    expect(events()).toEqual([{ kind: 'completed', task_id: id, result: 7 }]);
    await sup.stop();
  });

  it('B15 / §6.19 setOwnerInbox affects only later spawns', async () => {
    const first = createInbox();
    const second = createInbox();
    const sup = createTaskSupervisor({ ownerInbox: first.sender });
    const g = gate();
    const a = await sup.spawn(opts(), async (ctx) => {
      await g.promise;
      ctx.emit('late');
      return 'a';
    });
    sup.setOwnerInbox(second.sender);
    const b = await sup.spawn(opts(), () => 'b');
    g.open();
    await Promise.all([sup.wait(a), sup.wait(b)]);
    expect((first.receiver.drain() as TaskEvent[]).map((e) => [e.task_id, e.kind])).toEqual([
      [a, 'custom'],
      [a, 'completed'],
    ]);
    expect((second.receiver.drain() as TaskEvent[]).map((e) => [e.task_id, e.kind])).toEqual([
      [b, 'completed'],
    ]);
    sup.setOwnerInbox(undefined);
    const c = await sup.spawn(opts(), (ctx) => ctx.inbox === undefined);
    expect((await sup.wait(c)).result).toBe(true);
    await sup.stop();
  });

  it('SpawnOptions.inbox replaces the owner inbox for that one task', async () => {
    const { sup, events } = setup();
    const own = createInbox();
    const id = await sup.spawn({ ...opts(), inbox: own.sender }, (ctx) => {
      ctx.emit('p');
      return ctx.inbox === own.sender;
    });
    const other = await sup.spawn(opts(), () => 'owner');
    await Promise.all([sup.wait(id), sup.wait(other)]);
    expect(kinds(own.receiver.drain())).toEqual(['custom', 'completed']);
    expect(events()).toEqual([{ kind: 'completed', task_id: other, result: 'owner' }]);
    expect(sup.get(id)?.result).toBe(true);
    await sup.stop();
  });

  it('§6.4 cancel(ctx.taskId) from the first synchronous line of the body returns true', async () => {
    const { sup } = setup();
    let selfCancel: boolean | undefined;
    const id = await sup.spawn(opts(), (ctx) => {
      selfCancel = sup.cancel(ctx.taskId);
      return ctx.isCancelled() ? TaskResult.cancelled() : 'not cancelled';
    });
    expect(selfCancel).toBe(true);
    expect((await sup.wait(id)).status).toBe('cancelled');
    await sup.stop();
  });

  it('ids are unique per store: two supervisors on one MemoryTaskStore never mint the same id', async () => {
    const store = new FlakyStore();
    const one = createTaskSupervisor({ store });
    const two = createTaskSupervisor({ store });
    const spawns = [];
    for (let i = 0; i < 100; i++) {
      spawns.push(one.spawn({ ...opts(), threadId: 'a' }, () => i));
      spawns.push(two.spawn({ ...opts(), threadId: 'b' }, () => i));
    }
    const ids = await Promise.all(spawns);
    expect(new Set(ids).size).toBe(200);
    await Promise.all([one.stop(), two.stop()]);
    expect((await store.load()).length).toBe(200);
  });

  it('ids are unique per store: a new supervisor starts past every stored bg_<n> of any thread', async () => {
    const store = new FlakyStore();
    await store.put([
      {
        task_id: 'bg_41',
        owner_thread_id: 'someone-else',
        task_type: 'x',
        description: 'old',
        status: 'completed',
        created_at_ms: 1,
        completed_at_ms: 2,
        parent_context: {},
      },
    ]);
    const sup = createTaskSupervisor({ store });
    expect(await sup.spawn(opts(), parked)).toBe('bg_42');
    await sup.stop();
  });

  it('spawn resolves only once the running record write settled', async () => {
    const store = new FlakyStore();
    const hold = gate();
    store.hold = () => hold.promise;
    const { sup } = setup({ store });
    const p = sup.spawn(opts(), parked);
    expect(await isSettled(p)).toBe(false);
    store.hold = undefined;
    hold.open();
    const id = await p;
    await until(() => store.attempts >= 1);
    expect((await store.record(id))?.status).toBe('running');
    await sup.stop();
  });
});
