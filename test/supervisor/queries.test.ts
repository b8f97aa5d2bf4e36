import { describe, expect, it } from 'vitest';
import { SendError } from '../../src/index.js';
import type { TaskChange } from '../../src/index.js';
import { FlakyStore, gate, opts, parked, setup } from '../helpers/async.js';

describe('J. list, get, hasRunning', () => {
  it('J1 list of another thread is empty', async () => {
    const { sup } = setup();
    await sup.spawn({ ...opts(), threadId: 'thread-1' }, parked);
    expect(sup.list('thread-2')).toEqual([]);
    await sup.stop();
  });

  it('J2 get of an unknown id is undefined', async () => {
    const { sup } = setup();
    expect(sup.get('does_not_exist')).toBeUndefined();
    await sup.stop();
  });

  it('J3 hasRunning follows the lifecycle per thread', async () => {
    const { sup } = setup();
    expect(sup.hasRunning('thread-1')).toBe(false);
    const id = await sup.spawn({ ...opts(), threadId: 'thread-1' }, parked);
    expect(sup.hasRunning('thread-1')).toBe(true);
    expect(sup.hasRunning('thread-2')).toBe(false);
    sup.cancel(id);
    await sup.wait(id);
    expect(sup.hasRunning('thread-1')).toBe(false);
    await sup.stop();
  });

  it('J4 / §6.27 get is not thread-scoped; §6.28 list is creation order with terminal tasks', async () => {
    const { sup } = setup();
    const ids = [];
    for (let i = 0; i < 5; i++)
      ids.push(await sup.spawn({ ...opts(), threadId: 'a' }, i % 2 ? parked : () => i));
    const foreign = await sup.spawn({ ...opts(), threadId: 'b' }, parked);
    expect(sup.get(foreign)?.task_id).toBe(foreign);
    expect(sup.list('a').map((s) => s.task_id)).toEqual(ids);
    await Promise.all([ids[0], ids[2], ids[4]].map((id) => sup.wait(id as string)));
    expect(sup.list('a').map((s) => s.status)).toEqual([
      'completed',
      'running',
      'completed',
      'running',
      'completed',
    ]);
    await sup.stop();
  });

  it('§6.20 hasRunning agrees with list at every step (memory is the source of truth)', async () => {
    const store = new FlakyStore();
    store.failing = false;
    const { sup } = setup({ store });
    const agree = () => sup.hasRunning('t') === sup.list('t').some((s) => s.status === 'running');
    const a = await sup.spawn(opts(), parked);
    expect(agree()).toBe(true);
    store.failing = true;
    sup.cancel(a);
    await sup.wait(a);
    expect(agree()).toBe(true);
    expect(sup.hasRunning('t')).toBe(false);
    store.failing = false;
    await sup.stop();
  });
});

describe('wait', () => {
  it('resolves with the terminal summary, also when already finished', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), () => 'x');
    const s = await sup.wait(id);
    expect(s).toEqual(sup.get(id));
    await expect(sup.wait(id)).resolves.toEqual(s);
    await sup.stop();
  });

  it('rejects with a TimeoutError DOMException after timeoutMs; the task is untouched', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), parked);
    const e = await sup.wait(id, { timeoutMs: 5 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(DOMException);
    expect((e as DOMException).name).toBe('TimeoutError');
    expect(sup.get(id)?.status).toBe('running');
    await sup.stop();
  });

  it('rejects with the signal reason when aborted, before or during the wait', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), parked);
    const reason = new Error('caller gave up');
    const ac = new AbortController();
    const p = sup.wait(id, { signal: ac.signal });
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    await expect(sup.wait(id, { signal: AbortSignal.abort('already') })).rejects.toBe('already');
    expect(sup.get(id)?.status).toBe('running');
    await sup.stop();
  });

  it("rejects with TypeError unknown task '<id>' for an id it does not hold", async () => {
    const { sup } = setup();
    await expect(sup.wait('bg_9')).rejects.toThrow(new TypeError("unknown task 'bg_9'"));
    await sup.stop();
  });

  it('resolves for restored tasks at once', async () => {
    const { sup } = setup();
    await sup.restoreForThread('t', [
      {
        task_id: 'bg_1',
        owner_thread_id: 't',
        task_type: 'x',
        description: 'r',
        status: 'running',
        created_at_ms: 1,
        parent_context: {},
      },
    ]);
    expect((await sup.wait('bg_1')).status).toBe('failed');
    await sup.stop();
  });
});

describe('prune', () => {
  it('forgets terminal tasks older than the cutoff from memory only; running tasks stay', async () => {
    const store = new FlakyStore();
    const { sup, clock } = setup({ store });
    const old = await sup.spawn(opts(), () => 1);
    await sup.wait(old);
    clock.set(5_000);
    const recent = await sup.spawn(opts(), () => 2);
    await sup.wait(recent);
    const live = await sup.spawn(opts(), parked);
    clock.set(6_000);
    expect(sup.prune({ olderThanMs: 2_000 })).toBe(1);
    expect(sup.get(old)).toBeUndefined();
    expect(sup.list('t').map((s) => s.task_id)).toEqual([recent, live]);
    expect(await store.record(old)).toMatchObject({ status: 'completed' });
    await expect(sup.wait(old)).rejects.toThrow(TypeError);
    expect(sup.prune({})).toBe(1);
    expect(sup.list('t').map((s) => s.task_id)).toEqual([live]);
    expect(sup.stats()).toMatchObject({ live: 1, retained: 0 });
    await sup.stop();
  });

  it('prune by thread and with the default olderThanMs of 0', async () => {
    const { sup } = setup();
    const a = await sup.spawn({ ...opts(), threadId: 'a' }, () => 1);
    const b = await sup.spawn({ ...opts(), threadId: 'b' }, () => 1);
    await Promise.all([sup.wait(a), sup.wait(b)]);
    expect(sup.prune({ threadId: 'a' })).toBe(1);
    expect(sup.get(a)).toBeUndefined();
    expect(sup.get(b)).toBeDefined();
    expect(sup.prune({ threadId: 'nobody' })).toBe(0);
    await sup.stop();
  });

  it('restored terminal records can be pruned and restored again', async () => {
    const { sup } = setup();
    const r = {
      task_id: 'bg_3',
      owner_thread_id: 't',
      task_type: 'x',
      description: 'r',
      status: 'completed' as const,
      created_at_ms: 1,
      completed_at_ms: 2,
      parent_context: {},
    };
    await sup.restoreForThread('t', [r]);
    expect(sup.prune({})).toBe(1);
    expect(await sup.restoreForThread('t', [r])).toBe(1);
    await sup.stop();
  });
});

describe('subscribe, taskActor, actor', () => {
  it('subscribe reports spawned and updated changes until unsubscribed', async () => {
    const { sup } = setup();
    const changes: TaskChange[] = [];
    const off = sup.subscribe((c) => changes.push(c));
    const id = await sup.spawn({ ...opts(), threadId: 'th' }, () => 'ok');
    await sup.wait(id);
    expect(changes.map((c) => [c.type, c.thread_id, c.summary.status])).toEqual([
      ['spawned', 'th', 'running'],
      ['updated', 'th', 'completed'],
    ]);
    off();
    await sup.wait(await sup.spawn(opts(), () => 1));
    expect(changes).toHaveLength(2);
    await sup.stop();
  });

  it('a throwing listener does not break the task lifecycle', async () => {
    const { sup } = setup();
    sup.subscribe(() => {
      throw new Error('listener bug');
    });
    const id = await sup.spawn(opts(), () => 'ok');
    expect((await sup.wait(id)).status).toBe('completed');
    await sup.stop();
  });

  it('taskActor: running.active, then running.cancelling, then undefined once finished', async () => {
    const { sup } = setup();
    const g = gate();
    const id = await sup.spawn(opts(), async (ctx) => {
      await ctx.cancelled();
      await g.promise;
      return 'late';
    });
    expect(sup.taskActor(id)?.getSnapshot().value).toEqual({ running: 'active' });
    sup.cancel(id);
    expect(sup.taskActor(id)?.getSnapshot().value).toEqual({ running: 'cancelling' });
    g.open();
    await sup.wait(id);
    expect(sup.taskActor(id)).toBeUndefined();
    expect(sup.taskActor('bg_404')).toBeUndefined();
    await sup.stop();
  });

  it('actor is the supervisor actor: active, then done after stop', async () => {
    const { sup } = setup();
    expect(sup.actor.getSnapshot().value).toBe('active');
    await sup.stop();
    expect(sup.actor.getSnapshot().status).toBe('done');
  });
});

describe('unknown ids and bad options', () => {
  it('unknown ids everywhere have a documented outcome', async () => {
    const { sup } = setup();
    expect(sup.get('bg_1')).toBeUndefined();
    expect(sup.cancel('bg_1')).toBe(false);
    expect(sup.cancelTree('bg_1')).toBe(0);
    expect(sup.taskActor('bg_1')).toBeUndefined();
    await expect(sup.wait('bg_1')).rejects.toThrow("unknown task 'bg_1'");
    expect(() => sup.sendTaskInboxMessage('bg_1', 't', 'a', 'x')).toThrow(SendError);
    expect(sup.cancelAll('nobody')).toBe(0);
    expect(sup.cancelDescendantsForRun('no-run')).toBe(0);
    await sup.stop();
  });

  it('bad spawn options reject with a TypeError naming the option, consuming no id', async () => {
    const { sup } = setup();
    await expect(sup.spawn({ ...opts(), threadId: 5 } as never, parked)).rejects.toThrow(
      new TypeError('Expected `opts.threadId` to be a string, got number'),
    );
    await expect(sup.spawn({ taskType: 'x', description: 'd' } as never, parked)).rejects.toThrow(
      'Expected `opts.threadId` to be a string, got undefined',
    );
    await expect(sup.spawn({ ...opts(), taskType: null } as never, parked)).rejects.toThrow(
      /`opts.taskType`/,
    );
    await expect(sup.spawn({ ...opts(), description: {} } as never, parked)).rejects.toThrow(
      /`opts.description`/,
    );
    await expect(sup.spawn({ ...opts(), name: 1 } as never, parked)).rejects.toThrow(/`opts.name`/);
    await expect(sup.spawn({ ...opts(), parentContext: 'x' } as never, parked)).rejects.toThrow(TypeError);
    await expect(sup.spawn({ ...opts(), parentContext: { run_id: 3 } } as never, parked)).rejects.toThrow(
      /run_id/,
    );
    await expect(sup.spawn({ ...opts(), inbox: {} } as never, parked)).rejects.toThrow(/`opts.inbox`/);
    await expect(sup.spawn(null as never, parked)).rejects.toThrow(TypeError);
    await expect(sup.spawnAgent({ description: 'd' } as never, parked)).rejects.toThrow(/`opts.threadId`/);
    expect(await sup.spawn(opts(), parked)).toBe('bg_0');
    expect(sup.stats().spawned).toBe(1);
    await sup.stop();
  });
});
