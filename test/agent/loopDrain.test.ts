import { afterEach, describe, expect, it } from 'vitest';
import { runAgentLoop, scriptedModel } from '../../src/agent/index.js';
import type { AgentModel, Message, ToolDefinition } from '../../src/agent/index.js';
import { MemoryTaskStore, createInbox, createTaskSupervisor } from '../../src/index.js';
import type { Json, PersistedTaskMeta } from '../../src/index.js';
import { eventsIn, gate, parked, sendingTool, setup, spawnTool, waitFor, withOverrides } from './helpers.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});
function fresh(): ReturnType<typeof setup> {
  const s = setup();
  cleanups.push(s.cleanup);
  return s;
}
const call = (name: string, id = 'call-1', args: Json = {}) => ({ toolCalls: [{ id, name, args }] });
/** A custom event of task `bg_c`. */
const custom = (event_type: string, payload: Json): Json => ({
  kind: 'custom',
  task_id: 'bg_c',
  event_type,
  payload,
});
const compacted = custom('context.compacted', { boundary_message_id: 'm1', summary: 's', pre_tokens: 10 });
const failedCompaction = custom('context.compaction_failed', { boundary_message_id: 'm1', error: 'e' });
/** A model that pushes `payloads` into `inbox` on its first call, then follows `script`. */
function pushingModel(
  inbox: { send(m: Json): boolean },
  payloads: Json[],
  script: ReturnType<typeof scriptedModel>,
): AgentModel {
  return (req) => {
    if (script.requests.length === 0) for (const p of payloads) inbox.send(p);
    return script(req);
  };
}
/** A run on thread `t` with an inbox, into which `payloads` arrive during the model's first call. */
async function runWhilePushing(payloads: Json[], script: ReturnType<typeof scriptedModel>) {
  const { supervisor } = fresh();
  const inbox = createInbox();
  const out = await runAgentLoop({
    model: pushingModel(inbox.sender, payloads, script),
    supervisor,
    threadId: 't',
    inbox,
  });
  return { out, inbox };
}

describe('drain points (O16)', () => {
  it('O16 after a tool step every payload is appended, compaction events included', async () => {
    const { supervisor } = fresh();
    const inbox = createInbox();
    const model = scriptedModel([call('send_events'), { text: 'end' }]);
    const out = await runAgentLoop({
      model,
      supervisor,
      threadId: 't',
      inbox,
      tools: [sendingTool(inbox.sender, [compacted, { kind: 'cancelled', task_id: 'bg_9' }])],
    });
    expect(eventsIn(model.requests[1]?.messages ?? []).map((e) => e.event_type ?? e.kind)).toEqual([
      'context.compacted',
      'cancelled',
    ]);
    expect(out).toMatchObject({ status: 'done', steps: 2 });
  });

  it('O16 at a natural end compaction events are consumed in place and do not cause another turn', async () => {
    const { out, inbox } = await runWhilePushing(
      [compacted, failedCompaction],
      scriptedModel([{ text: 'end' }]),
    );
    expect(out).toMatchObject({ status: 'done', status_reason: 'natural', steps: 1 });
    expect(eventsIn(out.messages)).toEqual([]);
    expect(inbox.receiver.size).toBe(0);
  });

  it('S13 gap 18: at a natural end 0.6 compaction.started and compaction.skipped are consumed in place too and do not cause another turn', async () => {
    const started = custom('compaction.started', {
      task_id: 'bg_c',
      boundary_message_id: 'm1',
      pre_tokens: 10,
    });
    const skipped = custom('compaction.skipped', { reason: 'min_savings_ratio' });
    const { out, inbox } = await runWhilePushing(
      [started, skipped, compacted],
      scriptedModel([{ text: 'end' }]),
    );
    expect(out).toMatchObject({ status: 'done', status_reason: 'natural', steps: 1 });
    expect(eventsIn(out.messages)).toEqual([]);
    expect(inbox.receiver.size).toBe(0);
  });

  it('O16 at a natural end any other payload is appended and the model takes another turn', async () => {
    const steering: Json = { kind: 'messages', messages: [{ role: 'user', content: 'also check 2023' }] };
    const script = scriptedModel([{ text: 'first answer' }, { text: 'second answer' }]);
    const { out } = await runWhilePushing([compacted, steering], script);
    expect(out).toMatchObject({ status: 'done', steps: 2, response: 'second answer' });
    expect(script.requests[1]?.messages.at(-1)).toEqual({
      role: 'user',
      content: 'also check 2023',
      visibility: 'all',
    });
  });

  it('O16 a waiting sub-agent run whose inbox closes ends cancelled; so does an aborted one', async () => {
    for (const how of ['close', 'abort'] as const) {
      const { supervisor } = fresh();
      const inbox = createInbox();
      const ac = new AbortController();
      const model = scriptedModel([call('spawn_task'), { text: 'waiting' }]);
      const running = runAgentLoop({
        model,
        supervisor,
        threadId: 'thread-sub',
        origin: 'subagent',
        inbox,
        signal: ac.signal,
        tools: [spawnTool(supervisor, parked)],
      });
      await waitFor(() => model.requests.length === 2);
      if (how === 'close') inbox.receiver.close();
      else ac.abort();
      expect(await running).toMatchObject({
        termination: 'cancelled',
        status: 'done',
        status_reason: 'cancelled',
      });
    }
  });

  it('O16 with running tasks a top-level run with an inbox, and a sub-agent run without one, end waiting', async () => {
    const { supervisor } = fresh();
    for (const opts of [{ origin: 'user' as const, inbox: createInbox() }, { origin: 'subagent' as const }]) {
      const out = await runAgentLoop({
        model: scriptedModel([call('spawn_task'), { text: 'later' }]),
        supervisor,
        threadId: `t-${opts.origin}`,
        tools: [spawnTool(supervisor, parked)],
        ...opts,
      });
      expect(out).toMatchObject({
        termination: 'natural_end',
        status: 'waiting',
        status_reason: 'awaiting_tasks',
      });
    }
  });

  it('O16 response is the last assistant text of this run only', async () => {
    const { supervisor } = fresh();
    const prior: Message[] = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'old answer' },
    ];
    const cancelled = await runAgentLoop({
      model: scriptedModel([{ text: 'x' }]),
      supervisor,
      threadId: 't',
      messages: prior,
      signal: AbortSignal.abort(),
    });
    expect(cancelled.response).toBe('');
    const noop = spawnTool(supervisor, () => null, { toolName: 'noop' });
    const out = await runAgentLoop({
      model: scriptedModel([{ text: 'let me check', ...call('noop') }, { text: 'final' }]),
      supervisor,
      threadId: 't2',
      messages: prior,
      tools: [noop],
    });
    expect(out.response).toBe('final');
    expect(out.messages.slice(0, 2)).toEqual(prior);
  });
});

describe('§6 item 7: a task ending between the pending check and the drain', () => {
  it('§6.7 a terminal event that arrived after a stale pending check yields another model turn, not awaiting_tasks', async () => {
    const { supervisor } = fresh();
    const inbox = createInbox();
    const release = gate();
    let lie = false;
    // hasRunning answers from before the task ended (true) once, at the natural-end pending check.
    const stale = withOverrides(supervisor, {
      hasRunning: (threadId: string) => {
        if (lie) {
          lie = false;
          return true;
        }
        return supervisor.hasRunning(threadId);
      },
    });
    const script = scriptedModel([call('spawn_task'), { text: 'is it done?' }, { text: 'it finished' }]);
    const model: AgentModel = async (req) => {
      if (script.requests.length === 1) {
        release.open();
        await waitFor(() => inbox.receiver.size > 0, 5_000, 'the terminal event');
        lie = true;
      }
      return script(req);
    };
    const out = await runAgentLoop({
      model,
      supervisor: stale,
      threadId: 'thread-1',
      inbox,
      tools: [spawnTool(supervisor, () => release.promise.then(() => 'result'))],
    });
    expect(lie).toBe(false); // the stale answer was used
    expect(out).toMatchObject({
      termination: 'natural_end',
      status: 'done',
      status_reason: 'natural',
      steps: 3,
    });
    expect(eventsIn(script.requests[2]?.messages ?? [])).toMatchObject([
      { kind: 'completed', result: 'result' },
    ]);
  });

  it('§6.7 a stale pending check with no event to drain re-checks and never reports a stale awaiting_tasks', async () => {
    const { supervisor } = fresh();
    const id = await supervisor.spawn({ threadId: 'thread-1', taskType: 't', description: 'd' }, () => 1);
    await supervisor.wait(id, { timeoutMs: 5_000 });
    let answers = 0;
    const stale = withOverrides(supervisor, {
      hasRunning: (threadId: string) => (answers++ === 0 ? true : supervisor.hasRunning(threadId)),
    });
    const out = await runAgentLoop({
      model: scriptedModel([{ text: 'x' }]),
      supervisor: stale,
      threadId: 'thread-1',
    });
    expect(out).toMatchObject({ status: 'done', status_reason: 'natural', steps: 1 });
  });

  it('§6.7 a task that ends during the last model turn is drained and answered', async () => {
    const { supervisor } = fresh();
    const inbox = createInbox();
    const release = gate();
    const script = scriptedModel([call('spawn_task'), { text: 'waiting' }, { text: 'answered' }]);
    const model: AgentModel = async (req) => {
      if (script.requests.length === 1) {
        release.open();
        await waitFor(() => !supervisor.hasRunning('thread-1') && inbox.receiver.size > 0);
      }
      return script(req);
    };
    const out = await runAgentLoop({
      model,
      supervisor,
      threadId: 'thread-1',
      inbox,
      tools: [spawnTool(supervisor, () => release.promise)],
    });
    expect(out).toMatchObject({ status: 'done', steps: 3, response: 'answered' });
  });
});

describe('terminal status before terminal event', () => {
  it('§6.7 a task whose status is terminal but whose event is still in flight is waited for and drained', async () => {
    const inbox = createInbox();
    const storeGate = gate();
    class SlowStore extends MemoryTaskStore {
      override async put(records: readonly PersistedTaskMeta[]): Promise<void> {
        if (records.some((r) => r.status !== 'running')) await storeGate.promise;
        return super.put(records);
      }
    }
    const real = createTaskSupervisor({ store: new SlowStore() });
    cleanups.push(async () => {
      storeGate.open();
      await real.stop();
    });
    let waited = 0;
    // The loop's `wait` is what lets the terminal write finish, so the event is provably in flight
    // when the loop finds nothing pending.
    const supervisor = withOverrides(real, {
      wait: (id, opts) => {
        waited++;
        storeGate.open();
        return real.wait(id, opts);
      },
    });
    const script = scriptedModel([call('spawn_task'), { text: 'checking' }, { text: 'saw it' }]);
    let id = '';
    const model: AgentModel = async (req) => {
      if (script.requests.length === 1) {
        id = real.list('thread-1')[0]?.task_id ?? '';
        await waitFor(() => real.get(id)?.status === 'completed');
        expect(inbox.receiver.size).toBe(0);
      }
      return script(req);
    };
    const out = await runAgentLoop({
      model,
      supervisor,
      threadId: 'thread-1',
      inbox,
      tools: [spawnTool(real, () => 'quick')],
    });
    expect(waited).toBeGreaterThan(0);
    expect(out).toMatchObject({ status: 'done', steps: 3, response: 'saw it' });
    expect(eventsIn(script.requests[2]?.messages ?? [])).toEqual([
      { kind: 'completed', task_id: id, result: 'quick' },
    ]);
  });
});

describe('tool plumbing', () => {
  it('G3 tools run inside the tool lineage: run, call and agent ids, and the run inbox', async () => {
    const { supervisor, inbox: owner } = fresh();
    const inbox = createInbox();
    const out = await runAgentLoop({
      model: scriptedModel([call('spawn_task', 'call-77'), { text: 'ok' }]),
      supervisor,
      threadId: 'thread-1',
      runId: 'run-77',
      agentId: 'agent-77',
      inbox,
      tools: [spawnTool(supervisor, parked)],
    });
    const [task] = supervisor.list('thread-1');
    expect(task?.parent_context).toEqual({ run_id: 'run-77', call_id: 'call-77', agent_id: 'agent-77' });
    supervisor.cancel(task?.task_id ?? '');
    await supervisor.wait(task?.task_id ?? '', { timeoutMs: 5_000 });
    await waitFor(() => inbox.receiver.size > 0);
    expect(inbox.receiver.drain()).toEqual([{ kind: 'cancelled', task_id: task?.task_id }]);
    expect(owner.receiver.drain()).toEqual([]);
    expect(out.status).toBe('waiting');
  });

  it('unknown tools, invalid arguments and throwing tools become error tool messages', async () => {
    const { supervisor } = fresh();
    const boom: ToolDefinition = {
      name: 'boom',
      description: 'throws',
      parameters: { type: 'object' },
      validate: () => undefined,
      execute: async () => {
        throw new Error('kaput');
      },
    };
    const model = scriptedModel([
      {
        toolCalls: [
          { id: 'a', name: 'nope', args: {} },
          { id: 'b', name: 'cancel_task', args: { target: {} } },
          { id: 'c', name: 'boom', args: null },
        ],
      },
      { text: 'end' },
    ]);
    const out = await runAgentLoop({ model, supervisor, threadId: 't', tools: [boom] });
    expect(out.messages.filter((m) => m.role === 'tool')).toEqual([
      { role: 'tool', toolCallId: 'a', content: "Execution failed: unknown tool 'nope'" },
      { role: 'tool', toolCallId: 'b', content: "Invalid arguments: missing 'target.relation'" },
      { role: 'tool', toolCallId: 'c', content: 'Execution failed: kaput' },
    ]);
    expect(model.requests).toHaveLength(2);
  });

  it('L4 L10 cancel_task self in a top-level run cancels the run (Run scope) and its tasks', async () => {
    const { supervisor } = fresh();
    const model = scriptedModel([
      call('spawn_task', 'c1'),
      {
        toolCalls: [
          { id: 'c2', name: 'cancel_task', args: { target: { relation: 'self' } } },
          { id: 'c3', name: 'spawn_task', args: {} },
        ],
      },
      { text: 'never' },
    ]);
    const out = await runAgentLoop({
      model,
      supervisor,
      threadId: 'thread-1',
      runId: 'run-9',
      tools: [spawnTool(supervisor, parked)],
    });
    expect(out).toMatchObject({
      termination: 'cancelled',
      status: 'done',
      status_reason: 'cancelled',
      steps: 2,
    });
    const tools = out.messages.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(JSON.parse(tools[1] ?? '')).toEqual({
      status: 'accepted',
      root_task_id: 'run-9',
      cancelled_count: 2,
    });
    expect(tools[2]).toBe('Execution failed: run cancelled');
    const [task] = supervisor.list('thread-1');
    expect((await supervisor.wait(task?.task_id ?? '', { timeoutMs: 5_000 })).status).toBe('cancelled');
  });

  it('S10 the model is offered the user tools and the plugin tools (recover_failed_messages can be switched off)', async () => {
    const { supervisor } = fresh();
    const seen: string[][] = [];
    /** Records the names of the tools it is offered. */
    const model: AgentModel = async (req) => {
      seen.push(req.tools.map((t) => t.name));
      return { text: 'x' };
    };
    await runAgentLoop({ model, supervisor, threadId: 't', tools: [spawnTool(supervisor, parked)] });
    await runAgentLoop({
      model,
      supervisor,
      threadId: 't',
      recoverFailedMessages: false,
    });
    expect(seen).toEqual([
      ['spawn_task', 'cancel_task', 'send_message', 'recover_failed_messages'],
      ['cancel_task', 'send_message'],
    ]);
  });
});
