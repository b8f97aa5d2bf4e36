import { describe, expect, it } from 'vitest';
import {
  createTaskSupervisor,
  MemoryTaskStore,
  parsePersistedTaskMeta,
  type TaskContext,
  TaskResult,
} from '../../src/index.js';
import { gate, opts, parked, setup, until } from '../helpers/async.js';

describe('usage and budgets', () => {
  it('reportUsage sums per task (summary usage, snake_case) and rolls up per tree and per thread', async () => {
    const { sup } = setup();
    const childDone = gate<string>();
    let childId = '';
    const parent = await sup.spawn(opts(), async (ctx: TaskContext) => {
      ctx.reportUsage({ tokens: 100, costUsd: 0.5 });
      childId = await sup.spawn(opts({ threadId: 'other' }), async (c: TaskContext) => {
        c.reportUsage({ tokens: 10, toolCalls: 2 });
        c.reportUsage({ tokens: 5 });
        return 'child';
      });
      await sup.wait(childId);
      ctx.reportUsage({ toolCalls: 1 });
      return childDone.promise;
    });
    await until(() => sup.usageOf({ taskId: parent }).tool_calls === 1);
    expect(sup.get(parent)?.usage).toEqual({ tokens: 100, cost_usd: 0.5, tool_calls: 1 });
    expect(sup.get(childId)?.usage).toEqual({ tokens: 15, tool_calls: 2 });
    expect(sup.usageOf({ taskId: parent, tree: true })).toEqual({
      tokens: 115,
      cost_usd: 0.5,
      tool_calls: 3,
    });
    expect(sup.usageOf({ threadId: 't' })).toEqual({ tokens: 100, cost_usd: 0.5, tool_calls: 1 });
    expect(sup.usageOf({ threadId: 'other' })).toEqual({ tokens: 15, tool_calls: 2 });
    expect(sup.usageOf({ taskId: 'bg_404' })).toEqual({});
    childDone.open('ok');
    expect((await sup.wait(parent)).usage).toEqual({ tokens: 100, cost_usd: 0.5, tool_calls: 1 });
    await sup.stop();
  });

  it('a budget is on the summary; reaching it exactly is within it; exceeding it cancels the task and its subtree (stop_reason budget / parent)', async () => {
    const { sup } = setup();
    const step = gate();
    let child = '';
    const id = await sup.spawn(opts({ budget: { tokens: 100 } }), async (ctx: TaskContext) => {
      child = await sup.spawn(opts(), parked);
      ctx.reportUsage({ tokens: 100 });
      await step.promise;
      if (ctx.isCancelled()) return TaskResult.cancelled();
      ctx.reportUsage({ tokens: 1 });
      await ctx.cancelled();
      return TaskResult.cancelled();
    });
    await until(() => sup.get(id)?.usage?.tokens === 100);
    expect(sup.get(id)?.budget).toEqual({ tokens: 100 });
    expect(sup.taskActor(id)?.getSnapshot().value).toEqual({ running: 'active' });
    step.open();
    const summary = await sup.wait(id);
    expect(summary).toMatchObject({ status: 'cancelled', stop_reason: 'budget', usage: { tokens: 101 } });
    expect(await sup.wait(child)).toMatchObject({ status: 'cancelled', stop_reason: 'parent' });
    await sup.stop();
  });

  it("a descendant's usage counts against an ancestor's budget; a per-type budget applies when the spawn has none", async () => {
    const { sup } = setup({ budgetPerType: { agentish: { costUsd: 1 } } });
    let grandchild = '';
    const root = await sup.spawn(opts({ taskType: 'agentish' }), async (ctx: TaskContext) => {
      await sup.spawn(opts(), async () => {
        grandchild = await sup.spawn(opts(), async (g: TaskContext) => {
          g.reportUsage({ costUsd: 0.75 });
          g.reportUsage({ costUsd: 0.5 });
          await g.cancelled();
          return TaskResult.cancelled();
        });
        return 'middle done';
      });
      await ctx.cancelled();
      return TaskResult.cancelled();
    });
    expect(sup.get(root)?.budget).toEqual({ cost_usd: 1 });
    expect(await sup.wait(root)).toMatchObject({ status: 'cancelled', stop_reason: 'budget' });
    await until(() => grandchild !== '');
    expect(await sup.wait(grandchild)).toMatchObject({ status: 'cancelled', stop_reason: 'parent' });
    expect(sup.usageOf({ taskId: root, tree: true })).toEqual({ cost_usd: 1.25 });
    await sup.stop();
  });

  it('bad usage and bad budgets are TypeErrors (a bad budget refuses the spawn, consuming no id)', async () => {
    const { sup } = setup();
    const errors: string[] = [];
    const id = await sup.spawn(opts(), (ctx: TaskContext) => {
      for (const bad of [null, { tokens: -1 }, { costUsd: Number.NaN }, { toolCalls: '1' }, [1]]) {
        try {
          ctx.reportUsage(bad as never);
        } catch (e) {
          errors.push((e as Error).name);
        }
      }
      return 'ok';
    });
    await sup.wait(id);
    expect(errors).toEqual(['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError']);
    await expect(sup.spawn(opts({ budget: { tokens: -5 } }), () => 1)).rejects.toThrow(TypeError);
    expect(await sup.spawn(opts(), () => 1)).toBe('bg_1');
    await sup.stop();
  });
});

describe('usage, budget and stop reason are kept in the record', () => {
  it('a restarted supervisor reads them back from the store', async () => {
    const store = new MemoryTaskStore();
    const first = createTaskSupervisor({ store });
    const id = await first.spawn(opts({ budget: { tokens: 5, costUsd: 1 } }), async (ctx: TaskContext) => {
      ctx.reportUsage({ tokens: 6, toolCalls: 1 });
      await ctx.cancelled();
      return TaskResult.cancelled();
    });
    expect(await first.wait(id)).toMatchObject({ stop_reason: 'budget' });
    await first.stop();
    const second = createTaskSupervisor({ store });
    await second.loadThread('t');
    expect(second.get(id)).toMatchObject({
      status: 'cancelled',
      stop_reason: 'budget',
      usage: { tokens: 6, tool_calls: 1 },
      budget: { tokens: 5, cost_usd: 1 },
    });
    expect(second.usageOf({ threadId: 't' })).toEqual({ tokens: 6, tool_calls: 1 });
    expect(second.usageOf({ taskId: id, tree: true })).toEqual({ tokens: 6, tool_calls: 1 });
    expect(parsePersistedTaskMeta(JSON.parse(JSON.stringify(second.persistedSnapshot()[id])))).toMatchObject({
      usage: { tokens: 6, tool_calls: 1 },
    });
    expect(() =>
      parsePersistedTaskMeta({ ...second.persistedSnapshot()[id], usage: { tokens: -1 } }),
    ).toThrow(TypeError);
    await second.stop();
  });
});
