import { describe, expect, it } from 'vitest';
import { cancelTaskTool, runAgentLoop, scriptedModel } from '../../src/agent/index.js';
import type { ToolDefinition } from '../../src/agent/index.js';
import { TaskResult } from '../../src/index.js';
import type { TaskSupervisor } from '../../src/index.js';
import { dataOf, parked, freshSupervisors } from './helpers.js';

const { fresh } = freshSupervisors();
const spawnParked = (s: TaskSupervisor, threadId: string, name: string, parentContext = {}) =>
  s.spawn({ threadId, taskType: 'test', description: name, name, parentContext }, parked);
const SELF = { target: { relation: 'self' } };

describe('cancel_task (L)', () => {
  it('L1 accepts a self target', () => {
    expect(cancelTaskTool(fresh()).validate(SELF)).toBeUndefined();
  });

  it('L2 rejects a child target without a name', () => {
    expect(cancelTaskTool(fresh()).validate({ target: { relation: 'child' } })).toBe("child requires 'name'");
  });

  it('L3 self-cancel in Task scope cascades to child and grandchild', async () => {
    const s = fresh();
    const root = await spawnParked(s, 'thread-1', 'root-task');
    const child = await spawnParked(s, 'thread-1', 'child', { task_id: root });
    const grandchild = await spawnParked(s, 'thread-1', 'grandchild', { task_id: child });
    const out = await cancelTaskTool(s, { taskId: root }).execute(SELF, {
      threadId: 'thread-1',
      runId: 'run-1',
      runController: new AbortController(),
    });
    expect(dataOf(out)).toEqual({ status: 'accepted', root_task_id: root, cancelled_count: 3 });
    for (const id of [root, child, grandchild]) {
      expect((await s.wait(id, { timeoutMs: 5_000 })).status).toBe('cancelled');
    }
  });

  it('L4 self-cancel in Run scope cancels the run roots, their trees and the run (+1)', async () => {
    const s = fresh();
    const child = await spawnParked(s, 'thread-1', 'child', { run_id: 'run-1' });
    const grandchild = await spawnParked(s, 'thread-1', 'grandchild', { task_id: child });
    const runController = new AbortController();
    const out = await cancelTaskTool(s).execute(SELF, {
      threadId: 'thread-1',
      runId: 'run-1',
      runController,
    });
    expect(dataOf(out)).toEqual({ status: 'accepted', root_task_id: 'run-1', cancelled_count: 3 });
    expect(runController.signal.aborted).toBe(true);
    expect((await s.wait(child, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect((await s.wait(grandchild, { timeoutMs: 5_000 })).status).toBe('cancelled');
  });

  it('L5 self and child without any scope fail with current_task_unavailable', async () => {
    const tool = cancelTaskTool(fresh());
    const ctx = { threadId: 'thread-1', runId: 'run-1' };
    expect(await tool.execute(SELF, ctx)).toEqual({
      ok: false,
      error: 'Execution failed: current_task_unavailable',
    });
    expect(await tool.execute({ target: { relation: 'child', name: 'x' } }, ctx)).toEqual({
      ok: false,
      error: 'Execution failed: current_task_unavailable',
    });
  });

  it('L6 a sub-agent loop inside a background task self-cancels: run cancelled, root and leaf cancelled', async () => {
    const s = fresh();
    let leaf = '';
    let termination = '';
    const root = await s.spawnAgent(
      { threadId: 'thread-1', name: 'worker', description: 'worker' },
      async (ctx) => {
        leaf = await s.spawn({ threadId: 'thread-1', taskType: 'leaf', description: 'leaf' }, parked);
        const out = await runAgentLoop({
          model: scriptedModel([
            { toolCalls: [{ id: 'c1', name: 'cancel_task', args: SELF }] },
            { text: 'never' },
          ]),
          supervisor: s,
          threadId: `sub-${ctx.taskId}`,
          origin: 'subagent',
          inbox: { sender: ctx.inboxSender, receiver: ctx.inboxReceiver },
          signal: ctx.signal,
        });
        termination = out.termination;
        return out.termination === 'cancelled' ? TaskResult.cancelled() : out.response;
      },
    );
    expect((await s.wait(root, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect((await s.wait(leaf, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect(termination).toBe('cancelled');
  });

  it('L7 a user tool named cancel_task is not replaced by the plugin one', async () => {
    const s = fresh();
    let calls = 0;
    const custom: ToolDefinition = {
      name: 'cancel_task',
      description: 'custom',
      parameters: { type: 'object' },
      validate: () => undefined,
      execute: async () => {
        calls++;
        return { ok: true, data: { custom: true } };
      },
    };
    const id = await s.spawnAgent({ threadId: 'thread-1', description: 'delegate' }, async (ctx) => {
      const out = await runAgentLoop({
        model: scriptedModel([
          { toolCalls: [{ id: 'c1', name: 'cancel_task', args: SELF }] },
          { text: 'ok' },
        ]),
        supervisor: s,
        threadId: `sub-${ctx.taskId}`,
        tools: [custom],
        signal: ctx.signal,
      });
      return out.response;
    });
    const done = await s.wait(id, { timeoutMs: 5_000 });
    expect(done.status).toBe('completed');
    expect(calls).toBe(1);
  });

  it('L8 validation messages, rendered as Invalid arguments by execute', async () => {
    const tool = cancelTaskTool(fresh());
    const cases: Array<[unknown, string]> = [
      [{}, "missing 'target'"],
      [null, "missing 'target'"],
      ['self', "missing 'target'"],
      [[SELF], "missing 'target'"],
      [{ target: null }, "missing 'target.relation'"],
      [{ target: {} }, "missing 'target.relation'"],
      [{ target: { relation: 5 } }, "missing 'target.relation'"],
      [{ target: { relation: 'child', name: 7 } }, "child requires 'name'"],
      [{ target: { relation: 'parent' } }, "unknown relation 'parent'"],
    ];
    for (const [args, msg] of cases) {
      expect(tool.validate(args)).toBe(msg);
      expect(await tool.execute(args, { threadId: 't', currentTaskId: 'bg_0' })).toEqual({
        ok: false,
        error: `Invalid arguments: ${msg}`,
      });
    }
  });

  it('L9 scope: bound task id wins over ctx.currentTaskId, which wins over the ambient task and the run', async () => {
    const s = fresh();
    const a = await spawnParked(s, 'thread-1', 'a');
    const b = await spawnParked(s, 'thread-1', 'b');
    const ctx = {
      threadId: 'thread-1',
      runId: 'run-1',
      currentTaskId: b,
      runController: new AbortController(),
    };
    expect(dataOf(await cancelTaskTool(s, { taskId: a }).execute(SELF, ctx)).root_task_id).toBe(a);
    expect(dataOf(await cancelTaskTool(s).execute(SELF, ctx)).root_task_id).toBe(b);
    // Ambient: inside a task body, currentTaskId() names the task.
    const c = await s.spawn({ threadId: 'thread-1', taskType: 't', description: 'c' }, async (tctx) => {
      const out = await cancelTaskTool(s).execute(SELF, { threadId: 'thread-1' });
      await tctx.cancelled();
      return out.ok ? out.data : out.error;
    });
    expect((await s.wait(c, { timeoutMs: 5_000 })).result).toEqual({
      status: 'accepted',
      root_task_id: c,
      cancelled_count: 1,
    });
  });

  it('L9 Run scope needs a controller and a non-blank run id', async () => {
    const tool = cancelTaskTool(fresh());
    const unavailable = { ok: false, error: 'Execution failed: current_task_unavailable' };
    expect(
      await tool.execute(SELF, { threadId: 't', runId: '  ', runController: new AbortController() }),
    ).toEqual(unavailable);
    expect(await tool.execute(SELF, { threadId: 't', runController: new AbortController() })).toEqual(
      unavailable,
    );
  });

  it('L10 Task-scope self-cancel also aborts the run controller; Run scope with no tasks counts the run (1)', async () => {
    const s = fresh();
    const root = await spawnParked(s, 'thread-1', 'root');
    const runController = new AbortController();
    await cancelTaskTool(s, { taskId: root }).execute(SELF, { threadId: 'thread-1', runController });
    expect(runController.signal.aborted).toBe(true);
    const out = await cancelTaskTool(s).execute(SELF, {
      threadId: 'thread-1',
      runId: 'run-empty',
      runController: new AbortController(),
    });
    expect(dataOf(out)).toEqual({ status: 'accepted', root_task_id: 'run-empty', cancelled_count: 1 });
  });

  it('L11 child in Task scope: by id or by name, direct children only, any owner thread', async () => {
    const s = fresh();
    const root = await spawnParked(s, 'thread-1', 'root');
    const byId = await spawnParked(s, 'thread-1', 'c1', { task_id: root });
    const byName = await spawnParked(s, 'thread-other', 'c2', { task_id: root });
    const grand = await spawnParked(s, 'thread-1', 'g', { task_id: byName });
    const tool = cancelTaskTool(s, { taskId: root });
    const ctx = { threadId: 'thread-1' };
    expect(dataOf(await tool.execute({ target: { relation: 'child', name: byId } }, ctx))).toEqual({
      status: 'accepted',
      root_task_id: byId,
      cancelled_count: 1,
    });
    expect(dataOf(await tool.execute({ target: { relation: 'child', name: 'g' } }, ctx))).toEqual({
      status: 'failed',
      root_task_id: 'g',
      cancelled_count: 0,
      error: 'task_not_found',
    });
    expect(dataOf(await tool.execute({ target: { relation: 'child', name: 'c2' } }, ctx))).toEqual({
      status: 'accepted',
      root_task_id: byName,
      cancelled_count: 2,
    });
    expect((await s.wait(grand, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect(s.get(root)?.status).toBe('running');
  });

  it('L11 child in Run scope: roots of the run owned by the calling thread only', async () => {
    const s = fresh();
    const mine = await spawnParked(s, 'thread-1', 'mine', { run_id: 'run-1' });
    const nested = await spawnParked(s, 'thread-1', 'nested', { run_id: 'run-1', task_id: mine });
    const theirs = await spawnParked(s, 'thread-2', 'theirs', { run_id: 'run-1' });
    const tool = cancelTaskTool(s);
    const ctx = { threadId: 'thread-1', runId: 'run-1', runController: new AbortController() };
    const notFound = (name: string) => ({
      status: 'failed',
      root_task_id: name,
      cancelled_count: 0,
      error: 'task_not_found',
    });
    expect(dataOf(await tool.execute({ target: { relation: 'child', name: 'nested' } }, ctx))).toEqual(
      notFound('nested'),
    );
    expect(dataOf(await tool.execute({ target: { relation: 'child', name: theirs } }, ctx))).toEqual(
      notFound(theirs),
    );
    expect(dataOf(await tool.execute({ target: { relation: 'child', name: 'theirs' } }, ctx))).toEqual(
      notFound('theirs'),
    );
    expect(dataOf(await tool.execute({ target: { relation: 'child', name: 'mine' } }, ctx))).toEqual({
      status: 'accepted',
      root_task_id: mine,
      cancelled_count: 2,
    });
    expect((await s.wait(nested, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect(s.get(theirs)?.status).toBe('running');
    expect(ctx.runController.signal.aborted).toBe(false);
  });

  it('L11 a thread never cancels another thread run roots, even by reusing their run id', async () => {
    const s = fresh();
    const theirs = await spawnParked(s, 'thread-2', 'theirs', { run_id: 'shared-run' });
    const mine = await spawnParked(s, 'thread-1', 'mine', { run_id: 'shared-run' });
    const out = await cancelTaskTool(s).execute(SELF, {
      threadId: 'thread-1',
      runId: 'shared-run',
      runController: new AbortController(),
    });
    expect(dataOf(out)).toEqual({ status: 'accepted', root_task_id: 'shared-run', cancelled_count: 2 });
    expect((await s.wait(mine, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect(s.get(theirs)?.status).toBe('running');
  });

  it('L12 self-cancel of an already terminal task is failed/task_not_found', async () => {
    const s = fresh();
    const id = await s.spawn({ threadId: 'thread-1', taskType: 't', description: 'quick' }, () => 'done');
    await s.wait(id, { timeoutMs: 5_000 });
    expect(dataOf(await cancelTaskTool(s, { taskId: id }).execute(SELF, { threadId: 'thread-1' }))).toEqual({
      status: 'failed',
      root_task_id: id,
      cancelled_count: 0,
      error: 'task_not_found',
    });
  });

  it('S6 L13 descriptor: the 0.6 description; name and schema unchanged', () => {
    const tool = cancelTaskTool(fresh());
    expect(tool.name).toBe('cancel_task');
    expect(tool.description).toBe(
      'Cancel the current background task, the current run outside background tasks, or one child task. Descendant tasks are cancelled together.',
    );
    expect(tool.parameters).toEqual(
      JSON.parse(
        '{"type":"object","properties":{"target":{"oneOf":[{"type":"object","properties":{"relation":{"const":"self"}},"required":["relation"]},{"type":"object","properties":{"relation":{"const":"child"},"name":{"type":"string","description":"Direct child task name or task_id"}},"required":["relation","name"]}]}},"required":["target"]}',
      ),
    );
  });

  it('L8 execute never trusts an unvalidated call: a thrown supervisor error becomes Execution failed', async () => {
    const s = fresh();
    const broken = new Proxy(s, {
      get: (t, p) =>
        p === 'cancelTree'
          ? () => {
              throw new Error('boom');
            }
          : Reflect.get(t, p),
    });
    expect(await cancelTaskTool(broken, { taskId: 'bg_0' }).execute(SELF, { threadId: 't' })).toEqual({
      ok: false,
      error: 'Execution failed: boom',
    });
  });
});
