import { describe, expect, it } from 'vitest';
import { createBackgroundTasksPlugin, sendMessageTool } from '../../src/agent/index.js';
import type { OutboxEntry } from '../../src/agent/index.js';
import { MemoryTaskStore, createTaskSupervisor } from '../../src/index.js';
import type { AgentTaskContext, Json } from '../../src/index.js';
import { dataOf, freshSupervisors, parked, recordingSink } from './helpers.js';

const { fresh, defer } = freshSupervisors();
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A sub-agent that returns the first message it receives (or null when cancelled). */
const echo = async (ctx: AgentTaskContext): Promise<Json> =>
  (await ctx.inboxReceiver.recv(ctx.signal)) ?? null;

const failed = (error: string) => ({ message_id: '', status: 'failed', error });

describe('send_message queues into the outbox (P)', () => {
  it('P1 child by name: queued with a UUIDv7, nothing delivered yet, one ChildInbox entry', async () => {
    const s = fresh();
    const id = await s.spawnAgent({ threadId: 'thread-1', name: 'researcher', description: 'r' }, echo);
    const out = dataOf(
      await sendMessageTool(s).execute(
        { to: { relation: 'child', name: 'researcher' }, message: 'hi' },
        { threadId: 'thread-1', agentId: 'parent' },
      ),
    );
    expect(out).toEqual({ message_id: out.message_id, status: 'queued' });
    expect(out.message_id).toMatch(UUID_V7);
    expect(s.get(id)?.status).toBe('running'); // not delivered during the tool call
    expect(await s.messages.pending('thread-1')).toEqual([
      {
        id: out.message_id,
        route: {
          ChildInbox: { owner_thread_id: 'thread-1', sender_agent_id: 'parent', message: 'hi', task_id: id },
        },
        attempts: 0,
      },
    ]);
    s.cancel(id);
  });

  it('P2 a child of another thread is recipient_not_found, by name and by id, and nothing is enqueued', async () => {
    const s = fresh();
    const id = await s.spawnAgent({ threadId: 'thread-1', name: 'worker', description: 'w' }, echo);
    for (const name of ['worker', id]) {
      const out = await sendMessageTool(s).execute(
        { to: { relation: 'child', name }, message: 'x' },
        { threadId: 'thread-WRONG' },
      );
      expect(dataOf(out)).toEqual(failed('recipient_not_found'));
    }
    expect(await s.messages.pending('thread-WRONG')).toEqual([]);
    expect(await s.messages.pending('thread-1')).toEqual([]);
    s.cancel(id);
  });

  it('P2 (changed, issue 24) a finished task is not a recipient and the answer says it finished; an unnamed sub-agent is addressable by id only', async () => {
    const s = fresh();
    const tool = sendMessageTool(s);
    const ctx = { threadId: 'thread-1' };
    const id = await s.spawnAgent({ threadId: 'thread-1', description: 'unnamed worker' }, echo);
    expect(
      dataOf(await tool.execute({ to: { relation: 'child', name: 'unnamed worker' }, message: 'x' }, ctx)),
    ).toEqual(failed('recipient_not_found'));
    expect(
      dataOf(await tool.execute({ to: { relation: 'child', name: id }, message: 'x' }, ctx)).status,
    ).toBe('queued');
    s.cancel(id);
    await s.wait(id, { timeoutMs: 5_000 });
    // Changed (issue 24): a finished task of the caller's thread is named as such, not "not found".
    expect(dataOf(await tool.execute({ to: { relation: 'child', name: id }, message: 'x' }, ctx))).toEqual({
      message_id: '',
      status: 'failed',
      error: 'recipient_unavailable',
      reason: 'recipient_finished',
      detail: `task ${id} already completed: it takes no more messages`,
    });
    // Only the message queued while it ran is pending; the refused one was never enqueued.
    expect(await s.messages.pending('thread-1')).toHaveLength(1);
  });

  it('P3 agent route: one Durable entry; agent_id is routed; an empty agent_id is null', async () => {
    const s = fresh();
    const tool = sendMessageTool(s);
    const a = dataOf(
      await tool.execute(
        { to: { relation: 'agent', thread_id: 'thread-2' }, message: 'hello' },
        { threadId: 'thread-1', agentId: 'sender' },
      ),
    );
    const b = dataOf(
      await tool.execute(
        { to: { relation: 'agent', thread_id: 'thread-2', agent_id: 'reviewer' }, message: 'r' },
        { threadId: 'thread-1', agentId: 'sender' },
      ),
    );
    await tool.execute(
      { to: { relation: 'agent', thread_id: 'x', agent_id: '' }, message: 'e' },
      { threadId: 'thread-1' },
    );
    const pending = await s.messages.pending('thread-1');
    expect(pending[0]).toEqual({
      id: a.message_id,
      route: {
        Durable: {
          message_id: a.message_id,
          recipient_thread_id: 'thread-2',
          recipient_agent_id: null,
          sender_agent_id: 'sender',
          message: 'hello',
        },
      },
      attempts: 0,
    });
    const agents = pending.map((e) => ('Durable' in e.route ? e.route.Durable.recipient_agent_id : 'child'));
    expect(agents).toEqual([null, 'reviewer', null]);
    expect(pending[1]?.id).toBe(b.message_id);
    // P6: a missing agentId is sender_agent_id ''.
    expect('Durable' in pending[2]!.route && pending[2]!.route.Durable.sender_agent_id).toBe('');
  });

  it('P4 parent route: Durable to the parent thread; no parent thread (even with a parent run) is recipient_unavailable', async () => {
    const s = fresh();
    const tool = sendMessageTool(s);
    const args = { to: { relation: 'parent' }, message: 'analysis complete' };
    const out = dataOf(
      await tool.execute(args, {
        threadId: 'thread-child',
        parentThreadId: 'thread-parent',
        agentId: 'child-agent',
      }),
    );
    expect(out.status).toBe('queued');
    expect((await s.messages.pending('thread-child')).map((e) => e.route)).toEqual([
      {
        Durable: {
          message_id: out.message_id,
          recipient_thread_id: 'thread-parent',
          recipient_agent_id: null,
          sender_agent_id: 'child-agent',
          message: 'analysis complete',
        },
      },
    ]);
    expect(dataOf(await tool.execute(args, { threadId: 't' }))).toEqual(failed('recipient_unavailable'));
    expect(dataOf(await tool.execute(args, { threadId: 't', parentRunId: 'run-parent' }))).toEqual(
      failed('recipient_unavailable'),
    );
    expect(await s.messages.pending('t')).toEqual([]);
  });

  it('P5 P6 each call mints a fresh UUIDv7 that is the entry id, the request message_id and the receipt id', async () => {
    const s = fresh();
    const tool = sendMessageTool(s);
    const ids = new Set<Json>();
    for (let i = 0; i < 5; i++) {
      const out = dataOf(
        await tool.execute(
          { to: { relation: 'agent', thread_id: 't2' }, message: `m${i}` },
          { threadId: 't' },
        ),
      );
      expect(Object.keys(out)).toEqual(['message_id', 'status']);
      ids.add(out.message_id as Json);
    }
    expect(ids.size).toBe(5);
    const pending = await s.messages.pending('t');
    expect(pending.map((e) => e.id)).toEqual([...ids]);
    expect(pending.map((e) => ('Durable' in e.route ? e.route.Durable.message_id : ''))).toEqual([...ids]);
  });

  it('P5 queued means durable: a store that cannot write gives Execution failed, never queued', async () => {
    const store = new MemoryTaskStore();
    const supervisor = createTaskSupervisor({ store });
    defer(() => supervisor.stop());
    store.messages.enqueue = async () => {
      throw new Error('disk full');
    };
    const out = await sendMessageTool(supervisor).execute(
      { to: { relation: 'agent', thread_id: 't2' }, message: 'm' },
      { threadId: 't' },
    );
    expect(out).toEqual({ ok: false, error: 'Execution failed: disk full' });
  });

  it("P5 the outbox is the store's: entries written through a SQLite-less MemoryTaskStore are in store.messages", async () => {
    const store = new MemoryTaskStore();
    const supervisor = createTaskSupervisor({ store });
    defer(() => supervisor.stop());
    await sendMessageTool(supervisor).execute(
      { to: { relation: 'agent', thread_id: 't2' }, message: 'm' },
      { threadId: 't' },
    );
    expect((await store.messages.pending('t')).length).toBe(1);
  });

  it('P7 execute validates first: invalid arguments are a tool error, not a receipt (M8 messages)', async () => {
    const s = fresh();
    const tool = sendMessageTool(s);
    const cases: Array<[unknown, string]> = [
      [{ message: 'hi' }, "missing 'to'"],
      [42, "missing 'to'"],
      [{ to: null, message: 'hi' }, "missing 'to.relation'"],
      [{ to: { relation: 1 } }, "missing 'to.relation'"],
      [{ to: { relation: 'child' } }, "child requires 'name'"],
      [{ to: { relation: 'agent', thread_id: 3 }, message: 'hi' }, "agent requires 'thread_id'"],
      [{ to: { relation: 'team' }, message: 'm' }, "unknown relation 'team'"],
      [{ to: { relation: 'parent' } }, "missing 'message'"],
      [{ to: { relation: 'parent' }, message: 5 }, "missing 'message'"],
    ];
    for (const [args, msg] of cases) {
      expect(tool.validate(args)).toBe(msg);
      expect(await tool.execute(args, { threadId: 't', parentThreadId: 'p' })).toEqual({
        ok: false,
        error: `Invalid arguments: ${msg}`,
      });
    }
    expect(await s.messages.pending('t')).toEqual([]);
  });

  it('P7 validation accepts the three routes and rejects incomplete ones', () => {
    const tool = sendMessageTool(fresh());
    expect(tool.validate({ to: {}, message: 'hi' })).toBeDefined();
    expect(tool.validate({ to: { relation: 'child' }, message: 'hi' })).toBeDefined();
    expect(tool.validate({ to: { relation: 'agent' }, message: 'hi' })).toBeDefined();
    expect(tool.validate({ to: { relation: 'child', name: 'r' }, message: 'hi' })).toBeUndefined();
    expect(tool.validate({ to: { relation: 'parent' }, message: 'hi' })).toBeUndefined();
    expect(tool.validate({ to: { relation: 'agent', thread_id: 't1' }, message: 'hi' })).toBeUndefined();
  });

  it('P8 descriptor: name, description and schema exactly as 0.4', () => {
    const tool = sendMessageTool(fresh());
    expect(tool.name).toBe('send_message');
    expect(tool.description).toBe('Send a message to a child task, parent agent, or team member.');
    expect(tool.parameters).toEqual(
      JSON.parse(`{"type":"object","properties":{
  "to":{"oneOf":[
    {"type":"object","properties":{"relation":{"const":"parent"}},"required":["relation"]},
    {"type":"object","properties":{"relation":{"const":"child"},"name":{"type":"string","description":"Task name or ID"}},"required":["relation","name"]},
    {"type":"object","properties":{"relation":{"const":"agent"},"thread_id":{"type":"string"},"agent_id":{"type":"string"}},"required":["relation","thread_id"]}]},
  "message":{"type":"string"}},
 "required":["to","message"]}`),
    );
  });

  it('P9 send_message is registered with a sink and without one', () => {
    const sink = recordingSink();
    for (const plugin of [
      createBackgroundTasksPlugin(fresh()),
      createBackgroundTasksPlugin(fresh(), { durableSink: sink }),
    ]) {
      expect(plugin.tools.some((t) => t.name === 'send_message')).toBe(true);
    }
  });

  it('P1 (changed, issue 24) a plain task (no inbox) is refused at tool time with why; nothing is queued', async () => {
    const s = fresh();
    const plain = await s.spawn(
      { threadId: 'thread-1', taskType: 'shell', description: 'p', name: 'plain' },
      parked,
    );
    const out = dataOf(
      await sendMessageTool(s).execute(
        { to: { relation: 'child', name: 'plain' }, message: 'm' },
        { threadId: 'thread-1' },
      ),
    );
    expect(out).toEqual({
      message_id: '',
      status: 'failed',
      error: 'recipient_unavailable',
      reason: 'not_sub_agent',
      detail: `task ${plain} is a plain 'shell' task, not a sub-agent: it has no inbox for messages`,
    });
    expect(await s.messages.pending('thread-1')).toEqual([] as OutboxEntry[]);
    s.cancel(plain);
  });
});
