import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, TaskResult } from '../../src/index.js';
import type { ThreadIdleEvent } from '../../src/index.js';
import { FlakyStore, gate, isSettled, kinds, opts, parked, setup, until } from '../helpers/async.js';

describe('whenIdle / onIdle: a thread with no work left', () => {
  it('resolves at once for a thread with no task, and for an unknown thread', async () => {
    const { sup } = setup();
    const idle = await sup.whenIdle('nobody');
    expect(idle).toMatchObject({ kind: 'idle', thread_id: 'nobody', finished: [] });
    await sup.stop();
  });

  it('resolves only after the last task ended and its terminal event reached the inbox, listing what finished', async () => {
    const { sup, receiver, events } = setup();
    const g1 = gate();
    const g2 = gate();
    const a = await sup.spawn(opts(), async (ctx) => {
      ctx.emit('progress', { n: 1 });
      await g1.promise;
      return 'a';
    });
    const b = await sup.spawn(opts(), async () => {
      await g2.promise;
      return 'b';
    });
    const other = await sup.spawn(opts({ threadId: 'other' }), parked);
    const idle = sup.whenIdle('t');
    g1.open();
    await sup.wait(a);
    expect(await isSettled(idle)).toBe(false);
    g2.open();
    const event = await idle;
    // The inbox already holds both terminal events when the promise resolves.
    expect(kinds(receiver.drain())).toEqual(['custom', 'completed', 'completed']);
    expect(event.kind).toBe('idle');
    expect(event.thread_id).toBe('t');
    expect(event.finished.map((s) => [s.task_id, s.status, s.result])).toEqual([
      [a, 'completed', 'a'],
      [b, 'completed', 'b'],
    ]);
    expect(Object.isFrozen(event)).toBe(true);
    // Another thread's running task does not hold thread t.
    expect(sup.get(other)?.status).toBe('running');
    // The next idle event lists only what ended after this one.
    const c = await sup.spawn(opts(), () => 'c');
    const next = await sup.whenIdle('t');
    expect(next.finished.map((s) => s.task_id)).toEqual([c]);
    expect((await sup.whenIdle('t')).finished).toEqual([]);
    events();
    await sup.stop();
  });

  it('onIdle fires once per busy period per thread, filtered by thread, and survives a throwing listener', async () => {
    const { sup } = setup();
    const all: ThreadIdleEvent[] = [];
    const onlyU: ThreadIdleEvent[] = [];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    sup.onIdle(() => {
      throw new Error('listener bug');
    });
    sup.onIdle((e) => all.push(e));
    const stop = sup.onIdle((e) => onlyU.push(e), { threadId: 'u' });
    const g = gate();
    const t1 = await sup.spawn(opts(), async () => g.promise.then(() => 1));
    const t2 = await sup.spawn(opts(), async () => g.promise.then(() => 2));
    const u1 = await sup.spawn(opts({ threadId: 'u' }), () => TaskResult.failed('nope'));
    await sup.wait(u1);
    g.open();
    await sup.wait(t1);
    await sup.wait(t2);
    await until(() => all.length === 2, 10_000, 'two idle events');
    expect(all.map((e) => [e.thread_id, e.finished.map((s) => s.task_id)])).toEqual([
      ['u', [u1]],
      ['t', [t1, t2]],
    ]);
    expect(onlyU.map((e) => e.finished[0]?.status)).toEqual(['failed']);
    stop();
    await sup.spawn(opts({ threadId: 'u' }), () => 3);
    await until(() => all.length === 3, 10_000, 'third idle event');
    expect(onlyU).toHaveLength(1);
    await until(() => warnings.some((w) => w.includes('onIdle listener threw')), 10_000, 'warning');
    process.off('warning', onWarning);
    await sup.stop();
  });

  it('waits through a terminal write the store keeps failing, then resolves once the event is delivered', async () => {
    const store = new FlakyStore();
    const { sup, receiver } = setup({ store });
    const g = gate();
    const id = await sup.spawn(opts(), async () => {
      await g.promise;
      return 'x';
    });
    const hold = gate();
    store.hold = () => hold.promise;
    const idle = sup.whenIdle('t');
    g.open();
    await until(() => sup.get(id)?.status === 'completed', 10_000, 'terminal in memory');
    // Terminal in memory, its write held: not idle yet (the event is not in the inbox).
    expect(sup.hasRunning('t')).toBe(false);
    expect(await isSettled(idle)).toBe(false);
    store.failing = true;
    hold.open();
    const event = await idle;
    expect(event.finished.map((s) => s.task_id)).toEqual([id]);
    expect(kinds(receiver.drain())).toEqual(['completed']);
    store.failing = false;
    store.hold = undefined;
    await sup.stop();
  });

  it('a spawn whose record cannot be written leaves the thread idle (the waiter resolves, nothing finished)', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const hold = gate();
    store.hold = () => hold.promise;
    const spawning = sup.spawn(opts(), () => 1);
    await until(() => sup.hasRunning('t'), 10_000, 'spawn registered');
    const idle = sup.whenIdle('t');
    store.failing = true;
    hold.open();
    await expect(spawning).rejects.toMatchObject({ code: 'store_failed' });
    expect((await idle).finished).toEqual([]);
    store.failing = false;
    store.hold = undefined;
    await sup.stop();
  });

  it('stop() cancels the running tasks; the thread becomes idle with them cancelled', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), parked);
    const idle = sup.whenIdle('t');
    await sup.stop();
    expect((await idle).finished.map((s) => [s.task_id, s.status])).toEqual([[id, 'cancelled']]);
  });

  it('rejects with the signal reason when aborted and with a TimeoutError after timeoutMs, leaving the task running', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), parked);
    const ac = new AbortController();
    const waiting = sup.whenIdle('t', { signal: ac.signal });
    ac.abort(new Error('user left'));
    await expect(waiting).rejects.toThrow('user left');
    await expect(sup.whenIdle('t', { signal: ac.signal })).rejects.toThrow('user left');
    await expect(sup.whenIdle('t', { timeoutMs: 5 })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sup.get(id)?.status).toBe('running');
    await sup.stop();
  });

  it('rejects bad arguments with TypeError', async () => {
    const sup = createTaskSupervisor({ ownerInbox: createInbox().sender });
    await expect(sup.whenIdle(7 as never)).rejects.toThrow('Expected `threadId` to be a string, got number');
    await expect(sup.whenIdle('t', { signal: 'x' as never })).rejects.toThrow(
      'Expected `opts.signal` to be an AbortSignal, got string',
    );
    await expect(sup.whenIdle('t', { timeoutMs: -1 })).rejects.toThrow(
      'Expected `opts.timeoutMs` to be a non-negative number, got -1',
    );
    expect(() => sup.onIdle(1 as never)).toThrow('Expected `listener` to be a function, got number');
    expect(() => sup.onIdle(() => {}, { threadId: 1 as never })).toThrow(
      'Expected `filter.threadId` to be a string, got number',
    );
    await sup.stop();
  });
});

describe('whenIdle / onIdle property', () => {
  it('over random spawns and completions in two threads: each idle event finds its thread idle, and every ended task is listed exactly once', async () => {
    const { assertWithSeed, runsFor } = await import('../property/seed.js');
    const fc = (await import('fast-check')).default;
    await assertWithSeed(
      'idle events',
      fc.asyncProperty(
        fc.array(
          fc.record({
            thread: fc.constantFrom('t1', 't2'),
            outcome: fc.constantFrom('ok', 'throw', 'cancel'),
            hops: fc.integer({ min: 0, max: 3 }),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        async (ops) => {
          const inbox = createInbox();
          const sup = createTaskSupervisor({ ownerInbox: inbox.sender });
          const events: ThreadIdleEvent[] = [];
          const problems: string[] = [];
          sup.onIdle((e) => {
            if (sup.hasRunning(e.thread_id)) problems.push(`${e.thread_id} idle while running`);
            events.push(e);
          });
          const ids: Record<string, string[]> = { t1: [], t2: [] };
          for (const op of ops) {
            const id = await sup.spawn(opts({ threadId: op.thread }), async (ctx) => {
              for (let i = 0; i < op.hops; i++) await new Promise<void>((r) => setImmediate(r));
              if (op.outcome === 'throw') throw Object.create(null);
              if (op.outcome === 'cancel') return ctx.cancelled().then(() => TaskResult.cancelled());
              return op.hops;
            });
            ids[op.thread]!.push(id);
            if (op.outcome === 'cancel') sup.cancel(id);
          }
          for (const thread of ['t1', 't2']) {
            const idle = await sup.whenIdle(thread);
            expect(idle.thread_id).toBe(thread);
            const listed = events
              .filter((e) => e.thread_id === thread)
              .flatMap((e) => e.finished.map((s) => s.task_id));
            // A waiter registered before the thread turned idle gets the very event listeners got.
            const extra = events.includes(idle) ? [] : idle.finished.map((s) => s.task_id);
            const all = [...listed, ...extra];
            expect(new Set(all).size).toBe(all.length);
            expect([...new Set(all)].sort()).toEqual([...ids[thread]!].sort());
          }
          expect(problems).toEqual([]);
          await sup.stop();
        },
      ),
      runsFor(50),
    );
  });
});
