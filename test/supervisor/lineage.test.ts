import { describe, expect, it } from 'vitest';
import {
  createTaskSupervisor,
  currentTaskId,
  SpawnError,
  TaskResult,
  withToolLineage,
} from '../../src/index.js';
import { FlakyStore, gate, opts, parked, setup, tick } from '../helpers/async.js';

describe('G. parent-context lineage', () => {
  it('G1 an explicit parent context is kept in get, list and the persisted record', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const pc = { run_id: 'run-abc', call_id: 'call-xyz', agent_id: 'agent-007' };
    const id = await sup.spawn({ ...opts(), threadId: 'thread-1', parentContext: pc }, () =>
      TaskResult.success(),
    );
    await sup.wait(id);
    expect(sup.get(id)?.parent_context).toEqual(pc);
    expect(sup.list('thread-1')[0]?.parent_context).toEqual(pc);
    expect(sup.persistedSnapshot()[id]?.parent_context).toEqual(pc);
    await sup.stop();
    expect((await store.record(id))?.parent_context).toEqual(pc);
  });

  it('G1 an empty parent context is omitted from the summary and {} in the record', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts({ parentContext: {} }), parked);
    expect(sup.get(id)).not.toHaveProperty('parent_context');
    expect(sup.persistedSnapshot()[id]?.parent_context).toEqual({});
    await sup.stop();
  });

  it('G2 ambient tool lineage fills an empty explicit context', async () => {
    const { sup } = setup();
    const lineage = { run_id: 'run-ambient', call_id: 'call-ambient', agent_id: 'agent-ambient' };
    const id = await withToolLineage(lineage, () => sup.spawn(opts({ parentContext: {} }), parked));
    expect(sup.get(id)?.parent_context).toEqual(lineage);
    await sup.stop();
  });

  it('G3 a tool executed inside a lineage scope spawns with that lineage, across await', async () => {
    const { sup } = setup();
    const tool = async () => {
      await tick();
      return sup.spawn(opts(), parked);
    };
    const id = await withToolLineage({ run_id: 'run-77', call_id: 'call-77', agent_id: 'agent-77' }, tool);
    expect(sup.get(id)?.parent_context).toEqual({
      run_id: 'run-77',
      call_id: 'call-77',
      agent_id: 'agent-77',
    });
    await sup.stop();
  });

  it('G4 a body spawning with an empty context links the child to the enclosing task', async () => {
    const { sup } = setup();
    const kid = gate<string>();
    const parent = await sup.spawn(opts(), async (ctx) => {
      await tick();
      kid.open(await sup.spawn(opts({ parentContext: {} }), parked));
      return parked(ctx);
    });
    expect(sup.get(await kid.promise)?.parent_context).toEqual({ task_id: parent });
    await sup.stop();
  });

  it('G5 a sub-agent body runs with the ambient task id', async () => {
    const { sup } = setup();
    const seen = gate<string | undefined>();
    const id = await sup.spawnAgent({ threadId: 't', description: 'a' }, async () => {
      await tick();
      seen.open(currentTaskId());
    });
    expect(await seen.promise).toBe(id);
    await sup.stop();
  });

  it('G6 explicit fields win over ambient task and lineage', async () => {
    const { sup } = setup();
    const kid = gate<string>();
    await sup.spawn(opts(), async (ctx) => {
      kid.open(
        await withToolLineage({ run_id: 'amb-run', call_id: 'amb-call', agent_id: 'amb-agent' }, () =>
          sup.spawn(
            opts({ parentContext: { task_id: 'explicit', run_id: 'r', call_id: 'c', agent_id: 'a' } }),
            parked,
          ),
        ),
      );
      return parked(ctx);
    });
    expect(sup.get(await kid.promise)?.parent_context).toEqual({
      task_id: 'explicit',
      run_id: 'r',
      call_id: 'c',
      agent_id: 'a',
    });
    await sup.stop();
  });

  it('G6 ambient run_id fills even when empty; empty call_id/agent_id do not', async () => {
    const { sup } = setup();
    const id = await withToolLineage({ run_id: '', call_id: '', agent_id: '' }, () =>
      sup.spawn(opts(), parked),
    );
    expect(sup.get(id)?.parent_context).toEqual({ run_id: '' });
    const id2 = await withToolLineage({ call_id: 'c' }, () =>
      sup.spawn(opts({ parentContext: { run_id: 'x' } }), parked),
    );
    expect(sup.get(id2)?.parent_context).toEqual({ run_id: 'x', call_id: 'c' });
    await sup.stop();
  });

  it('G6 ambient task and tool lineage combine', async () => {
    const { sup } = setup();
    const kid = gate<string>();
    const parent = await sup.spawn(opts(), async (ctx) => {
      kid.open(
        await withToolLineage({ run_id: 'run-in', call_id: 'call-in' }, () => sup.spawn(opts(), parked)),
      );
      return parked(ctx);
    });
    expect(sup.get(await kid.promise)?.parent_context).toEqual({
      task_id: parent,
      run_id: 'run-in',
      call_id: 'call-in',
    });
    await sup.stop();
  });

  it('G6 the ambient task id crosses supervisors', async () => {
    const outer = createTaskSupervisor();
    const inner = createTaskSupervisor();
    const kid = gate<string>();
    const parent = await outer.spawn(opts(), async (ctx) => {
      kid.open(await inner.spawn(opts(), parked));
      return parked(ctx);
    });
    const child = await kid.promise;
    // bg_0 in both supervisors: the link names the outer task, which the inner one does not hold.
    expect(inner.get(child)?.parent_context).toEqual({ task_id: parent });
    await Promise.all([outer.stop(), inner.stop()]);
  });

  it('S2 a nested spawn records the enclosing task run_id as well as its task_id, at every depth and in the store', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const grandchild = gate<string>();
    let child = '';
    const root = await sup.spawn(
      opts({ parentContext: { run_id: 'run-1', call_id: 'call-1' } }),
      async (ctx) => {
        child = await sup.spawn(opts({ parentContext: {} }), async (inner) => {
          grandchild.open(await sup.spawn(opts(), parked));
          return parked(inner);
        });
        return parked(ctx);
      },
    );
    const leaf = await grandchild.promise;
    // Only run_id is inherited: call_id and agent_id name the tool call that spawned the root.
    expect(sup.get(child)?.parent_context).toEqual({ task_id: root, run_id: 'run-1' });
    expect(sup.get(leaf)?.parent_context).toEqual({ task_id: child, run_id: 'run-1' });
    // spawn resolves once the running record is durable.
    expect((await store.record(leaf))?.parent_context).toEqual({ task_id: child, run_id: 'run-1' });
    await sup.stop();
  });

  it('S2 the enclosing task run_id comes before tool lineage; an explicit run_id wins; an explicit task_id skips the ambient task', async () => {
    const { sup } = setup();
    const kids = gate<string[]>();
    const root = await sup.spawn(opts({ parentContext: { run_id: 'run-outer' } }), async (ctx) => {
      const lineage = { run_id: 'run-inner', call_id: 'call-inner' };
      kids.open([
        await withToolLineage(lineage, () => sup.spawn(opts(), parked)),
        await sup.spawn(opts({ parentContext: { run_id: 'run-explicit' } }), parked),
        await withToolLineage(lineage, () =>
          sup.spawn(opts({ parentContext: { task_id: 'other' } }), parked),
        ),
        await sup.spawn(opts({ parentContext: { task_id: 'other' } }), parked),
      ]);
      return parked(ctx);
    });
    const [viaLineage, explicitRun, explicitParent, bare] = await kids.promise;
    expect(sup.get(viaLineage!)?.parent_context).toEqual({
      task_id: root,
      run_id: 'run-outer',
      call_id: 'call-inner',
    });
    expect(sup.get(explicitRun!)?.parent_context).toEqual({ task_id: root, run_id: 'run-explicit' });
    expect(sup.get(explicitParent!)?.parent_context).toEqual({
      task_id: 'other',
      run_id: 'run-inner',
      call_id: 'call-inner',
    });
    expect(sup.get(bare!)?.parent_context).toEqual({ task_id: 'other' });
    await sup.stop();
  });

  it('S2 a task without a run_id passes none on; tool lineage inside its body still fills it', async () => {
    const { sup } = setup();
    const kids = gate<string[]>();
    const root = await sup.spawn(opts(), async (ctx) => {
      kids.open([
        await sup.spawn(opts(), parked),
        await withToolLineage({ run_id: 'run-in' }, () => sup.spawn(opts(), parked)),
      ]);
      return parked(ctx);
    });
    const [plain, viaLineage] = await kids.promise;
    expect(sup.get(plain!)?.parent_context).toEqual({ task_id: root });
    expect(sup.get(viaLineage!)?.parent_context).toEqual({ task_id: root, run_id: 'run-in' });
    await sup.stop();
  });

  it('S2 the enclosing task run crosses supervisors with its id (read from the body scope, not looked up by id)', async () => {
    const outer = createTaskSupervisor();
    const inner = createTaskSupervisor();
    // inner's own bg_0 has another run: a lookup of the ambient id in inner would pick it.
    await inner.spawn(opts({ parentContext: { run_id: 'run-inner' } }), parked);
    const kid = gate<string>();
    const parent = await outer.spawn(opts({ parentContext: { run_id: 'run-outer' } }), async (ctx) => {
      kid.open(await inner.spawn(opts(), parked));
      return parked(ctx);
    });
    expect(parent).toBe('bg_0');
    expect(inner.get(await kid.promise)?.parent_context).toEqual({ task_id: parent, run_id: 'run-outer' });
    await Promise.all([outer.stop(), inner.stop()]);
  });

  it('pinned: a parent task id the supervisor does not know is allowed', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts({ parentContext: { task_id: 'bg_in_another_process' } }), parked);
    expect(sup.get(id)?.parent_context).toEqual({ task_id: 'bg_in_another_process' });
    await sup.stop();
  });
});

describe('parent_cancelled fence', () => {
  async function refused(p: Promise<unknown>): Promise<SpawnError> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(SpawnError);
    expect((e as SpawnError).code).toBe('parent_cancelled');
    return e as SpawnError;
  }

  it('a completed, failed or cancelled parent refuses children, consuming no id', async () => {
    const { sup } = setup();
    const c = await sup.spawn(opts(), () => 1);
    const f = await sup.spawn(opts(), () => TaskResult.failed('x'));
    const k = await sup.spawn(opts(), parked);
    sup.cancel(k);
    await Promise.all([c, f, k].map((id) => sup.wait(id)));
    for (const [id, state] of [
      [c, 'completed'],
      [f, 'failed'],
      [k, 'cancelled'],
    ] as const) {
      const e = await refused(sup.spawn(opts({ parentContext: { task_id: id } }), parked));
      expect(e.message).toBe(`parent task '${id}' is ${state}`);
    }
    expect(await sup.spawn(opts(), parked)).toBe('bg_3');
    await sup.stop();
  });

  it('a cancelling parent refuses children, also when the body spawns after its cancel', async () => {
    const { sup } = setup();
    const attempt = gate<unknown>();
    const parent = await sup.spawn(opts(), async (ctx) => {
      await ctx.cancelled();
      attempt.open(await sup.spawn(opts(), parked).catch((e: unknown) => e));
      return TaskResult.cancelled();
    });
    sup.cancel(parent);
    const e = (await attempt.promise) as SpawnError;
    expect(e).toBeInstanceOf(SpawnError);
    expect(e.code).toBe('parent_cancelled');
    expect(e.message).toBe(`parent task '${parent}' is cancelling`);
    await sup.stop();
  });

  it('run fence: after cancelDescendantsForRun a spawn in that run fails, explicit or ambient', async () => {
    const { sup } = setup();
    await sup.spawn(opts({ parentContext: { run_id: 'run-1' } }), parked);
    sup.cancelDescendantsForRun('run-1');
    const e = await refused(sup.spawn(opts({ parentContext: { run_id: 'run-1' } }), parked));
    expect(e.message).toBe("run 'run-1' is cancelled");
    await refused(withToolLineage({ run_id: 'run-1' }, () => sup.spawn(opts(), parked)));
    await refused(
      sup.spawnAgent({ threadId: 't', description: 'a', parentContext: { run_id: 'run-1' } }, parked),
    );
    // Other runs are unaffected; nothing was consumed.
    expect(await sup.spawn(opts({ parentContext: { run_id: 'run-2' } }), parked)).toBe('bg_1');
    await sup.stop();
  });

  it('run fence: it applies even when the run had no tasks', async () => {
    const { sup } = setup();
    expect(sup.cancelDescendantsForRun('run-empty')).toBe(0);
    await refused(sup.spawn(opts({ parentContext: { run_id: 'run-empty' } }), parked));
    await sup.stop();
  });

  it('run fence: a spawn with a live parent task is judged by that task alone', async () => {
    const { sup } = setup();
    const parent = await sup.spawn(opts(), parked); // no run_id: not a root of run-1
    sup.cancelDescendantsForRun('run-1');
    const id = await sup.spawn(opts({ parentContext: { run_id: 'run-1', task_id: parent } }), parked);
    expect(sup.get(id)?.status).toBe('running');
    await sup.stop();
  });

  it('run fence: it is per supervisor (memory only)', async () => {
    const store = new FlakyStore();
    const a = createTaskSupervisor({ store });
    const b = createTaskSupervisor({ store });
    a.cancelDescendantsForRun('run-1');
    await expect(b.spawn(opts({ parentContext: { run_id: 'run-1' } }), parked)).resolves.toBeDefined();
    await Promise.all([a.stop(), b.stop()]);
  });
});
