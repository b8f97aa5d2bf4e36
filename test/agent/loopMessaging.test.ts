import { describe, expect, it } from 'vitest';
import { runAgentLoop, scriptedModel, storeDurableMessageSink } from '../../src/agent/index.js';
import type { AgentModel, DurableMessageSink, ToolCall } from '../../src/agent/index.js';
import type { TaskSupervisor } from '../../src/index.js';
import { freshSupervisors, parked, spawnTool, recordingSink } from './helpers.js';

const { fresh } = freshSupervisors();
const call = (name: string, args: ToolCall['args'] = {}, id = `call-${name}`): { toolCalls: ToolCall[] } => ({
  toolCalls: [{ id, name, args }],
});
const toParent = (message: string) =>
  call('send_message', { to: { relation: 'parent' }, message }, `send-${message}`);

describe('runAgentLoop and durable messaging', () => {
  it('P15 gap 2: a message sent in a step is delivered at that step end, after the tools, not during the call', async () => {
    const s = fresh();
    const sink = recordingSink();
    let seenAtSecondTool = -1;
    const probe = {
      ...spawnTool(s, parked, { toolName: 'probe' }),
      execute: async () => {
        seenAtSecondTool = sink.requests.length;
        return { ok: true as const, data: null };
      },
    };
    const model = scriptedModel([
      { toolCalls: [...toParent('report').toolCalls, { id: 'p', name: 'probe', args: {} }] },
      { text: 'done' },
    ]);
    const out = await runAgentLoop({
      model,
      supervisor: s,
      threadId: 'child',
      parentThreadId: 'parent',
      tools: [probe],
      durableSink: sink,
    });
    expect(out.status).toBe('done');
    expect(seenAtSecondTool).toBe(0);
    expect(sink.requests.map((r) => [r.recipient_thread_id, r.message])).toEqual([['parent', 'report']]);
    expect(await s.messages.pending('child')).toEqual([]);
  });

  it('P18 the reference sink delivers into the recipient thread; its next run reads it once as a user message', async () => {
    const s = fresh();
    const sink = storeDurableMessageSink(s.messages);
    await runAgentLoop({
      model: scriptedModel([toParent('found 3 papers'), { text: 'reported' }]),
      supervisor: s,
      threadId: 'child',
      agentId: 'researcher',
      parentThreadId: 'parent',
      durableSink: sink,
    });
    const model = scriptedModel([{ text: 'thanks' }]);
    await runAgentLoop({
      model,
      supervisor: s,
      threadId: 'parent',
      messages: [{ role: 'user', content: 'go' }],
    });
    const delivered = model.requests[0]!.messages[1]!;
    expect(delivered).toEqual({
      role: 'user',
      content: 'found 3 papers',
      visibility: 'all',
      id: delivered.id,
      metadata: { sender_agent_id: 'researcher' },
    });
    expect(delivered.id).toMatch(/^[0-9a-f-]{36}$/);
    const again = scriptedModel([{ text: 'nothing new' }]);
    await runAgentLoop({ model: again, supervisor: s, threadId: 'parent' });
    expect(again.requests[0]!.messages).toEqual([]);
  });

  it('P15 gap 20: a step cancelled while the model answers still closes with stepEnd and dispatches the outbox', async () => {
    const s = fresh();
    const requests: string[] = [];
    let up = false;
    // Down at the first step end, up afterwards: the entry is left for the next step end.
    const sink: DurableMessageSink = {
      async sendAgentMessage(req) {
        if (!up) throw new Error('sink down');
        requests.push(req.message);
        return 'd';
      },
    };
    const controller = new AbortController();
    let n = 0;
    const model: AgentModel = async () => {
      n++;
      if (n === 1) return toParent('survives the cancel');
      up = true;
      controller.abort();
      return new Promise(() => undefined);
    };
    const out = await runAgentLoop({
      model,
      supervisor: s,
      threadId: 'child',
      parentThreadId: 'parent',
      signal: controller.signal,
      durableSink: sink,
    });
    expect(out.termination).toBe('cancelled');
    expect(requests).toEqual(['survives the cancel']);
    expect(await s.messages.pending('child')).toEqual([]);
  });

  it('P15 gap 20: a message queued by a tool of the step that gets cancelled is delivered at that step end', async () => {
    const s = fresh();
    const sink = recordingSink();
    const controller = new AbortController();
    const cancelling = {
      ...spawnTool(s, parked, { toolName: 'cancel_me' }),
      execute: async () => {
        controller.abort();
        return { ok: true as const, data: null };
      },
    };
    const model = scriptedModel([
      {
        toolCalls: [...toParent('queued then cancelled').toolCalls, { id: 'c', name: 'cancel_me', args: {} }],
      },
    ]);
    const out = await runAgentLoop({
      model,
      supervisor: s,
      threadId: 'child',
      parentThreadId: 'parent',
      signal: controller.signal,
      tools: [cancelling],
      durableSink: sink,
    });
    expect(out.termination).toBe('cancelled');
    expect(sink.requests.map((r) => r.message)).toEqual(['queued then cancelled']);
  });

  it('gap 14: aborting a run cancels its tasks and fences the run before the loop resolves cancelled', async () => {
    const s: TaskSupervisor = fresh();
    const controller = new AbortController();
    const model: AgentModel = async () => {
      if (s.list('t').length === 0) return call('spawn_task');
      controller.abort();
      return new Promise(() => undefined);
    };
    const out = await runAgentLoop({
      model,
      supervisor: s,
      threadId: 't',
      runId: 'run-x',
      signal: controller.signal,
      tools: [spawnTool(s, parked)],
    });
    expect(out.termination).toBe('cancelled');
    const [task] = s.list('t');
    // Signalled synchronously: the task is cancelling (or already cancelled) when the run resolves.
    const snap = s.taskActor(task!.task_id)?.getSnapshot();
    expect(snap === undefined || snap.matches({ running: 'cancelling' }) || snap.status === 'done').toBe(
      true,
    );
    expect(snap?.matches({ running: 'active' }) ?? false).toBe(false);
    await expect(s.wait(task!.task_id, { timeoutMs: 5_000 })).resolves.toMatchObject({ status: 'cancelled' });
    await expect(
      s.spawn(
        { threadId: 't', taskType: 't', description: 'late', parentContext: { run_id: 'run-x' } },
        parked,
      ),
    ).rejects.toMatchObject({
      code: 'parent_cancelled',
    });
  });
});
