import { describe, expect, it } from 'vitest';
import { createTaskSupervisor, TaskResult } from '../../src/index.js';
import type { Json } from '../../src/index.js';
import { opts, setup } from '../helpers/async.js';

describe('D. bad bodies (§6.15, §6.29)', () => {
  async function outcome(body: () => unknown): Promise<Record<string, unknown>> {
    const sup = createTaskSupervisor();
    const id = await sup.spawn(opts(), body);
    const s = await sup.wait(id);
    expect(sup.hasRunning('t')).toBe(false);
    await sup.stop();
    return s as unknown as Record<string, unknown>;
  }

  it('§6.15 a body that throws synchronously ends failed with the message', async () => {
    expect(
      await outcome(() => {
        throw new Error('sync boom');
      }),
    ).toMatchObject({ status: 'failed', error: 'sync boom' });
  });

  it('§6.15 a body that rejects ends failed with the message', async () => {
    expect(await outcome(() => Promise.reject(new Error('async boom')))).toMatchObject({
      status: 'failed',
      error: 'async boom',
    });
  });

  it('§6.15 a body that throws a string ends failed with that string', async () => {
    expect(
      await outcome(() => {
        throw 'plain string';
      }),
    ).toMatchObject({ status: 'failed', error: 'plain string' });
  });

  it('§6.15 a body that throws after cancellation ends cancelled', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), async (ctx) => {
      await ctx.cancelled();
      ctx.signal.throwIfAborted();
    });
    sup.cancel(id);
    expect((await sup.wait(id)).status).toBe('cancelled');
    expect(events()).toEqual([{ kind: 'cancelled', task_id: id }]);
    await sup.stop();
  });

  it('§6.15 TaskResult.failed after cancellation ends failed', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), async (ctx) => {
      await ctx.cancelled();
      return TaskResult.failed('cleanup failed');
    });
    sup.cancel(id);
    expect(await sup.wait(id)).toMatchObject({ status: 'failed', error: 'cleanup failed' });
    await sup.stop();
  });

  it('§6.29 a body returning a BigInt ends failed with a clear message', async () => {
    const s = await outcome(() => ({ n: 10n }));
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/BigInt/);
    expect(s).not.toHaveProperty('result');
  });

  it('§6.29 a body returning a cycle ends failed with a clear message', async () => {
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    const s = await outcome(async () => cyc);
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/cycle/);
  });

  it('§6.29 a body returning a function ends failed with a clear message', async () => {
    const s = await outcome(() => () => 1);
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/function/);
  });

  it('§6.29 TaskResult.success with a non-JSON value ends failed', async () => {
    const s = await outcome(() => TaskResult.success({ n: 1n } as unknown as Json));
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/BigInt/);
  });

  it('§6.29 undefined object members are dropped as JSON does', async () => {
    expect((await outcome(() => ({ a: 1, b: undefined }))).result).toEqual({ a: 1 });
  });

  it('pinned: an unbranded object shaped like a TaskResult is success(value)', async () => {
    expect(await outcome(() => ({ status: 'failed', error: 'x' }))).toMatchObject({
      status: 'completed',
      result: { status: 'failed', error: 'x' },
    });
    expect(await outcome(() => ({ status: 'cancelled' }))).toMatchObject({
      status: 'completed',
      result: { status: 'cancelled' },
    });
  });

  it('pinned: a body that is not a function is a TypeError and consumes nothing', async () => {
    const sup = createTaskSupervisor();
    await expect(sup.spawn(opts(), 'nope' as never)).rejects.toThrow(TypeError);
    expect(await sup.spawn(opts(), () => 1)).toBe('bg_0');
    await sup.stop();
  });
});
