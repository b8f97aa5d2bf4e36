import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, TaskResult } from '../../src/index.js';
import type { Json, TaskContext, TaskEvent } from '../../src/index.js';
import { gate, kinds, opts, parked, setup, tick, until } from '../helpers/async.js';

function customs(events: TaskEvent[]): Extract<TaskEvent, { kind: 'custom' }>[] {
  return events.filter((e): e is Extract<TaskEvent, { kind: 'custom' }> => e.kind === 'custom');
}

describe('E. emit and inbox ordering', () => {
  it('E1 emit delivers a structured custom event', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      expect(ctx.emit('progress', { percent: 75 })).toBe(true);
    });
    await sup.wait(id);
    expect(events()[0]).toEqual({
      kind: 'custom',
      task_id: id,
      event_type: 'progress',
      payload: { percent: 75 },
    });
    await sup.stop();
  });

  it('E2 custom and terminal events both arrive', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      ctx.emit('progress', { percent: 50 });
      ctx.emit('data_ready', { rows: 10 });
      return TaskResult.success(null);
    });
    await sup.wait(id);
    expect(kinds(events())).toEqual(['custom', 'custom', 'completed']);
    await sup.stop();
  });

  it('E3 three progress events across awaits, then completed', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), async (ctx) => {
      for (let page = 0; page < 3; page++) {
        ctx.emit('progress', { page });
        await tick();
      }
      return TaskResult.success({ pages_crawled: 3 });
    });
    expect((await sup.wait(id)).status).toBe('completed');
    expect(customs(events()).map((e) => e.payload)).toEqual([{ page: 0 }, { page: 1 }, { page: 2 }]);
    await sup.stop();
  });

  it('E4 spawn, notify, wait for kill', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn({ ...opts(), threadId: 'thread-1' }, async (ctx) => {
      ctx.emit('ready', { port: 8080 });
      return parked(ctx);
    });
    await until(() => events().length > 0);
    expect(customs(events())[0]?.event_type).toBe('ready');
    expect(sup.hasRunning('thread-1')).toBe(true);
    expect(sup.get(id)?.status).toBe('running');
    expect(sup.cancel(id)).toBe(true);
    await sup.wait(id);
    expect(sup.get(id)?.status).toBe('cancelled');
    expect(sup.hasRunning('thread-1')).toBe(false);
    await sup.stop();
  });

  it('E5 two stage events and one completed', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      ctx.emit('stage', { name: 'extract' });
      ctx.emit('stage', { name: 'transform' });
    });
    await sup.wait(id);
    expect(customs(events()).map((e) => e.payload)).toEqual([{ name: 'extract' }, { name: 'transform' }]);
    expect(kinds(events()).filter((k) => k === 'completed')).toHaveLength(1);
    await sup.stop();
  });

  it('E6 events accumulate until drained: one drain returns 6, then the inbox is empty', async () => {
    const { sup, receiver } = setup();
    const id = await sup.spawn(opts(), async (ctx) => {
      for (let n = 0; n < 5; n++) {
        ctx.emit('tick', { n });
        await tick();
      }
    });
    await sup.wait(id);
    expect(kinds(receiver.drain())).toEqual(['custom', 'custom', 'custom', 'custom', 'custom', 'completed']);
    expect(receiver.tryRecv()).toBeUndefined();
    await sup.stop();
  });

  it('E7 nothing spawned: the drain is empty', async () => {
    const { sup, receiver } = setup();
    expect(receiver.drain()).toEqual([]);
    await sup.stop();
  });

  it('E8 three tasks sharing one inbox produce exactly 6 messages', async () => {
    const { sup, events } = setup();
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        await sup.spawn(opts(), (ctx) => {
          ctx.emit('result', { worker: i });
          return TaskResult.success(i);
        }),
      );
    }
    await Promise.all(ids.map((id) => sup.wait(id)));
    expect(events()).toHaveLength(6);
    await sup.stop();
  });

  it('E9 every event carries the task id; emit without payload sends null', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      ctx.emit('ping', null);
      ctx.emit('pong');
      return TaskResult.success('pong');
    });
    await sup.wait(id);
    expect(events().every((e) => e.task_id === id)).toBe(true);
    expect(customs(events()).map((e) => [e.event_type, e.payload])).toEqual([
      ['ping', null],
      ['pong', null],
    ]);
    await sup.stop();
  });

  it('E10 100 back-to-back emits: no loss, in order', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      for (let n = 0; n < 100; n++) ctx.emit('tick', { n });
    });
    await sup.wait(id);
    expect(customs(events()).map((e) => (e.payload as { n: number }).n)).toEqual([...Array(100).keys()]);
    await sup.stop();
  });

  it('E11 emit after cancel still delivers while the task lives', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), async (ctx) => {
      await ctx.cancelled();
      expect(ctx.emit('final_words', { last: true })).toBe(true);
      return TaskResult.cancelled();
    });
    sup.cancel(id);
    await sup.wait(id);
    expect(events()).toEqual([
      { kind: 'custom', task_id: id, event_type: 'final_words', payload: { last: true } },
      { kind: 'cancelled', task_id: id },
    ]);
    await sup.stop();
  });

  it('E12 a heartbeat loop is cancelled: events before, cancelled event after', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), async (ctx) => {
      let n = 0;
      while (!ctx.isCancelled()) {
        ctx.emit('heartbeat', { tick: n++ });
        await tick();
      }
      return TaskResult.cancelled();
    });
    await until(() => events().length >= 2);
    expect(sup.cancel(id)).toBe(true);
    await sup.wait(id);
    expect(sup.get(id)?.status).toBe('cancelled');
    expect(events().at(-1)).toEqual({ kind: 'cancelled', task_id: id });
    await sup.stop();
  });

  it('E13 cancel during a 1000-iteration emit loop: 0 < customs < 1000, then cancelled', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), async (ctx) => {
      for (let i = 0; i < 1000; i++) {
        if (ctx.isCancelled()) return TaskResult.cancelled();
        ctx.emit('i', { i });
        await tick();
      }
      return 'ran to the end';
    });
    await until(() => events().length >= 5);
    sup.cancel(id);
    await sup.wait(id);
    const n = customs(events()).length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(1000);
    expect(events().at(-1)).toEqual({ kind: 'cancelled', task_id: id });
    await sup.stop();
  });

  it('E14 receiver closed before spawn: emit is false and onClosed fires for each undelivered event', async () => {
    const lost: Json[] = [];
    const inbox = createInbox({ onClosed: (m) => lost.push(m) });
    inbox.receiver.close();
    const sup = createTaskSupervisor({ ownerInbox: inbox.sender });
    const id = await sup.spawn(opts(), (ctx) => ({ emitted: ctx.emit('x', 1) }));
    await sup.wait(id);
    expect(sup.get(id)?.result).toEqual({ emitted: false });
    expect(kinds(lost)).toEqual(['custom', 'completed']);
    expect(sup.stats()).toMatchObject({ eventsDelivered: 0, eventsUndelivered: 2 });
    await sup.stop();
  });

  it('E15 / §6.30 receiver dropped mid-task: the late emit and terminal event reach onClosed once each', async () => {
    const lost: Json[] = [];
    const inbox = createInbox({ onClosed: (m) => lost.push(m) });
    const sup = createTaskSupervisor({ ownerInbox: inbox.sender });
    const g = gate();
    const id = await sup.spawn(opts(), async (ctx) => {
      await g.promise;
      return ctx.emit('done');
    });
    inbox.receiver.close();
    g.open();
    await sup.wait(id);
    expect(sup.get(id)?.result).toBe(false);
    expect(lost).toEqual([
      { kind: 'custom', task_id: id, event_type: 'done', payload: null },
      { kind: 'completed', task_id: id, result: false },
    ]);
    await sup.stop();
  });

  it('E16 / §6.2 the first payload is the custom event, its terminal event comes after', async () => {
    const { sup, receiver } = setup();
    const g = gate();
    const id = await sup.spawn({ ...opts(), taskType: 'context_compaction' }, async (ctx) => {
      await g.promise;
      ctx.emit('context.compacted', { summary: 'synthetic summary text' });
      return null;
    });
    g.open();
    const first = await receiver.recv();
    expect(first).toMatchObject({ kind: 'custom', event_type: 'context.compacted', task_id: id });
    expect(await receiver.recv()).toMatchObject({ kind: 'completed', task_id: id });
    await sup.stop();
  });

  it('E17 per-task FIFO holds while tasks interleave; emit is true iff enqueued', async () => {
    const { sup, events } = setup();
    const body = async (ctx: TaskContext) => {
      for (let i = 0; i < 20; i++) {
        expect(ctx.emit('n', i)).toBe(true);
        if (i % 3 === 0) await tick();
      }
    };
    const ids = await Promise.all([
      sup.spawn(opts(), body),
      sup.spawn(opts(), body),
      sup.spawn(opts(), body),
    ]);
    await Promise.all(ids.map((id) => sup.wait(id)));
    for (const id of ids) {
      const mine = events().filter((e) => e.task_id === id);
      expect(mine.map((e) => (e.kind === 'custom' ? e.payload : e.kind))).toEqual([
        ...Array(20).keys(),
        'completed',
      ]);
    }
    expect(sup.stats().eventsDelivered).toBe(63);
    await sup.stop();
  });

  it('E18 isCancelled and cancelled() follow the cancel request; the signal aborts with an AbortError', async () => {
    const { sup } = setup();
    const before = gate<boolean>();
    const id = await sup.spawn(opts(), async (ctx) => {
      before.open(ctx.isCancelled() || ctx.signal.aborted);
      await ctx.cancelled();
      return {
        isCancelled: ctx.isCancelled(),
        aborted: ctx.signal.aborted,
        reason: (ctx.signal.reason as Error).name,
      };
    });
    expect(await before.promise).toBe(false);
    sup.cancel(id);
    expect((await sup.wait(id)).result).toEqual({ isCancelled: true, aborted: true, reason: 'AbortError' });
    await sup.stop();
  });
});
