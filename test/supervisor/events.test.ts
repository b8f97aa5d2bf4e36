import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, TaskResult } from '../../src/index.js';
import type { TaskContext, TaskEvent, TaskEventStream } from '../../src/index.js';
import fc from 'fast-check';
import { gate, isSettled, opts, parked } from '../helpers/async.js';
import { assertWithSeed, runsFor } from '../property/seed.js';

/** Reads a stream to its end. */
async function readAll(stream: AsyncIterable<TaskEvent>): Promise<TaskEvent[]> {
  const out: TaskEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

/** A body that emits `n` progress events, then waits for `g`. */
const emitting =
  (n: number, g: { promise: Promise<void> }) =>
  async (ctx: TaskContext): Promise<string> => {
    for (let i = 0; i < n; i++) ctx.emit('progress', { i });
    await g.promise;
    return 'done';
  };

describe('events(): an async iterator of task events, beside the inbox', () => {
  it('with taskId: the task custom events then its terminal event, then the stream ends; the inbox still gets all', async () => {
    const inbox = createInbox();
    const sup = createTaskSupervisor({ ownerInbox: inbox.sender });
    const g = gate();
    const id = await sup.spawn(opts(), emitting(0, g));
    const stream = sup.events({ taskId: id });
    const read = readAll(stream);
    // The body emits only after the stream is open.
    const other = await sup.spawn(opts(), (ctx) => {
      ctx.emit('noise', null);
      return 1;
    });
    await sup.wait(other);
    expect(sup.latestEvent(other)).toEqual({
      kind: 'custom',
      task_id: other,
      event_type: 'noise',
      payload: null,
    });
    g.open();
    expect(await read).toEqual([{ kind: 'completed', task_id: id, result: 'done' }]);
    expect(inbox.receiver.drain().map((e) => (e as TaskEvent).task_id)).toEqual([other, other, id]);
    await sup.stop();
  });

  it('per thread, in order; ends once the supervisor has stopped, after the buffered events', async () => {
    const sup = createTaskSupervisor();
    const stream = sup.events({ threadId: 't1' });
    const a = await sup.spawn({ ...opts(), threadId: 't1' }, (ctx) => {
      ctx.emit('step', 1);
      ctx.emit('step', 2);
      return TaskResult.failed('nope');
    });
    await sup.spawn({ ...opts(), threadId: 't2' }, () => 'other thread');
    await sup.wait(a);
    await sup.stop();
    expect(await readAll(stream)).toEqual([
      { kind: 'custom', task_id: a, event_type: 'step', payload: 1 },
      { kind: 'custom', task_id: a, event_type: 'step', payload: 2 },
      { kind: 'failed', task_id: a, error: 'nope' },
    ]);
    // Opened after stop: ends at once.
    expect(await readAll(sup.events())).toEqual([]);
  });

  it('ends at once when its signal aborts (a pending read resolves done), and on break', async () => {
    const sup = createTaskSupervisor({ cancelGraceMs: 1_000 });
    const ac = new AbortController();
    const stream = sup.events({ signal: ac.signal });
    const pending = stream.next();
    expect(await isSettled(pending)).toBe(false);
    ac.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(await readAll(sup.events({ signal: AbortSignal.abort() }))).toEqual([]);

    const id = await sup.spawn(opts(), async (ctx) => {
      ctx.emit('a', 1);
      ctx.emit('b', 2);
      await ctx.cancelled();
      return TaskResult.cancelled();
    });
    const s2 = sup.events();
    const id2 = await sup.spawn(opts(), (ctx) => {
      ctx.emit('first', 0);
      ctx.emit('second', 0);
      return null;
    });
    for await (const e of s2) {
      expect(e).toMatchObject({ task_id: id2, event_type: 'first' });
      break;
    }
    // After the break the stream is closed: nothing more, no listener left behind.
    expect(await s2.next()).toEqual({ done: true, value: undefined });
    sup.cancel(id);
    await sup.wait(id);
    await sup.stop();
  });

  it('a taskId of a finished task ends at once; an unknown one is a TypeError; bad options are TypeErrors', async () => {
    const sup = createTaskSupervisor();
    const id = await sup.spawn(opts(), () => 1);
    await sup.wait(id);
    expect(await readAll(sup.events({ taskId: id }))).toEqual([]);
    expect(() => sup.events({ taskId: 'bg_404' })).toThrow(new TypeError("unknown task 'bg_404'"));
    expect(() => sup.events(null as never)).toThrow('Expected `opts` to be an object, got null');
    expect(() => sup.events({ bufferSize: 0 })).toThrow(
      'Expected `opts.bufferSize` to be a positive integer, got 0',
    );
    expect(() => sup.events({ signal: 'x' as never })).toThrow(
      'Expected `opts.signal` to be an AbortSignal, got string',
    );
    expect(() => sup.events({ threadId: 3 as never })).toThrow(
      'Expected `filter.threadId` to be a string, got number',
    );
    await sup.stop();
  });

  it('a slow reader: past bufferSize the oldest custom events are dropped and counted; the terminal event is kept', async () => {
    const sup = createTaskSupervisor();
    const g = gate();
    const stream: TaskEventStream = sup.events({ bufferSize: 3 });
    const id = await sup.spawn(opts(), emitting(10, g));
    g.open();
    await sup.wait(id);
    await sup.stop();
    const got = await readAll(stream);
    expect(stream.dropped).toBe(8);
    expect(got).toEqual([
      { kind: 'custom', task_id: id, event_type: 'progress', payload: { i: 8 } },
      { kind: 'custom', task_id: id, event_type: 'progress', payload: { i: 9 } },
      { kind: 'completed', task_id: id, result: 'done' },
    ]);
  });

  it('two iterators each get every event; a second concurrent next() is refused', async () => {
    const sup = createTaskSupervisor();
    const s1 = sup.events();
    const s2 = sup.events();
    const first = s1.next();
    await expect(s1.next()).rejects.toThrow('events(): next() called while a read is pending');
    const id = await sup.spawn(opts(), () => 'x');
    await sup.wait(id);
    await sup.stop();
    expect(await first).toEqual({ done: false, value: { kind: 'completed', task_id: id, result: 'x' } });
    expect(await readAll(s2)).toEqual([{ kind: 'completed', task_id: id, result: 'x' }]);
  });
});

describe('latestEvent(): a task progress without an inbox', () => {
  it('the latest custom event of any type and per type; kept after the task ends; none for unknown tasks', async () => {
    const sup = createTaskSupervisor();
    const g = gate();
    const id = await sup.spawn(opts(), async (ctx) => {
      ctx.emit('progress', { percent: 10 });
      ctx.emit('log', 'fetched');
      ctx.emit('progress', { percent: 40 });
      await g.promise;
      return null;
    });
    expect(sup.latestEvent(id, 'progress')?.payload).toEqual({ percent: 40 });
    expect(sup.latestEvent(id)).toEqual({
      kind: 'custom',
      task_id: id,
      event_type: 'progress',
      payload: { percent: 40 },
    });
    expect(sup.latestEvent(id, 'log')?.payload).toBe('fetched');
    expect(sup.latestEvent(id, 'none')).toBeUndefined();
    // list() shows the task; latestEvent gives its progress (no inbox configured at all).
    expect(sup.list('t').map((s) => [s.task_id, sup.latestEvent(s.task_id, 'progress')?.payload])).toEqual([
      [id, { percent: 40 }],
    ]);
    g.open();
    await sup.wait(id);
    expect(sup.latestEvent(id, 'progress')?.payload).toEqual({ percent: 40 });
    expect(sup.latestEvent('bg_404')).toBeUndefined();
    const quiet = await sup.spawn(opts(), parked);
    expect(sup.latestEvent(quiet)).toBeUndefined();
    sup.cancel(quiet);
    await sup.stop();
  });

  it('across hundreds of events (the latest is kept in a slot renewed every 64): the latest overall and per type, while running and after', async () => {
    await assertWithSeed(
      'latestEvent over many events',
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('progress', 'log', 'step'), fc.integer()), {
          minLength: 1,
          maxLength: 400,
          size: 'max',
        }),
        async (emits) => {
          const sup = createTaskSupervisor();
          const g = gate();
          const id = await sup.spawn(opts(), async (ctx) => {
            for (const [type, n] of emits) ctx.emit(type, { n });
            await g.promise;
            return null;
          });
          const expected = new Map<string, number>();
          for (const [type, n] of emits) expected.set(type, n);
          const check = () => {
            const [lastType, lastN] = emits[emits.length - 1]!;
            expect(sup.latestEvent(id)).toEqual({
              kind: 'custom',
              task_id: id,
              event_type: lastType,
              payload: { n: lastN },
            });
            for (const type of ['progress', 'log', 'step'])
              expect(sup.latestEvent(id, type)?.payload).toEqual(
                expected.has(type) ? { n: expected.get(type) } : undefined,
              );
          };
          check();
          g.open();
          await sup.wait(id);
          check();
          await sup.stop();
        },
      ),
      runsFor(60),
    );
  });

  it('interleaved event types: each type keeps its own latest, whatever came after it', async () => {
    const sup = createTaskSupervisor();
    const id = await sup.spawn(opts(), (ctx) => {
      for (const [type, payload] of [
        ['progress', 10],
        ['log', 'a'],
        ['progress', 40],
        ['log', 'b'],
        ['log', 'c'],
        ['done_soon', true],
      ] as const)
        ctx.emit(type, payload);
      return null;
    });
    await sup.wait(id);
    expect(sup.latestEvent(id, 'progress')?.payload).toBe(40);
    expect(sup.latestEvent(id, 'log')?.payload).toBe('c');
    expect(sup.latestEvent(id, 'done_soon')?.payload).toBe(true);
    expect(sup.latestEvent(id)?.event_type).toBe('done_soon');
    await sup.stop();
  });
});
