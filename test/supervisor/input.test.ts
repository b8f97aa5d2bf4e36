import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  createTaskSupervisor,
  INPUT_REQUIRED_EVENT,
  InputError,
  type Json,
  type TaskContext,
  type TaskSupervisor,
} from '../../src/index.js';
import { type Gate, gate, opts, setup, until } from '../helpers/async.js';

/**
 * Two tasks spawned on a supervisor of one slot: `other` (which takes the slot once free, and holds
 * it until `hold` opens), then `third` (queued behind it). Each records its start in `started`.
 */
async function otherAndThird(sup: TaskSupervisor, started: string[], hold: Gate<string>) {
  const other = await sup.spawn(opts(), async () => {
    started.push('other');
    return hold.promise;
  });
  const third = await sup.spawn(opts(), async () => {
    started.push('third');
    return 3;
  });
  return { other, third };
}

describe('waiting for input: ctx.requestInput and supervisor.provideInput', () => {
  it('the task waits (running.waiting, phase waiting, input_request), the owner sees input_required, the answer resumes it once', async () => {
    const { sup, events } = setup();
    const seen: Json[] = [];
    const id = await sup.spawn(opts(), async (ctx) => {
      const answer = await ctx.requestInput({ question: 'deploy?' });
      seen.push(answer);
      return { answer };
    });
    await until(() => sup.get(id)?.phase === 'waiting');
    expect(sup.get(id)).toMatchObject({
      status: 'running',
      phase: 'waiting',
      input_request: { question: 'deploy?' },
    });
    expect(sup.taskActor(id)?.getSnapshot().value).toEqual({ running: 'waiting' });
    expect(events()).toEqual([
      {
        kind: 'custom',
        task_id: id,
        event_type: INPUT_REQUIRED_EVENT,
        payload: { request: { question: 'deploy?' } },
      },
    ]);
    expect(sup.provideInput(id, 'yes')).toBe(true);
    expect(sup.provideInput(id, 'no')).toBe(false);
    const summary = await sup.wait(id);
    expect(summary.result).toEqual({ answer: 'yes' });
    expect(summary).not.toHaveProperty('phase');
    expect(summary).not.toHaveProperty('input_request');
    expect(seen).toEqual(['yes']);
    expect(sup.provideInput(id, 'late')).toBe(false);
    expect(sup.provideInput('bg_404', 'x')).toBe(false);
    await sup.stop();
  });

  it('the answer is validated: a non-JSON answer is a TypeError, a refused one an InputError, and the task keeps waiting', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), (ctx) =>
      ctx.requestInput({ choose: ['a', 'b'] }, { validate: (r) => r === 'a' || r === 'b' }),
    );
    await until(() => sup.get(id)?.phase === 'waiting');
    expect(() => sup.provideInput(id, (() => 1) as never)).toThrow(TypeError);
    const err = (() => {
      try {
        sup.provideInput(id, 'c');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('invalid_response');
    expect(sup.get(id)?.phase).toBe('waiting');
    expect(sup.provideInput(id, 'b')).toBe(true);
    expect((await sup.wait(id)).result).toBe('b');
    await sup.stop();
  });

  it('cancel works while waiting: requestInput rejects with the AbortError, stop_reason user', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), async (ctx) => ctx.requestInput('q'));
    await until(() => sup.get(id)?.phase === 'waiting');
    expect(sup.cancel(id)).toBe(true);
    const summary = await sup.wait(id);
    expect(summary).toMatchObject({ status: 'cancelled', stop_reason: 'user' });
    expect(summary).not.toHaveProperty('phase');
    expect(sup.provideInput(id, 'x')).toBe(false);
    await sup.stop();
  });

  it('a task cancelled while waiting winds down without taking a slot back: the queue goes on meanwhile', async () => {
    const { sup } = setup({ concurrency: { global: 1 } });
    const started: string[] = [];
    const cleanup = gate();
    const hold = gate<string>();
    const asker = await sup.spawn(opts(), async (ctx) => {
      try {
        return await ctx.requestInput('q');
      } catch (e) {
        // Winding down after the cancel: slow cleanup, holding no slot.
        started.push('asker cleaning up');
        await cleanup.promise;
        throw e;
      }
    });
    await until(() => sup.get(asker)?.phase === 'waiting');
    const { other, third } = await otherAndThird(sup, started, hold);
    expect(sup.get(third)?.phase).toBe('queued');
    expect(sup.cancel(asker)).toBe(true);
    await until(() => started.includes('asker cleaning up'), 10_000, 'the asker to wind down');
    // The winding-down asker took no slot: other still runs, third still waits for other's slot.
    expect(sup.get(other)?.status).toBe('running');
    expect(sup.get(third)?.phase).toBe('queued');
    hold.open('done');
    // other's slot goes to third while the asker is still winding down.
    expect((await sup.wait(third)).status).toBe('completed');
    expect(sup.get(asker)?.status).toBe('running');
    cleanup.open();
    expect(await sup.wait(asker)).toMatchObject({ status: 'cancelled', stop_reason: 'user' });
    expect(started).toEqual(['other', 'asker cleaning up', 'third']);
    await sup.stop();
  });

  it('a waiting task frees its slot; once answered it goes on when a slot frees, before queued tasks', async () => {
    const { sup } = setup({ concurrency: { global: 1 } });
    const started: string[] = [];
    const hold = gate<string>();
    const asker = await sup.spawn(opts(), async (ctx) => {
      started.push('asker');
      const a = await ctx.requestInput('q');
      started.push(`asker resumed with ${String(a)}`);
      return a;
    });
    await until(() => sup.get(asker)?.phase === 'waiting');
    const { other, third } = await otherAndThird(sup, started, hold);
    expect(started).toEqual(['asker', 'other']);
    expect(sup.get(third)?.phase).toBe('queued');
    expect(sup.provideInput(asker, 'go')).toBe(true);
    // No slot: the answer waits with the task, which stays waiting.
    expect(sup.get(asker)?.phase).toBe('waiting');
    hold.open('done');
    await sup.wait(other);
    expect((await sup.wait(asker)).result).toBe('go');
    await sup.wait(third);
    expect(started).toEqual(['asker', 'other', 'asker resumed with go', 'third']);
    await sup.stop();
  });

  it('the deadline is paused while waiting: only active time counts', async () => {
    const clock = new SimulatedClock();
    const sup = createTaskSupervisor({ clock, now: () => clock.now(), cancelGraceMs: 0 });
    const ask = gate();
    const id = await sup.spawn(opts({ timeoutMs: 100 }), async (ctx: TaskContext) => {
      await ask.promise;
      await ctx.requestInput('q');
      await ctx.cancelled();
      return 'stopped';
    });
    clock.increment(60);
    ask.open();
    await until(() => sup.get(id)?.phase === 'waiting');
    clock.increment(10_000);
    expect(sup.get(id)?.phase).toBe('waiting');
    sup.provideInput(id, 'a');
    await until(
      () => sup.taskActor(id)?.getSnapshot().value !== undefined && sup.get(id)?.phase === undefined,
    );
    clock.increment(39);
    expect(sup.taskActor(id)?.getSnapshot().value).toEqual({ running: 'active' });
    clock.increment(1);
    expect(sup.taskActor(id)?.getSnapshot().value ?? 'ended').not.toEqual({ running: 'active' });
    await sup.wait(id);
    await sup.stop();
  });

  it('requestInput after cancellation rejects at once; a non-JSON request throws TypeError', async () => {
    const { sup } = setup();
    const out: string[] = [];
    const id = await sup.spawn(opts(), async (ctx) => {
      expect(() => ctx.requestInput((() => 1) as never)).toThrow(TypeError);
      await ctx.cancelled();
      await ctx.requestInput('q').catch((e: DOMException) => out.push(e.name));
      return 'x';
    });
    sup.cancel(id);
    await sup.wait(id);
    expect(out).toEqual(['AbortError']);
    await sup.stop();
  });

  it('a sub-agent can ask too', async () => {
    const { sup } = setup();
    const id = await sup.spawnAgent({ threadId: 't', description: 'agent' }, (ctx) =>
      ctx.requestInput('ok?'),
    );
    await until(() => sup.get(id)?.phase === 'waiting');
    sup.provideInput(id, true);
    expect((await sup.wait(id)).result).toBe(true);
    await sup.stop();
  });
});
