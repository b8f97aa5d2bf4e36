import { describe, expect, it } from 'vitest';
import { createBackgroundTasksPlugin, runAgentLoop, scriptedModel } from '../../src/agent/index.js';
import type { AgentModel, Message } from '../../src/agent/index.js';
import { MemoryTaskStore, createInbox, createTaskSupervisor } from '../../src/index.js';
import { eventsIn, gate, parked, spawnTool, waitFor, freshSupervisors } from './helpers.js';

const { fresh, defer } = freshSupervisors();
const call = (name: string, id = 'call-1', args = {}) => ({ toolCalls: [{ id, name, args }] });
const user = (content: string): Message => ({ role: 'user', content });

describe('agent loop (O)', () => {
  it('O1 O5 O13 a top-level run whose task still runs ends natural_end / waiting / awaiting_tasks', async () => {
    const s = fresh();
    const model = scriptedModel([call('spawn_task'), { text: 'started the worker' }]);
    const out = await runAgentLoop({
      model,
      supervisor: s,
      threadId: 'thread-1',
      origin: 'user',
      tools: [spawnTool(s, parked, { name: 'worker' })],
      messages: [user('start a worker')],
    });
    expect(out).toMatchObject({
      termination: 'natural_end',
      status: 'waiting',
      status_reason: 'awaiting_tasks',
      response: 'started the worker',
    });
    expect(out.steps).toBeGreaterThanOrEqual(2);
    expect(s.hasRunning('thread-1')).toBe(true);
    expect(s.list('thread-1')[0]?.status).toBe('running');
  });

  it('O2 O6 a run without tasks ends natural_end / done / natural', async () => {
    const out = await runAgentLoop({
      model: scriptedModel([{ text: 'hello' }]),
      supervisor: fresh(),
      threadId: 'thread-1',
      messages: [user('hi')],
    });
    expect(out).toEqual({
      termination: 'natural_end',
      status: 'done',
      status_reason: 'natural',
      response: 'hello',
      messages: [user('hi'), { role: 'assistant', content: 'hello' }],
      steps: 1,
    });
  });

  it('O3 O10 task events reach the run through its inbox as internal messages, each with kind and task_id', async () => {
    const s = fresh();
    const inbox = createInbox();
    const emitter = spawnTool(s, (ctx) => {
      ctx.emit('data_ready', { rows: 42 });
      return { ok: true };
    });
    // The model's second turn waits until both events were drained after the tool step or are
    // queued for the natural-end drain, so the number of turns is deterministic.
    const script = scriptedModel([call('spawn_task'), { text: 'waiting for data' }, { text: 'got 42 rows' }]);
    const model: AgentModel = async (req) => {
      if (script.requests.length === 1)
        await waitFor(() => eventsIn(req.messages).length + inbox.receiver.size >= 2);
      return script(req);
    };
    const out = await runAgentLoop({
      model,
      supervisor: s,
      threadId: 'thread-1',
      inbox,
      tools: [emitter],
      messages: [user('go')],
    });
    expect(out.termination).toBe('natural_end');
    const events = eventsIn(out.messages);
    expect(events.map((e) => e.kind)).toEqual(['custom', 'completed']);
    expect(events[0]).toMatchObject({ event_type: 'data_ready', payload: { rows: 42 } });
    for (const e of events) expect(typeof e.task_id).toBe('string');
    for (const m of out.messages.filter((m) => m.content.startsWith('<background-task-event'))) {
      expect(m).toMatchObject({ role: 'user', visibility: 'internal' });
    }
    // Drained after the tool step (2 turns) or at the natural end (another turn): done either way.
    expect(out).toMatchObject({ status: 'done', status_reason: 'natural' });
    expect(out.response).toBe(out.steps === 2 ? 'waiting for data' : 'got 42 rows');
  });

  it('O4 O12 O14 a sub-agent run blocks on its inbox while its task runs, then takes another turn', async () => {
    const s = fresh();
    const inbox = createInbox();
    const release = gate();
    const model = scriptedModel([
      call('spawn_task'),
      { text: 'waiting for the task' },
      { text: 'final summary' },
    ]);
    const running = runAgentLoop({
      model,
      supervisor: s,
      threadId: 'thread-sub',
      parentRunId: 'parent-run',
      origin: 'subagent',
      inbox,
      tools: [spawnTool(s, () => release.promise.then(() => ({ done: true })))],
      messages: [user('do it')],
    });
    await waitFor(() => model.requests.length === 2, 5_000, 'the second model call');
    expect(s.hasRunning('thread-sub')).toBe(true);
    release.open();
    const out = await running;
    expect(model.requests.length).toBeGreaterThanOrEqual(3);
    expect(out.response).toContain('final summary');
    expect(out).toMatchObject({
      termination: 'natural_end',
      status: 'done',
      status_reason: 'natural',
      steps: 3,
    });
    expect(eventsIn(model.requests[2]?.messages ?? []).map((e) => e.kind)).toEqual(['completed']);
  });

  it('O7 a run cancelled mid-inference ends cancelled / done / cancelled', async () => {
    const ac = new AbortController();
    let called = false;
    const model: AgentModel = () => {
      called = true;
      return new Promise(() => {});
    };
    const running = runAgentLoop({ model, supervisor: fresh(), threadId: 't', signal: ac.signal });
    await waitFor(() => called);
    ac.abort();
    const out = await running;
    expect(out).toMatchObject({
      termination: 'cancelled',
      status: 'done',
      status_reason: 'cancelled',
      steps: 1,
    });
  });

  it('O7 an already-aborted signal calls no model', async () => {
    const model = scriptedModel([{ text: 'x' }]);
    const out = await runAgentLoop({
      model,
      supervisor: fresh(),
      threadId: 't',
      signal: AbortSignal.abort(),
    });
    expect(out).toMatchObject({
      termination: 'cancelled',
      status: 'done',
      status_reason: 'cancelled',
      steps: 0,
    });
    expect(model.requests).toHaveLength(0);
  });

  it('O11 the pending-work flag: false by default, true while a task runs, cleared after', async () => {
    const s = fresh();
    const { stepEnd } = createBackgroundTasksPlugin(s).hooks;
    expect((await stepEnd({ threadId: 'thread-1' })).has_pending).toBe(false);
    const id = await s.spawn({ threadId: 'thread-1', taskType: 't', description: 'd' }, parked);
    expect((await stepEnd({ threadId: 'thread-1' })).has_pending).toBe(true);
    s.cancel(id);
    await s.wait(id, { timeoutMs: 5_000 });
    expect((await stepEnd({ threadId: 'thread-1' })).has_pending).toBe(false);
  });

  it('O12 termination: tool steps continue, a natural end with nothing pending ends the run', async () => {
    const noop = spawnTool(fresh(), () => null, { toolName: 'noop' });
    noop.execute = async () => ({ ok: true, data: { fine: true } });
    const model = scriptedModel([call('noop', 'c1'), call('noop', 'c2'), { text: 'end' }]);
    const out = await runAgentLoop({ model, supervisor: fresh(), threadId: 't', tools: [noop] });
    expect(out).toMatchObject({ termination: 'natural_end', status: 'done', steps: 3 });
    expect(out.messages.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual([
      '{"fine":true}',
      '{"fine":true}',
    ]);
  });

  it('O14 a new run on the thread starts its step count at 0 and clears awaiting_tasks once tasks end', async () => {
    const s = fresh();
    const release = gate();
    const first = await runAgentLoop({
      model: scriptedModel([call('spawn_task'), { text: 'started' }]),
      supervisor: s,
      threadId: 'thread-1',
      tools: [spawnTool(s, () => release.promise)],
    });
    expect(first).toMatchObject({ status: 'waiting', status_reason: 'awaiting_tasks', steps: 2 });
    release.open();
    await waitFor(() => !s.hasRunning('thread-1'));
    const second = await runAgentLoop({
      model: scriptedModel([{ text: 'all done' }]),
      supervisor: s,
      threadId: 'thread-1',
      messages: first.messages,
    });
    expect(second).toMatchObject({
      status: 'done',
      status_reason: 'natural',
      steps: 1,
      response: 'all done',
    });
  });

  it('O15 a delegate sub-agent completes; its inbox sender is closed after it returns', async () => {
    const s = fresh();
    let sender: { isClosed(): boolean } | undefined;
    const plain = scriptedModel([{ text: 'report' }]);
    const withTool = scriptedModel([call('noop'), { text: 'report 2' }]);
    const noop = spawnTool(s, () => null, { toolName: 'noop' });
    noop.execute = async () => ({ ok: true, data: null });
    const ids = [];
    for (const [model, tools] of [
      [plain, []],
      [withTool, [noop]],
    ] as const) {
      ids.push(
        await s.spawnAgent({ threadId: 'thread-parent', description: 'delegate' }, async (ctx) => {
          sender = ctx.inboxSender;
          const out = await runAgentLoop({
            model,
            supervisor: s,
            threadId: `sub-${ctx.taskId}`,
            parentThreadId: 'thread-parent',
            parentRunId: 'run-parent',
            origin: 'subagent',
            inbox: { sender: ctx.inboxSender, receiver: ctx.inboxReceiver },
            tools: [...tools],
            signal: ctx.signal,
          });
          return out.response;
        }),
      );
      const done = await s.wait(ids.at(-1) ?? '', { timeoutMs: 5_000 });
      expect(done.status).toBe('completed');
      expect(sender?.isClosed()).toBe(true);
    }
    expect(plain.requests.length).toBeGreaterThanOrEqual(1);
    expect(withTool.requests.length).toBeGreaterThanOrEqual(2);
    expect(s.get(ids[1] ?? '')?.result).toBe('report 2');
  });

  it('K7 §6.18 runStart runs before the first model call: an orphan is failed and does not keep the run waiting', async () => {
    const store = new MemoryTaskStore();
    await store.put([
      {
        task_id: 'bg_7',
        owner_thread_id: 'thread-1',
        task_type: 'shell',
        description: 'crashed',
        status: 'running',
        created_at_ms: 1,
        parent_context: {},
      },
    ]);
    const s = createTaskSupervisor({ store });
    defer(() => s.stop());
    let seen: string | undefined;
    const model: AgentModel = async () => {
      seen = s.get('bg_7')?.status;
      return { text: 'ok' };
    };
    const out = await runAgentLoop({ model, supervisor: s, threadId: 'thread-1' });
    expect(seen).toBe('failed');
    expect(out).toMatchObject({ status: 'done', status_reason: 'natural' });
  });

  it('max_steps ends done / max_steps when another model call is needed', async () => {
    const noop = spawnTool(fresh(), () => null, { toolName: 'noop' });
    const model = scriptedModel([call('noop', 'a'), call('noop', 'b'), { text: 'never' }]);
    const out = await runAgentLoop({ model, supervisor: fresh(), threadId: 't', tools: [noop], maxSteps: 2 });
    expect(out).toMatchObject({
      termination: 'max_steps',
      status: 'done',
      status_reason: 'max_steps',
      steps: 2,
    });
    const exact = await runAgentLoop({
      model: scriptedModel([{ text: 'one' }]),
      supervisor: fresh(),
      threadId: 't',
      maxSteps: 1,
    });
    expect(exact).toMatchObject({ termination: 'natural_end', status: 'done', steps: 1 });
  });

  it('scriptedModel records copies of each request and throws beyond its script', async () => {
    const model = scriptedModel([{ text: 'a' }]);
    const messages = [user('x')];
    await model({ messages, tools: [] });
    messages[0] = user('mutated');
    expect(model.requests).toEqual([{ messages: [user('x')] }]);
    expect(() => model({ messages, tools: [] })).toThrow(/beyond|script/);
    await expect(
      runAgentLoop({ model: scriptedModel([]), supervisor: fresh(), threadId: 't' }),
    ).rejects.toThrow(/script/);
  });
});
