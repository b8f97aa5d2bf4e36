import { describe, expect, it } from 'vitest';
import type { TaskContext } from '../../src/index.js';
import { opts, parked, setup } from '../helpers/async.js';

/** Never returns, whatever happens: only the grace timer settles it. */
const deaf = () => new Promise<never>(() => {});

describe('stops that say what stopped', () => {
  it('cancelWithReport({ tree }) sorts reached tasks into settled and forced, and names ids not found', async () => {
    const { sup } = setup({ cancelGraceMs: 50 });
    let child = '';
    let stubborn = '';
    const root = await sup.spawn(opts(), async (ctx: TaskContext) => {
      child = await sup.spawn(opts(), parked);
      stubborn = await sup.spawn(opts(), deaf);
      await ctx.cancelled();
      return 'acknowledged';
    });
    const done = await sup.spawn(opts(), () => 1);
    await sup.wait(done);
    const report = await sup.cancelWithReport({ tree: [root, done, 'bg_404'] });
    expect(report.settled.sort()).toEqual([root, child].sort());
    expect(report.forced).toEqual([stubborn]);
    expect(report.notFound).toEqual([done, 'bg_404']);
    expect(sup.get(stubborn)).toMatchObject({ status: 'cancelled', stop_reason: 'parent' });
    await sup.stop();
  });

  it('cancelWithReport by thread and by run; stopWithReport reports shutdown', async () => {
    const { sup } = setup({ cancelGraceMs: 50 });
    const a = await sup.spawn(opts({ threadId: 'x' }), parked);
    const b = await sup.spawn(opts({ threadId: 'x' }), deaf);
    expect(await sup.cancelWithReport({ threadId: 'x' })).toEqual({
      settled: [a],
      forced: [b],
      notFound: [],
    });
    const r = await sup.spawn(opts({ parentContext: { run_id: 'run-1' } }), parked);
    expect(await sup.cancelWithReport({ runId: 'run-1' })).toEqual({
      settled: [r],
      forced: [],
      notFound: [],
    });
    expect(sup.get(r)?.stop_reason).toBe('run');
    const s1 = await sup.spawn(opts(), parked);
    const s2 = await sup.spawn(opts(), deaf);
    expect(await sup.stopWithReport()).toEqual({ settled: [s1], forced: [s2], notFound: [] });
    expect(sup.get(s2)?.stop_reason).toBe('shutdown');
    await expect(sup.cancelWithReport({} as never)).rejects.toThrow(TypeError);
  });
});
