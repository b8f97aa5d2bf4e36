import { describe, expect, it } from 'vitest';
import { SpawnError, type TaskContext, type TaskSupervisor } from '../../src/index.js';
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

  it('cancelWithReport reaches exactly what cancelTree, cancelAll and cancelDescendantsForRun reach: same tasks, reasons and run fence', async () => {
    /** Two runs in thread x, a subtree crossing into thread y, and a bystander in y. */
    const shape = async (sup: TaskSupervisor) => {
      const root = await sup.spawn(opts({ threadId: 'x', parentContext: { run_id: 'r1' } }), parked);
      const child = await sup.spawn(opts({ threadId: 'x', parentContext: { task_id: root } }), parked);
      const cross = await sup.spawn(opts({ threadId: 'y', parentContext: { task_id: child } }), parked);
      const other = await sup.spawn(opts({ threadId: 'x', parentContext: { run_id: 'r2' } }), parked);
      const bystander = await sup.spawn(opts({ threadId: 'y' }), parked);
      return [root, child, cross, other, bystander];
    };
    const ends = (sup: TaskSupervisor, ids: string[]) =>
      ids.map((id) => {
        const s = sup.get(id)!;
        return s.status === 'running' ? 'running' : `${s.status}/${s.stop_reason}`;
      });
    const cases = [
      [
        (sup: TaskSupervisor, ids: string[]) => sup.cancelTree(ids[1]!),
        (ids: string[]) => ({ tree: ids[1]! }),
      ],
      [(sup: TaskSupervisor) => sup.cancelAll('x'), () => ({ threadId: 'x' })],
      [(sup: TaskSupervisor) => sup.cancelDescendantsForRun(' r1 '), () => ({ runId: ' r1 ' })],
    ] as const;
    for (const [method, target] of cases) {
      const plain = setup({ cancelGraceMs: 50 }).sup;
      const reported = setup({ cancelGraceMs: 50 }).sup;
      const a = await shape(plain);
      const b = await shape(reported);
      const count = method(plain, a);
      const report = await reported.cancelWithReport(target(b));
      await Promise.all(a.map((id) => (plain.get(id)!.status === 'running' ? undefined : plain.wait(id))));
      expect(report.settled.length + report.forced.length).toBe(count);
      expect(ends(reported, b)).toEqual(ends(plain, a));
      for (const sup of [plain, reported]) {
        const spawn = sup.spawn(opts({ threadId: 'x', parentContext: { run_id: 'r1' } }), parked);
        if ('runId' in target(b)) await expect(spawn).rejects.toBeInstanceOf(SpawnError);
        else await spawn;
        sup.cancelAll('x');
        sup.cancelAll('y');
        await sup.stop();
      }
    }
  });
});
