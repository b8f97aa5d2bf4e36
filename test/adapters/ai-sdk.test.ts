import { jsonSchema, type ToolSet } from 'ai';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  backgroundTaskTool,
  createTaskTools,
  inboxEventsToModelMessages,
} from '../../src/adapters/ai-sdk/index.js';
import { createInbox, createTaskSupervisor, TaskResult } from '../../src/index.js';
import { gate } from '../helpers/async.js';

const exec = { toolCallId: 'call-7', messages: [] };
const schema = jsonSchema<{ q: string }>({ type: 'object', properties: { q: { type: 'string' } } });

describe('awaken-tasks/ai-sdk', () => {
  it('inboxEventsToModelMessages merges each task’s custom events into one message, in first-seen order', () => {
    const custom = (task_id: string, n: number) => ({
      kind: 'custom',
      task_id,
      event_type: 'progress',
      payload: { n },
    });
    const messages = inboxEventsToModelMessages([
      custom('bg_0', 1),
      custom('bg_1', 1),
      custom('bg_0', 2),
      { kind: 'completed', task_id: 'bg_1', result: 'ok' },
      custom('bg_0', 3),
      { kind: 'messages', messages: [{ role: 'user', content: 'steer' }] },
    ]);
    expect(messages.map((m) => m.content)).toEqual([
      '<background-task-progress task_id="bg_0" events="3">\n{"event_type":"progress","payload":{"n":1}}\n{"event_type":"progress","payload":{"n":2}}\n{"event_type":"progress","payload":{"n":3}}\n</background-task-progress>',
      '<background-task-progress task_id="bg_1" events="1">\n{"event_type":"progress","payload":{"n":1}}\n</background-task-progress>',
      '<background-task-event kind="completed" task_id="bg_1">\n{"kind":"completed","result":"ok","task_id":"bg_1"}\n</background-task-event>',
      'steer',
    ]);
    expect(messages.every((m) => m.role === 'user')).toBe(true);
  });

  it('inboxEventsToModelMessages keeps the latest maxEventsPerTask events and counts the rest; escapes ids', () => {
    const events = [1, 2, 3, 4].map((n) => ({ kind: 'custom', task_id: 'a"b', event_type: 'p', payload: n }));
    const [m] = inboxEventsToModelMessages(events, { maxEventsPerTask: 2 });
    expect(m?.content).toBe(
      '<background-task-progress task_id="a&quot;b" events="4">\n(2 earlier events omitted)\n{"event_type":"p","payload":3}\n{"event_type":"p","payload":4}\n</background-task-progress>',
    );
    expect(() => inboxEventsToModelMessages('x' as never)).toThrow(
      'Expected `events` to be an array, got string',
    );
    expect(() => inboxEventsToModelMessages([], { maxEventsPerTask: 0 })).toThrow(TypeError);
  });

  it('backgroundTaskTool spawns with the tool-call lineage, returns a receipt, and cancel_task finds the task', async () => {
    const inbox = createInbox();
    const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
    const context = { threadId: 't1', runId: 'run-1', agentId: 'bot', runController: new AbortController() };
    const body = gate<string>();
    const search = backgroundTaskTool({
      supervisor,
      context,
      name: 'search',
      description: 'search',
      inputSchema: schema,
      run: async ({ q }, ctx) => {
        body.open(`${ctx.toolCallId}:${q}`);
        ctx.emit('progress', { q });
        await ctx.cancelled();
        return TaskResult.cancelled();
      },
    });
    const receipt = await search.execute!({ q: 'otters' }, exec);
    expect(receipt).toMatchObject({ status: 'started', task_id: 'bg_0', name: 'search' });
    expect((receipt as { message: string }).message).toContain(
      '{"target":{"relation":"child","name":"bg_0"}}',
    );
    expect(await body.promise).toBe('call-7:otters');
    expect(supervisor.get('bg_0')).toMatchObject({
      task_type: 'search',
      description: 'search {"q":"otters"}',
      parent_context: { run_id: 'run-1', call_id: 'call-7', agent_id: 'bot' },
    });
    const { cancel_task } = createTaskTools(supervisor, context);
    const cancelled = await cancel_task.execute!({ target: { relation: 'child', name: 'bg_0' } }, exec);
    expect(cancelled).toEqual({ status: 'accepted', root_task_id: 'bg_0', cancelled_count: 1 });
    expect((await supervisor.wait('bg_0')).status).toBe('cancelled');
    expect(inbox.receiver.drain().map((e) => (e as { kind: string }).kind)).toEqual(['custom', 'cancelled']);
    await supervisor.stop();
  });

  it('a refused spawn is an { error } for the model, never a throw; bad tool input is an error text', async () => {
    const supervisor = createTaskSupervisor();
    const context = { threadId: 't1', runId: 'run-1' };
    const tool = backgroundTaskTool({
      supervisor,
      context,
      name: 'search',
      description: 'search',
      inputSchema: schema,
      taskName: () => 'only-one',
      run: (_input, ctx) => ctx.cancelled(),
    });
    await tool.execute!({ q: 'a' }, exec);
    const second = await tool.execute!({ q: 'b' }, exec);
    expect(second).toEqual({ error: expect.stringMatching(/^Execution failed: .*only-one/) });
    const { send_message } = createTaskTools(supervisor, context);
    expect(await send_message.execute!({ to: 42 }, exec)).toEqual({
      error: expect.stringMatching(/^Invalid arguments: /),
    });
    supervisor.cancelAll('t1');
    await supervisor.stop();
  });

  it('bad arguments are TypeErrors', () => {
    const supervisor = createTaskSupervisor();
    expect(() => createTaskTools({} as never, { threadId: 't' })).toThrow(TypeError);
    expect(() => createTaskTools(supervisor, { threadId: 1 } as never)).toThrow(
      'Expected `context.threadId` to be a string, got number',
    );
    expect(() =>
      backgroundTaskTool({
        supervisor,
        context: { threadId: 't' },
        name: '',
        description: '',
        inputSchema: schema,
        run: () => 1,
      }),
    ).toThrow('Expected `options.name` to be a non-empty string, got ""');
  });
});

describe('createTaskTools types', () => {
  it('its result is an AI SDK ToolSet as it is (no spread needed for generateText)', () => {
    const supervisor = createTaskSupervisor();
    const tools = createTaskTools(supervisor, { threadId: 't' });
    expectTypeOf(tools).toExtend<ToolSet>();
    const asToolSet: ToolSet = tools;
    expect(Object.keys(asToolSet).sort()).toEqual(['cancel_task', 'send_message']);
  });
});
