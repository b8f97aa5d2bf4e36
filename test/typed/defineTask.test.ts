import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createInbox, createTaskSupervisor, defineTask, TaskResult } from '../../src/index.js';
import type { TaskEvent, TaskSupervisor } from '../../src/index.js';
import { gate } from '../helpers/async.js';

interface CrawlInput {
  url: string;
}
const opts = { threadId: 't', description: 'crawl' };

function setup(): { sup: TaskSupervisor; events: () => TaskEvent[] } {
  const inbox = createInbox();
  const sup = createTaskSupervisor({ ownerInbox: inbox.sender, cancelGraceMs: 1_000 });
  return { sup, events: () => inbox.receiver.drain() as TaskEvent[] };
}

const crawl = defineTask({
  taskType: 'crawl',
  input: z.object({ url: z.string().url() }),
  events: { page: z.object({ n: z.number().int() }), log: (v: unknown) => String(v) },
  result: z.object({ pages: z.number() }),
  run: async (ctx, input: CrawlInput) => {
    ctx.emit('page', { n: 1 });
    ctx.emit('log', `fetched ${input.url}`);
    return { pages: 1 };
  },
});

describe('typed tasks at run time', () => {
  it('spawn checks the input, the body gets it, emits and the result are typed and land as usual', async () => {
    const { sup, events } = setup();
    const id = await crawl.spawn(sup, opts, { url: 'https://example.com' });
    const s = await crawl.wait(sup, id);
    expect(s).toMatchObject({ task_id: id, task_type: 'crawl', status: 'completed', result: { pages: 1 } });
    expect(crawl.get(sup, id)).toBe(sup.get(id));
    const got = events();
    expect(got).toEqual([
      { kind: 'custom', task_id: id, event_type: 'page', payload: { n: 1 } },
      { kind: 'custom', task_id: id, event_type: 'log', payload: 'fetched https://example.com' },
      { kind: 'completed', task_id: id, result: { pages: 1 } },
    ]);
    expect(got.map((e) => crawl.match(sup, e))).toEqual(got);
    await sup.stop();
  });

  it('a bad input rejects the spawn with a TypeError naming the task type; nothing is spawned', async () => {
    const { sup } = setup();
    await expect(crawl.spawn(sup, opts, { url: 'not a url' } as CrawlInput)).rejects.toThrow(
      /^Expected `input` to match task type 'crawl', got: url: /,
    );
    await expect(crawl.spawn(sup, opts, undefined as never)).rejects.toBeInstanceOf(TypeError);
    expect(sup.stats().spawned).toBe(0);
    await sup.stop();
  });

  it('an event payload that fails its validator, or an undeclared event type, makes emit throw TypeError', async () => {
    const { sup } = setup();
    const errors: string[] = [];
    const t = defineTask({
      taskType: 'strict',
      events: { page: z.object({ n: z.number() }) },
      run: (ctx) => {
        for (const bad of [
          () => ctx.emit('page', { n: 'one' } as never),
          () => ctx.emit('other' as never, {} as never),
        ]) {
          try {
            bad();
          } catch (e) {
            errors.push(`${(e as Error).name}: ${(e as Error).message}`);
          }
        }
        return null;
      },
    });
    const id = await t.spawn(sup, opts);
    expect((await t.wait(sup, id)).status).toBe('completed');
    expect(errors).toEqual([
      expect.stringMatching(/^TypeError: Expected the 'page' payload to match task type 'strict', got: n: /),
      "TypeError: Expected `eventType` to be one of 'page' (task type 'strict'), got \"other\"",
    ]);
    await sup.stop();
  });

  it('a result that fails its validator fails the task, saying why (data, not a throw)', async () => {
    const { sup } = setup();
    const t = defineTask({
      taskType: 'counted',
      result: z.object({ count: z.number() }),
      run: () => ({ count: 'many' }) as never,
    });
    const id = await t.spawn(sup, opts);
    const s = await t.wait(sup, id);
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/^result does not match task type 'counted': count: /);
    await sup.stop();
  });

  it('a body may still return a TaskResult (failed, cancelled) and observe cancellation', async () => {
    const { sup } = setup();
    const g = gate();
    const t = defineTask({
      taskType: 'waiter',
      run: async (ctx) => {
        g.open();
        await ctx.cancelled();
        return ctx.signal.aborted ? TaskResult.cancelled() : TaskResult.failed('not aborted');
      },
    });
    const id = await t.spawn(sup, { ...opts, timeoutMs: 10_000 });
    await g.promise;
    expect(sup.cancel(id)).toBe(true);
    expect((await t.wait(sup, id)).status).toBe('cancelled');
    await sup.stop();
  });

  it('get/match ignore tasks of another type; wait rejects them with a TypeError', async () => {
    const { sup, events } = setup();
    const plain = await sup.spawn({ ...opts, taskType: 'shell' }, () => 'ok');
    await sup.wait(plain);
    expect(crawl.get(sup, plain)).toBeUndefined();
    for (const e of events()) expect(crawl.match(sup, e)).toBeUndefined();
    await expect(crawl.wait(sup, plain)).rejects.toThrow(
      "Expected task 'bg_0' to be a 'crawl' task, got a 'shell' task",
    );
    await expect(crawl.wait(sup, 'bg_404')).rejects.toBeInstanceOf(TypeError);
    await sup.stop();
  });

  it('function validators and async schemas work; an async event schema is refused clearly', async () => {
    const { sup } = setup();
    const asyncInput = defineTask({
      taskType: 'async-in',
      input: z.string().refine(async (s) => s.length > 1),
      events: { e: z.string().refine(async () => true) },
      run: (ctx, input) => {
        try {
          ctx.emit('e', 'x');
        } catch (err) {
          return (err as Error).message;
        }
        return input;
      },
    });
    await expect(asyncInput.spawn(sup, opts, 'x')).rejects.toThrow(
      /^Expected `input` to match task type 'async-in'/,
    );
    const id = await asyncInput.spawn(sup, opts, 'xy');
    expect((await asyncInput.wait(sup, id)).result).toBe(
      "Expected the 'e' validator of task type 'async-in' to be synchronous, got an async schema",
    );
    const fn = defineTask({
      taskType: 'fn',
      input: (v) => {
        if (typeof v !== 'number') throw new Error('a number, please');
        return v;
      },
      run: (_ctx, n) => n * 2,
    });
    await expect(fn.spawn(sup, opts, 'x' as never)).rejects.toThrow(
      "Expected `input` to match task type 'fn', got: a number, please",
    );
    expect((await fn.wait(sup, await fn.spawn(sup, opts, 21))).result).toBe(42);
    await sup.stop();
  });

  it('events() yields only this type tasks, typed; latest() reads the latest typed progress', async () => {
    const { sup } = setup();
    const g = gate();
    const slow = defineTask({
      taskType: 'slow',
      events: { progress: (v: unknown) => v as { percent: number } },
      run: async (ctx) => {
        ctx.emit('progress', { percent: 50 });
        await g.promise;
        return 'ok';
      },
    });
    const stream = slow.events(sup, { threadId: 't' });
    await sup.spawn({ ...opts, taskType: 'shell' }, (ctx) => {
      ctx.emit('progress', { percent: 1 });
      return null;
    });
    const id = await slow.spawn(sup, opts);
    expect(slow.latest(sup, id, 'progress')?.payload.percent).toBe(50);
    expect(crawl.latest(sup, id, 'page')).toBeUndefined();
    g.open();
    await slow.wait(sup, id);
    const seen: string[] = [];
    for await (const e of stream) {
      seen.push(e.kind === 'custom' ? `${e.event_type}:${e.payload.percent}` : e.kind);
      if (e.kind !== 'custom') break;
    }
    expect(seen).toEqual(['progress:50', 'completed']);
    const plain = await sup.spawn({ ...opts, taskType: 'shell' }, () => null);
    expect(() => slow.events(sup, { taskId: plain })).toThrow(
      `Expected task '${plain}' to be a 'slow' task, got a 'shell' task`,
    );
    await sup.stop();
  });

  it('a bad spec is a TypeError at definition', () => {
    expect(() => defineTask(null as never)).toThrow('Expected `spec` to be an object, got null');
    expect(() => defineTask({ taskType: 1, run: () => null } as never)).toThrow(
      'Expected `spec.taskType` to be a string, got number',
    );
    expect(() => defineTask({ taskType: 'x' } as never)).toThrow(
      'Expected `spec.run` to be a function, got undefined',
    );
    expect(() => defineTask({ taskType: 'x', run: () => null, input: 3 } as never)).toThrow(
      'Expected `spec.input` to be a Standard Schema or a function, got number',
    );
    expect(() => defineTask({ taskType: 'x', run: () => null, events: { a: 'no' } } as never)).toThrow(
      'Expected `spec.events.a` to be a Standard Schema or a function, got string',
    );
  });
});
