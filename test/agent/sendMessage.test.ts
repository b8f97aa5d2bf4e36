import { describe, expect, it } from 'vitest';
import { sendMessageTool } from '../../src/agent/index.js';
import type { DurableMessageRequest, DurableMessageSink } from '../../src/agent/index.js';
import { SendError, TaskResult } from '../../src/index.js';
import type { AgentTaskContext, Json, SendErrorCode, TaskSupervisor } from '../../src/index.js';
import { dataOf, parked, freshSupervisors } from './helpers.js';

const { fresh } = freshSupervisors();
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A sub-agent that returns the first message it receives (or null when cancelled). */
const echo = async (ctx: AgentTaskContext): Promise<Json> =>
  (await ctx.inboxReceiver.recv(ctx.signal)) ?? null;

function recordingSink(): DurableMessageSink & { requests: DurableMessageRequest[] } {
  const requests: DurableMessageRequest[] = [];
  return {
    requests,
    async sendAgentMessage(req) {
      requests.push(req);
      return `durable-${requests.length}`;
    },
  };
}
const failed = (error: string) => ({ message_id: '', status: 'failed', error });

describe('send_message (M)', () => {
  it('M1 child by name delivers live; the child gets an agent_message event; message_id is a UUIDv7', async () => {
    const s = fresh();
    const id = await s.spawnAgent({ threadId: 'thread-1', name: 'researcher', description: 'r' }, echo);
    const out = dataOf(
      await sendMessageTool(s, {}).execute(
        { to: { relation: 'child', name: 'researcher' }, message: 'hi' },
        { threadId: 'thread-1', agentId: 'parent' },
      ),
    );
    expect(out.status).toBe('accepted');
    expect(out.message_id).toMatch(UUID_V7);
    expect(Object.keys(out)).toEqual(['message_id', 'status']);
    expect((await s.wait(id, { timeoutMs: 5_000 })).result).toEqual({
      kind: 'custom',
      task_id: id,
      event_type: 'agent_message',
      payload: { from: 'parent', content: 'hi' },
    });
  });

  it('M1 child by task id (C5: an unnamed sub-agent is addressable by id only, not by description)', async () => {
    const s = fresh();
    const id = await s.spawnAgent({ threadId: 'thread-1', description: 'unnamed worker' }, echo);
    const tool = sendMessageTool(s, {});
    const ctx = { threadId: 'thread-1', agentId: 'p' };
    expect(
      dataOf(await tool.execute({ to: { relation: 'child', name: 'unnamed worker' }, message: 'x' }, ctx)),
    ).toEqual(failed('recipient_not_found'));
    expect(
      dataOf(await tool.execute({ to: { relation: 'child', name: id }, message: 'x' }, ctx)).status,
    ).toBe('accepted');
    await s.wait(id, { timeoutMs: 5_000 });
  });

  it('M2 a child of another thread is recipient_not_found, by name and by id (a thread never messages another thread tasks)', async () => {
    const s = fresh();
    const id = await s.spawnAgent({ threadId: 'thread-1', name: 'worker', description: 'w' }, echo);
    const tool = sendMessageTool(s, {});
    for (const name of ['worker', id]) {
      const out = await tool.execute(
        { to: { relation: 'child', name }, message: 'x' },
        { threadId: 'thread-WRONG' },
      );
      expect(dataOf(out)).toEqual(failed('recipient_not_found'));
    }
    expect(s.get(id)?.status).toBe('running');
  });

  it('M3 agent route goes through the durable sink with recipient_agent_id null', async () => {
    const sink = recordingSink();
    const out = await sendMessageTool(fresh(), { durableSink: sink }).execute(
      { to: { relation: 'agent', thread_id: 'thread-2' }, message: 'hello' },
      { threadId: 'thread-1', agentId: 'sender' },
    );
    expect(dataOf(out)).toEqual({ message_id: 'durable-1', status: 'accepted' });
    expect(sink.requests).toEqual([
      {
        recipient_thread_id: 'thread-2',
        recipient_agent_id: null,
        sender_agent_id: 'sender',
        message: 'hello',
      },
    ]);
  });

  it('M4 parent route without a parent thread is recipient_unavailable (with or without parentRunId)', async () => {
    const sink = recordingSink();
    const tool = sendMessageTool(fresh(), { durableSink: sink });
    const args = { to: { relation: 'parent' }, message: 'm' };
    expect(dataOf(await tool.execute(args, { threadId: 't' }))).toEqual(failed('recipient_unavailable'));
    expect(dataOf(await tool.execute(args, { threadId: 't', parentRunId: 'run-parent' }))).toEqual(
      failed('recipient_unavailable'),
    );
    expect(sink.requests).toEqual([]);
  });

  it('M5 parent route with a parent thread delivers durably', async () => {
    const sink = recordingSink();
    const out = await sendMessageTool(fresh(), { durableSink: sink }).execute(
      { to: { relation: 'parent' }, message: 'analysis complete' },
      { threadId: 'thread-child', parentThreadId: 'thread-parent', agentId: 'child-agent' },
    );
    expect(dataOf(out)).toEqual({ message_id: 'durable-1', status: 'accepted' });
    expect(sink.requests).toEqual([
      {
        recipient_thread_id: 'thread-parent',
        recipient_agent_id: null,
        sender_agent_id: 'child-agent',
        message: 'analysis complete',
      },
    ]);
  });

  it('M6 agent route forwards agent_id; an empty agent_id is sent as null', async () => {
    const sink = recordingSink();
    const tool = sendMessageTool(fresh(), { durableSink: sink });
    await tool.execute(
      {
        to: { relation: 'agent', thread_id: 'thread-target', agent_id: 'reviewer' },
        message: 'please review',
      },
      { threadId: 't' },
    );
    await tool.execute(
      { to: { relation: 'agent', thread_id: 'x', agent_id: '' }, message: 'm' },
      { threadId: 't' },
    );
    expect(sink.requests.map((r) => r.recipient_agent_id)).toEqual(['reviewer', null]);
  });

  it('M7 validation accepts the three routes and rejects incomplete ones', () => {
    const tool = sendMessageTool(fresh(), {});
    expect(tool.validate({ to: {}, message: 'hi' })).toBeDefined();
    expect(tool.validate({ to: { relation: 'child' }, message: 'hi' })).toBeDefined();
    expect(tool.validate({ to: { relation: 'agent' }, message: 'hi' })).toBeDefined();
    expect(tool.validate({ to: { relation: 'child', name: 'r' }, message: 'hi' })).toBeUndefined();
    expect(tool.validate({ to: { relation: 'parent' }, message: 'hi' })).toBeUndefined();
    expect(tool.validate({ to: { relation: 'agent', thread_id: 't1' }, message: 'hi' })).toBeUndefined();
  });

  it('M8 validation messages, to checks before the message check; execute renders Invalid arguments', async () => {
    const tool = sendMessageTool(fresh(), {});
    const cases: Array<[unknown, string]> = [
      [{ message: 'hi' }, "missing 'to'"],
      [42, "missing 'to'"],
      [{ to: null, message: 'hi' }, "missing 'to.relation'"],
      [{ to: { relation: 1 } }, "missing 'to.relation'"],
      [{ to: { relation: 'child' } }, "child requires 'name'"],
      [{ to: { relation: 'agent', thread_id: 3 }, message: 'hi' }, "agent requires 'thread_id'"],
      [{ to: { relation: 'team' } }, "unknown relation 'team'"],
      [{ to: { relation: 'parent' } }, "missing 'message'"],
      [{ to: { relation: 'parent' }, message: 5 }, "missing 'message'"],
    ];
    for (const [args, msg] of cases) {
      expect(tool.validate(args)).toBe(msg);
      expect(await tool.execute(args, { threadId: 't' })).toEqual({
        ok: false,
        error: `Invalid arguments: ${msg}`,
      });
    }
  });

  it('§3.25 an unknown relation never reaches delivery: execute validates again (Invalid arguments)', async () => {
    const sink = recordingSink();
    const out = await sendMessageTool(fresh(), { durableSink: sink }).execute(
      { to: { relation: 'team' }, message: 'm' },
      { threadId: 't' },
    );
    expect(out).toEqual({ ok: false, error: "Invalid arguments: unknown relation 'team'" });
    expect(sink.requests).toEqual([]);
  });

  it('M9 SendError codes map to receipt errors', async () => {
    const s = fresh();
    const id = await s.spawnAgent({ threadId: 'thread-1', name: 'w', description: 'w' }, echo);
    const expected: Record<SendErrorCode, string> = {
      task_not_found: 'recipient_not_found',
      not_owner: 'permission_denied',
      task_terminated: 'recipient_unavailable',
      no_inbox: 'recipient_unavailable',
      inbox_closed: 'recipient_unavailable',
    };
    for (const [code, receiptError] of Object.entries(expected) as Array<[SendErrorCode, string]>) {
      const err = code === 'task_terminated' ? new SendError(code, 'completed') : new SendError(code);
      const throwing: TaskSupervisor = Object.create(s, {
        sendTaskInboxMessage: {
          value: () => {
            throw err;
          },
        },
        list: { value: (t: string) => s.list(t) },
        get: { value: (t: string) => s.get(t) },
        persistedSnapshot: { value: () => s.persistedSnapshot() },
      });
      const out = await sendMessageTool(throwing, {}).execute(
        { to: { relation: 'child', name: 'w' }, message: 'm' },
        { threadId: 'thread-1' },
      );
      expect(dataOf(out)).toEqual(failed(receiptError));
    }
    s.cancel(id);
  });

  it('M9 a plain task (no inbox) is recipient_unavailable; id match wins over a name match', async () => {
    const s = fresh();
    const plain = await s.spawn(
      { threadId: 'thread-1', taskType: 'shell', description: 'p', name: 'plain' },
      parked,
    );
    const tool = sendMessageTool(s, {});
    const ctx = { threadId: 'thread-1', agentId: 'a' };
    expect(
      dataOf(await tool.execute({ to: { relation: 'child', name: 'plain' }, message: 'm' }, ctx)),
    ).toEqual(failed('recipient_unavailable'));
    const target = await s.spawnAgent({ threadId: 'thread-1', description: 'by id' }, echo);
    // A different sub-agent whose *name* is the first one's id: the id match wins.
    const impostor = await s.spawnAgent(
      { threadId: 'thread-1', name: target, description: 'impostor' },
      echo,
    );
    expect(
      dataOf(await tool.execute({ to: { relation: 'child', name: target }, message: 'm' }, ctx)).status,
    ).toBe('accepted');
    expect((await s.wait(target, { timeoutMs: 5_000 })).status).toBe('completed');
    expect(s.get(impostor)?.status).toBe('running');
    s.cancel(plain);
    s.cancel(impostor);
  });

  it('§3.21 a child that closed its receiver while running is recipient_unavailable', async () => {
    const s = fresh();
    const id = await s.spawnAgent({ threadId: 'thread-1', name: 'deaf', description: 'd' }, async (ctx) => {
      ctx.inboxReceiver.close();
      await ctx.cancelled();
      return TaskResult.cancelled();
    });
    const tool = sendMessageTool(s, {});
    const out = await tool.execute(
      { to: { relation: 'child', name: 'deaf' }, message: 'm' },
      { threadId: 'thread-1' },
    );
    expect(dataOf(out)).toEqual(failed('recipient_unavailable'));
    s.cancel(id);
  });

  it('§3.22 resolution is live: a task spawned after the tool was made is found; a finished one is not', async () => {
    const s = fresh();
    const tool = sendMessageTool(s, {});
    const ctx = { threadId: 'thread-1' };
    const id = await s.spawnAgent({ threadId: 'thread-1', name: 'late', description: 'l' }, echo);
    expect(
      dataOf(await tool.execute({ to: { relation: 'child', name: 'late' }, message: 'm' }, ctx)).status,
    ).toBe('accepted');
    await s.wait(id, { timeoutMs: 5_000 });
    expect(
      dataOf(await tool.execute({ to: { relation: 'child', name: 'late' }, message: 'm' }, ctx)),
    ).toEqual(failed('recipient_not_found'));
  });

  it('M10 §3.23 sink failure is transport_failed: <e>; no sink is transport_failed: no durable sink configured', async () => {
    const s = fresh();
    const broken: DurableMessageSink = {
      sendAgentMessage: async () => {
        throw new Error('mailbox down');
      },
    };
    const args = { to: { relation: 'agent', thread_id: 't2' }, message: 'm' };
    expect(
      dataOf(await sendMessageTool(s, { durableSink: broken }).execute(args, { threadId: 't' })),
    ).toEqual(failed('transport_failed: mailbox down'));
    expect(dataOf(await sendMessageTool(s, {}).execute(args, { threadId: 't' }))).toEqual(
      failed('transport_failed: no durable sink configured'),
    );
    expect(
      dataOf(
        await sendMessageTool(s, {}).execute(
          { to: { relation: 'parent' }, message: 'm' },
          { threadId: 't', parentThreadId: 'p' },
        ),
      ),
    ).toEqual(failed('transport_failed: no durable sink configured'));
  });

  it('M10 §3.23 a missing agentId is sent as sender_agent_id ""', async () => {
    const sink = recordingSink();
    await sendMessageTool(fresh(), { durableSink: sink }).execute(
      { to: { relation: 'agent', thread_id: 't2' }, message: 'm' },
      { threadId: 't' },
    );
    expect(sink.requests[0]?.sender_agent_id).toBe('');
  });

  it('§3.24 an agent route with thread_id "" passes validation; a non-string message does not', () => {
    const tool = sendMessageTool(fresh(), {});
    expect(tool.validate({ to: { relation: 'agent', thread_id: '' }, message: 'm' })).toBeUndefined();
    expect(tool.validate({ to: { relation: 'agent', thread_id: '' }, message: ['m'] })).toBe(
      "missing 'message'",
    );
  });

  it('§4 descriptor: name, description and schema exactly as BEHAVIORS §4', () => {
    const tool = sendMessageTool(fresh(), {});
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
});
