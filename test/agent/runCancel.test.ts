import { describe, expect, it } from 'vitest';
import {
  cancelTaskTool,
  InboxPayloadError,
  inboxPayloadToMessages,
  isPendingBoundaryWake,
  runAgentLoop,
  scriptedModel,
  tryInboxPayloadMessages,
} from '../../src/agent/index.js';
import {
  createInbox,
  createTaskSupervisor,
  MemoryTaskStore,
  SpawnError,
  TaskResult,
  withToolLineage,
} from '../../src/index.js';
import type { AgentModel, RunOutcome } from '../../src/agent/index.js';
import type { AgentTaskContext, Json } from '../../src/index.js';
import { FlakyStore, tick } from '../helpers/async.js';
import { freshSupervisors, gate, parked, sendingTool, spawnTool, waitFor } from './helpers.js';

const { fresh, defer } = freshSupervisors();
const opts = (extra: object = {}) => ({ threadId: 't', taskType: 'shell', description: 'd', ...extra });
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as SpawnError,
  );

describe('run-cancel fence (S1–S4, gaps 11 and 13)', () => {
  it('S1 with no tasks, cancelDescendantsForRun returns 0 and still fences the run: a late root spawn is refused, nothing recorded', async () => {
    const s = fresh();
    expect(s.cancelDescendantsForRun('run-cancelled')).toBe(0);
    const e = await refusal(s.spawn(opts({ parentContext: { run_id: 'run-cancelled' } }), parked));
    expect(e).toBeInstanceOf(SpawnError);
    expect(e?.code).toBe('parent_cancelled');
    expect(e?.message).toBe("run 'run-cancelled' is cancelled");
    expect(s.list('t')).toEqual([]);
    expect(s.persistedSnapshot()).toEqual({});
  });

  it('S2 gap 11: a swept root that spawns from its body is refused (parent_cancelled, the parent state decides); the root ends cancelled', async () => {
    const s = fresh();
    const attempt = gate<unknown>();
    const root = await s.spawn(opts({ parentContext: { run_id: 'run-cancelled' } }), async (ctx) => {
      await ctx.cancelled();
      attempt.open(await s.spawn(opts(), parked).catch((e: unknown) => e));
      return TaskResult.cancelled();
    });
    expect(s.cancelDescendantsForRun('run-cancelled')).toBe(1);
    const e = (await attempt.promise) as SpawnError;
    expect(e.code).toBe('parent_cancelled');
    expect(e.message).toBe(`parent task '${root}' is cancelling`);
    expect((await s.wait(root, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect(s.list('t')).toHaveLength(1);
  });

  it('S2 a nested task records the run but is not one of its roots: runningRootsOfRun, the sweep count and Run-scope cancel_task see the root only', async () => {
    const s = fresh();
    const nested = gate<string>();
    const root = await s.spawn(opts({ name: 'root', parentContext: { run_id: 'run-n' } }), async (ctx) => {
      nested.open(await s.spawn(opts({ name: 'kid' }), parked));
      return parked(ctx);
    });
    const kid = await nested.promise;
    expect(s.get(kid)?.parent_context).toEqual({ task_id: root, run_id: 'run-n' });
    expect(s.runningRootsOfRun('run-n').map((t) => t.task_id)).toEqual([root]);
    const tool = cancelTaskTool(s);
    const runCtx = { threadId: 't', runId: 'run-n', runController: new AbortController() };
    // Run scope addresses the run's roots only: the nested task is not a child of the run.
    expect(await tool.execute({ target: { relation: 'child', name: 'kid' } }, runCtx)).toMatchObject({
      ok: true,
      data: { status: 'failed', cancelled_count: 0, error: 'task_not_found' },
    });
    expect(s.get(kid)?.status).toBe('running');
    // One walk from the root: each task signalled once (a nested root would be counted twice).
    expect(s.cancelDescendantsForRun('run-n')).toBe(2);
    for (const id of [root, kid]) expect((await s.wait(id, { timeoutMs: 5_000 })).status).toBe('cancelled');
  });

  it('S2 gap 11: a nested spawn that inherits a fenced run is decided by its parent, not by the run fence', async () => {
    const s = fresh();
    s.cancelDescendantsForRun('run-f');
    // Not a root of run-f (it has a parent task), so the fence does not apply to it either.
    const kid = gate<string | SpawnError>();
    const parent = await s.spawn(
      opts({ parentContext: { task_id: 'bg_elsewhere', run_id: 'run-f' } }),
      async (ctx) => {
        kid.open(await s.spawn(opts(), parked).catch((e: SpawnError) => e));
        return parked(ctx);
      },
    );
    const child = await kid.promise;
    expect(typeof child).toBe('string');
    expect(s.get(child as string)?.parent_context).toEqual({ task_id: parent, run_id: 'run-f' });
    expect(s.get(child as string)?.status).toBe('running');
  });

  it('S4 gap 13: a sweep while the spawn waits for its id block refuses the spawn; nothing is recorded', async () => {
    const held = gate();
    class SlowIds extends MemoryTaskStore {
      override async allocateIds(count: number): Promise<number> {
        await held.promise;
        return super.allocateIds(count);
      }
    }
    const store = new SlowIds();
    const s = createTaskSupervisor({ store });
    defer(() => s.stop());
    const spawning = refusal(s.spawn(opts({ parentContext: { run_id: 'run-w' } }), parked));
    await tick();
    expect(s.cancelDescendantsForRun('run-w')).toBe(0);
    held.open();
    expect((await spawning)?.code).toBe('parent_cancelled');
    expect(s.list('t')).toEqual([]);
    expect(await store.load()).toEqual([]);
  });

  it('S4 gap 13: a sweep while the running record is written sweeps the new task: spawn returns its id and it ends cancelled', async () => {
    const store = new FlakyStore();
    const held = gate();
    const putting = gate();
    store.hold = () => {
      putting.open();
      return held.promise;
    };
    const s = createTaskSupervisor({ store });
    defer(async () => {
      store.hold = undefined;
      await s.stop();
    });
    const spawning = s.spawn(opts({ parentContext: { run_id: 'run-p' } }), parked);
    await putting.promise;
    // Registered in the same step as the fence check, so the sweep finds it.
    expect(s.cancelDescendantsForRun('run-p')).toBe(1);
    held.open();
    const id = await spawning;
    expect((await s.wait(id, { timeoutMs: 5_000 })).status).toBe('cancelled');
  });

  it('S3 gap 11: the fence trims run ids on both sides', async () => {
    const s = fresh();
    s.cancelDescendantsForRun(' run-1 ');
    const e = await refusal(s.spawn(opts({ parentContext: { run_id: 'run-1' } }), parked));
    expect(e?.code).toBe('parent_cancelled');
    const e2 = await refusal(s.spawn(opts({ parentContext: { run_id: '  run-1' } }), parked));
    expect(e2?.code).toBe('parent_cancelled');
  });

  it('S4 gap 13: a spawn racing the sweep either fails or is swept, never left running', async () => {
    for (let i = 0; i < 20; i++) {
      const s = fresh();
      const run = `run-${i}`;
      const spawning = s.spawn(opts({ parentContext: { run_id: run } }), parked).then(
        (id) => id,
        () => undefined,
      );
      if (i % 2 === 0) await Promise.resolve();
      s.cancelDescendantsForRun(run);
      const id = await spawning;
      if (id !== undefined) expect((await s.wait(id, { timeoutMs: 5_000 })).status).toBe('cancelled');
    }
  });

  it('S3 check order merge, name, fence: a reserved or duplicate name is reported before the fence; the merged run id is fenced for spawn and spawnAgent; a blank run id never is', async () => {
    const s = fresh();
    await s.spawn(opts({ name: 'busy' }), parked);
    s.cancelDescendantsForRun('run-o');
    const fenced = { parentContext: { run_id: 'run-o' } };
    expect((await refusal(s.spawn(opts({ ...fenced, name: 'self' }), parked)))?.code).toBe('reserved_name');
    expect((await refusal(s.spawn(opts({ ...fenced, name: 'busy' }), parked)))?.code).toBe('duplicate_name');
    const viaLineage = await refusal(withToolLineage({ run_id: 'run-o' }, () => s.spawn(opts(), parked)));
    expect(viaLineage?.message).toBe("run 'run-o' is cancelled");
    expect(
      (await refusal(s.spawnAgent({ threadId: 't', description: 'a', ...fenced }, async () => undefined)))
        ?.code,
    ).toBe('parent_cancelled');
    // A blank run id names no run: sweeping it fences nothing.
    s.cancelDescendantsForRun('  ');
    const blank = await s.spawn(opts({ parentContext: { run_id: ' ' } }), parked);
    expect(await withToolLineage({ run_id: '' }, () => s.spawn(opts(), parked))).toBe('bg_2');
    expect(blank).toBe('bg_1');
  });

  it('S7 gap 12: unlike upstream, name, parent and run-fence refusals consume no id', async () => {
    const s = fresh();
    const done = await s.spawn(opts({ name: 'busy' }), parked);
    const finished = await s.spawn(opts(), () => 1);
    await s.wait(finished, { timeoutMs: 5_000 });
    s.cancelDescendantsForRun('run-x');
    for (const refused of [
      s.spawn(opts({ name: 'all' }), parked),
      s.spawn(opts({ name: 'busy' }), parked),
      s.spawn(opts({ parentContext: { task_id: finished } }), parked),
      s.spawn(opts({ parentContext: { run_id: 'run-x' } }), parked),
    ])
      expect(await refusal(refused)).toBeInstanceOf(SpawnError);
    expect([done, finished]).toEqual(['bg_0', 'bg_1']);
    expect(await s.spawn(opts(), parked)).toBe('bg_2');
  });

  it('S3 cancel_task self in Run scope fences the run too', async () => {
    const s = fresh();
    await cancelTaskTool(s).execute(
      { target: { relation: 'self' } },
      { threadId: 't', runId: 'run-self', runController: new AbortController() },
    );
    expect((await refusal(s.spawn(opts({ parentContext: { run_id: 'run-self' } }), parked)))?.code).toBe(
      'parent_cancelled',
    );
  });
});

describe('run cancellation through runAgentLoop (gap 14, S2)', () => {
  const spawnCall = (id: string) => ({ toolCalls: [{ id, name: 'spawn_task', args: {} }] });

  it('gap 14: aborting a delegate run started by a tool cancels the delegate run tasks and fences its run; the outer run ends normally and sweeps nothing', async () => {
    const s = fresh();
    const sub = new AbortController();
    let subOutcome: RunOutcome | undefined;
    const delegate = {
      ...spawnTool(s, parked, { toolName: 'delegate' }),
      execute: async () => {
        let n = 0;
        const model: AgentModel = async () => {
          if (++n === 1) return spawnCall('sub-spawn');
          sub.abort();
          return new Promise(() => undefined);
        };
        subOutcome = await runAgentLoop({
          model,
          supervisor: s,
          threadId: 'sub',
          runId: 'run-sub',
          signal: sub.signal,
          tools: [spawnTool(s, parked)],
        });
        return { ok: true as const, data: null };
      },
    };
    const outer = await runAgentLoop({
      model: scriptedModel([
        spawnCall('top-spawn'),
        { toolCalls: [{ id: 'd', name: 'delegate', args: {} }] },
        { text: 'ok' },
      ]),
      supervisor: s,
      threadId: 'lead',
      runId: 'run-top',
      tools: [spawnTool(s, parked), delegate],
    });
    expect(subOutcome).toMatchObject({ termination: 'cancelled', status: 'done' });
    const [subTask] = s.list('sub');
    expect(subTask?.parent_context).toMatchObject({ run_id: 'run-sub', call_id: 'sub-spawn' });
    expect((await s.wait(subTask!.task_id, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect((await refusal(s.spawn(opts({ parentContext: { run_id: 'run-sub' } }), parked)))?.code).toBe(
      'parent_cancelled',
    );
    // The outer run ended naturally: its task outlives it and its run is not fenced.
    expect(outer).toMatchObject({ status: 'waiting', status_reason: 'awaiting_tasks' });
    expect(s.list('lead').map((t) => t.status)).toEqual(['running']);
    expect(await s.spawn(opts({ parentContext: { run_id: 'run-top' } }), parked)).toMatch(/^bg_/);
  });

  it('S2 gap 14: a sub-agent task run records the outer run in the tasks it starts, so sweeping the outer run reaches them through the sub-agent', async () => {
    const s = fresh();
    const agentBody = async (ctx: AgentTaskContext) => {
      await runAgentLoop({
        model: scriptedModel([spawnCall('crawl'), { text: 'waiting for the crawl' }]),
        supervisor: s,
        threadId: 'sub',
        runId: 'run-sub',
        signal: ctx.signal,
        tools: [spawnTool(s, parked)],
      });
      await ctx.cancelled();
      return TaskResult.cancelled();
    };
    const startAgent = {
      ...spawnTool(s, parked, { toolName: 'start_agent' }),
      execute: async (_args: Json, ctx: { threadId: string }) => ({
        ok: true as const,
        data: {
          task_id: await s.spawnAgent({ threadId: ctx.threadId, description: 'researcher' }, agentBody),
        },
      }),
    };
    await runAgentLoop({
      model: scriptedModel([
        { toolCalls: [{ id: 'a', name: 'start_agent', args: {} }] },
        { text: 'started' },
      ]),
      supervisor: s,
      threadId: 'lead',
      runId: 'run-top',
      tools: [startAgent],
    });
    const [agent] = s.list('lead');
    await waitFor(() => s.list('sub').length === 1, 5_000, 'the crawl');
    const [crawl] = s.list('sub');
    // task_id and run_id from the enclosing task; call_id from the sub-run's tool call.
    expect(crawl?.parent_context).toEqual({ task_id: agent!.task_id, run_id: 'run-top', call_id: 'crawl' });
    expect(s.runningRootsOfRun('run-top').map((t) => t.task_id)).toEqual([agent!.task_id]);
    expect(s.cancelDescendantsForRun('run-top')).toBe(2);
    for (const t of [agent!, crawl!])
      expect((await s.wait(t.task_id, { timeoutMs: 5_000 })).status).toBe('cancelled');
  });
});

describe('cancel_task validation (S6)', () => {
  it('S6 execute validates first: child without name and unknown relations are Invalid arguments', async () => {
    const tool = cancelTaskTool(fresh());
    const ctx = { threadId: 't', runId: 'r', runController: new AbortController() };
    expect(await tool.execute({ target: { relation: 'child' } }, ctx)).toEqual({
      ok: false,
      error: "Invalid arguments: child requires 'name'",
    });
    expect(await tool.execute({ target: { relation: 'sibling' } }, ctx)).toEqual({
      ok: false,
      error: "Invalid arguments: unknown relation 'sibling'",
    });
    expect(ctx.runController.signal.aborted).toBe(false);
  });
});

describe('inbox payload helpers (S11, S12, gap 17)', () => {
  it('S11 try_inbox_payload_messages rejects a malformed direct message; the lenient helper falls back to one event message', () => {
    const payload: Json = { kind: 'messages', messages: [{ role: 'user', content: 'ok' }, { role: 7 }] };
    let err: unknown;
    try {
      tryInboxPayloadMessages(payload);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InboxPayloadError);
    expect((err as InboxPayloadError).code).toBe('invalid_message');
    expect((err as InboxPayloadError).index).toBe(1);
    expect((err as Error).message).toMatch(/^invalid inbox message at index 1: /);
    const fallback = inboxPayloadToMessages(payload);
    expect(fallback).toHaveLength(1);
    expect(fallback[0]?.visibility).toBe('internal');
  });

  it('S11 a missing messages array is an error; an empty array is zero messages; a valid payload is all of them', () => {
    expect(() => tryInboxPayloadMessages({ kind: 'messages' })).toThrow(
      'inbox messages payload is missing a messages array',
    );
    expect(tryInboxPayloadMessages({ kind: 'messages', messages: [] })).toEqual([]);
    expect(inboxPayloadToMessages({ kind: 'messages', messages: [] })).toEqual([]);
    expect(
      tryInboxPayloadMessages({
        kind: 'messages',
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
      }),
    ).toEqual([
      { role: 'user', content: 'a', visibility: 'all' },
      { role: 'assistant', content: 'b', visibility: 'all' },
    ]);
    expect(tryInboxPayloadMessages({ kind: 'completed', task_id: 'bg_0' })).toBeUndefined();
  });

  it('S12 a pending_boundary_wake payload is detectable and the loop never appends it', async () => {
    expect(isPendingBoundaryWake({ kind: 'pending_boundary_wake' })).toBe(true);
    expect(isPendingBoundaryWake({ kind: 'completed' })).toBe(false);
    const s = fresh();
    const inbox = createInbox();
    const model = scriptedModel([{ toolCalls: [{ id: 'c', name: 'noop', args: {} }] }, { text: 'done' }]);
    const noop = sendingTool(inbox.sender, [{ kind: 'pending_boundary_wake' }], 'noop');
    await runAgentLoop({ model, supervisor: s, threadId: 't', inbox, tools: [noop] });
    expect(model.requests[1]!.messages.map((m) => m.role)).toEqual(['assistant', 'tool']);
  });

  it('S11 gap 17: the loop uses the strict form and fails the run with invalid resume', async () => {
    const s = fresh();
    const inbox = createInbox();
    const model = scriptedModel([{ toolCalls: [{ id: 'c', name: 'noop', args: {} }] }, { text: 'never' }]);
    const noop = sendingTool(inbox.sender, [{ kind: 'messages', messages: [{ role: 7 }] }], 'noop');
    await expect(runAgentLoop({ model, supervisor: s, threadId: 't', inbox, tools: [noop] })).rejects.toThrow(
      /^invalid resume: invalid inbox message at index 0: /,
    );
  });
});
