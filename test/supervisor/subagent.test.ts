import { describe, expect, it } from 'vitest';
import { createTaskSupervisor, SendError, TaskResult } from '../../src/index.js';
import type { AgentTaskContext, Json } from '../../src/index.js';
import { gate, opts, parked, setup, until } from '../helpers/async.js';

function sendError(fn: () => void): SendError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SendError);
    return e as SendError;
  }
  throw new Error('expected a SendError');
}

const agent = (extra: Record<string, unknown> = {}) => ({
  threadId: 'thread-1',
  description: 'worker',
  ...extra,
});

/** A sub-agent that answers its first message with `reply(content)`. */
function echo(reply: (content: string) => Json) {
  return async (ctx: AgentTaskContext) => {
    const msg = (await ctx.inboxReceiver.recv(ctx.signal)) as { payload: { content: string } } | undefined;
    if (msg === undefined) return TaskResult.cancelled();
    return reply(msg.payload.content);
  };
}

describe('H. sub-agents and sendTaskInboxMessage', () => {
  it('H1 a parent message reaches the sub-agent inbox in the agent_message shape', async () => {
    const { sup } = setup();
    const g = gate();
    const id = await sup.spawnAgent(agent(), async (ctx) => {
      await g.promise;
      return { got: ctx.inboxReceiver.tryRecv() ?? null };
    });
    expect(sup.sendTaskInboxMessage(id, 'thread-1', 'parent-agent', 'hello from parent')).toBeUndefined();
    g.open();
    const s = await sup.wait(id);
    expect(s.status).toBe('completed');
    expect(s.result).toEqual({
      got: {
        kind: 'custom',
        task_id: id,
        event_type: 'agent_message',
        payload: { from: 'parent-agent', content: 'hello from parent' },
      },
    });
    await sup.stop();
  });

  it('H2 the wrong owner thread is not_owner', async () => {
    const { sup } = setup();
    const id = await sup.spawnAgent(agent(), parked);
    const e = sendError(() => sup.sendTaskInboxMessage(id, 'thread-WRONG', 'p', 'x'));
    expect([e.code, e.message, e.name]).toEqual(['not_owner', 'caller does not own this task', 'SendError']);
    await sup.stop();
  });

  it('H3 a completed sub-agent is task_terminated with status completed', async () => {
    const { sup } = setup();
    const id = await sup.spawnAgent(agent(), () => 'done');
    await sup.wait(id);
    const e = sendError(() => sup.sendTaskInboxMessage(id, 'thread-1', 'p', 'x'));
    expect([e.code, e.message, e.status]).toEqual(['task_terminated', 'task already completed', 'completed']);
    await sup.stop();
  });

  it('H4 an unknown id is task_not_found', async () => {
    const { sup } = setup();
    const e = sendError(() => sup.sendTaskInboxMessage('bg_999', 'thread-1', 'p', 'x'));
    expect([e.code, e.message]).toEqual(['task_not_found', 'task not found']);
    expect(e.status).toBeUndefined();
    await sup.stop();
  });

  it('H5 a plain task is no_inbox', async () => {
    const { sup } = setup();
    const id = await sup.spawn({ ...opts(), threadId: 'thread-1' }, parked);
    const e = sendError(() => sup.sendTaskInboxMessage(id, 'thread-1', 'p', 'x'));
    expect([e.code, e.message]).toEqual(['no_inbox', 'task has no inbox (not a sub-agent)']);
    await sup.stop();
  });

  it('H6 empty content is delivered', async () => {
    const { sup } = setup();
    const id = await sup.spawnAgent(
      agent({ name: 'w' }),
      echo((c) => ({ content: c })),
    );
    sup.sendTaskInboxMessage(id, 'thread-1', 'p', '');
    expect((await sup.wait(id)).result).toEqual({ content: '' });
    await sup.stop();
  });

  it('H7 messages go only to the addressed sub-agent', async () => {
    const { sup } = setup();
    const a = await sup.spawnAgent(
      agent({ name: 'agent-a' }),
      echo(() => ({ got: true })),
    );
    const bg = gate();
    const b = await sup.spawnAgent(agent({ name: 'agent-b' }), async (ctx) => {
      await bg.promise;
      return { got: ctx.inboxReceiver.tryRecv() !== undefined };
    });
    sup.sendTaskInboxMessage(a, 'thread-1', 'p', 'for-a-only');
    expect((await sup.wait(a)).result).toEqual({ got: true });
    bg.open();
    expect((await sup.wait(b)).result).toEqual({ got: false });
    await sup.stop();
  });

  it('H8 a sub-agent running its own supervisor receives its child events', async () => {
    const { sup } = setup();
    const id = await sup.spawnAgent(
      agent({ parentContext: { run_id: 'run-1', agent_id: 'parent' } }),
      async (ctx) => {
        const inner = createTaskSupervisor({ ownerInbox: ctx.inboxSender });
        const child = await inner.spawn(opts(), (c) => {
          c.emit('data_ready', { url: 'example.com' });
        });
        const first = (await ctx.inboxReceiver.recv()) as { event_type?: string };
        await inner.wait(child);
        await inner.stop();
        return { processed: first.event_type === 'data_ready' };
      },
    );
    expect((await sup.wait(id)).result).toEqual({ processed: true });
    expect(sup.hasRunning('thread-1')).toBe(false);
    await sup.stop();
  });

  it('H8 children a sub-agent spawns in the same supervisor report to its own inbox', async () => {
    const { sup, events } = setup();
    const id = await sup.spawnAgent(agent(), async (ctx) => {
      const child = await sup.spawn(opts(), (c) => c.emit('hi'));
      const got = [await ctx.inboxReceiver.recv(), await ctx.inboxReceiver.recv()];
      return { child, kinds: got.map((m) => (m as { kind: string }).kind) };
    });
    const s = await sup.wait(id);
    expect(s.result).toMatchObject({ kinds: ['custom', 'completed'] });
    expect(events()).toEqual([{ kind: 'completed', task_id: id, result: s.result as Json }]);
    await sup.stop();
  });

  it('H9 parent-child roundtrip; a later send is task_terminated', async () => {
    const { sup, events } = setup();
    const id = await sup.spawnAgent(
      agent({ name: 'worker', parentContext: { run_id: 'run-parent', agent_id: 'parent-agent' } }),
      echo((c) => ({ final_result: `completed: ${c}` })),
    );
    sup.sendTaskInboxMessage(id, 'thread-1', 'parent-agent', 'analyze schema drift');
    expect((await sup.wait(id)).result).toEqual({ final_result: 'completed: analyze schema drift' });
    expect(sup.hasRunning('thread-1')).toBe(false);
    expect(events().map((e) => e.kind)).toEqual(['completed']);
    expect(sendError(() => sup.sendTaskInboxMessage(id, 'thread-1', 'p', 'x')).code).toBe('task_terminated');
    await sup.stop();
  });

  it('H10 parallel children are messaged independently', async () => {
    const { sup } = setup();
    const names = ['alpha', 'beta', 'gamma'];
    const ids: string[] = [];
    for (const name of names)
      ids.push(
        await sup.spawnAgent(
          agent({ name }),
          echo((c) => ({ echo: c })),
        ),
      );
    for (const [i, name] of names.entries()) {
      sup.sendTaskInboxMessage(ids[i] as string, 'thread-1', 'p', `task for ${name}`);
    }
    for (const [i, name] of names.entries()) {
      expect((await sup.wait(ids[i] as string)).result).toEqual({ echo: `task for ${name}` });
    }
    expect(sup.hasRunning('thread-1')).toBe(false);
    await sup.stop();
  });

  it('H11 a sub-agent reports its terminal event to the owner inbox', async () => {
    const { sup, events } = setup();
    const id = await sup.spawnAgent(agent(), () => 'ok');
    await sup.wait(id);
    expect(events()).toEqual([{ kind: 'completed', task_id: id, result: 'ok' }]);
    await sup.stop();
  });

  it('H12 spawnAgent records task_type sub_agent; its context has inboxes and no emit', async () => {
    const { sup } = setup();
    const shape = gate<Record<string, string>>();
    const id = await sup.spawnAgent(agent(), (ctx) => {
      shape.open({
        emit: typeof (ctx as unknown as { emit?: unknown }).emit,
        sender: typeof ctx.inboxSender.send,
        receiver: typeof ctx.inboxReceiver.recv,
        signal: String(ctx.signal instanceof AbortSignal),
      });
      return parked(ctx);
    });
    expect(sup.get(id)?.task_type).toBe('sub_agent');
    expect(await shape.promise).toEqual({
      emit: 'undefined',
      sender: 'function',
      receiver: 'function',
      signal: 'true',
    });
    await sup.stop();
  });

  it('H13 check order: not_owner before task_terminated before no_inbox; restored-only is task_not_found', async () => {
    const { sup } = setup();
    const done = await sup.spawnAgent(agent(), () => 1);
    const plainDone = await sup.spawn({ ...opts(), threadId: 'thread-1' }, () => 1);
    await Promise.all([sup.wait(done), sup.wait(plainDone)]);
    expect(sendError(() => sup.sendTaskInboxMessage(done, 'other', 'p', 'x')).code).toBe('not_owner');
    expect(sendError(() => sup.sendTaskInboxMessage(plainDone, 'thread-1', 'p', 'x')).code).toBe(
      'task_terminated',
    );
    await sup.restoreForThread('thread-1', [
      {
        task_id: 'bg_90',
        owner_thread_id: 'thread-1',
        task_type: 'sub_agent',
        description: 'r',
        status: 'completed',
        created_at_ms: 1,
        parent_context: {},
      },
    ]);
    expect(sup.get('bg_90')).toBeDefined();
    expect(sendError(() => sup.sendTaskInboxMessage('bg_90', 'other', 'p', 'x')).code).toBe('task_not_found');
    await sup.stop();
  });

  it('H15 inbox_closed when the live sub-agent closed its receiver', async () => {
    const { sup } = setup();
    const closed = gate();
    const id = await sup.spawnAgent(agent(), async (ctx) => {
      ctx.inboxReceiver.close();
      closed.open();
      return parked(ctx);
    });
    await closed.promise;
    const e = sendError(() => sup.sendTaskInboxMessage(id, 'thread-1', 'p', 'x'));
    expect([e.code, e.message]).toEqual(['inbox_closed', 'sub-agent inbox closed']);
    await sup.stop();
  });

  it('F9 a cancelled sub-agent rejects messages with task_terminated (cancelled)', async () => {
    const { sup } = setup();
    const id = await sup.spawnAgent(agent({ name: 'worker' }), parked);
    sup.sendTaskInboxMessage(id, 'thread-1', 'p', 'before cancel');
    sup.cancel(id);
    await sup.wait(id);
    const e = sendError(() => sup.sendTaskInboxMessage(id, 'thread-1', 'p', 'after cancel'));
    expect([e.code, e.status, e.message]).toEqual(['task_terminated', 'cancelled', 'task already cancelled']);
    await sup.stop();
  });

  it('pinned: a sub-agent inbox is closed for senders when the task ends; messages are not counted', async () => {
    const { sup } = setup();
    const sender = gate<AgentTaskContext['inboxSender']>();
    const id = await sup.spawnAgent(agent(), async (ctx) => {
      sender.open(ctx.inboxSender);
      await ctx.inboxReceiver.recv();
      return 'got it';
    });
    const s = await sender.promise;
    expect(s.isClosed()).toBe(false);
    sup.sendTaskInboxMessage(id, 'thread-1', 'p', 'go');
    await sup.wait(id);
    await until(() => s.isClosed());
    expect(s.send({ late: true })).toBe(false);
    expect(sup.stats()).toMatchObject({ eventsDelivered: 1, eventsUndelivered: 0 });
    await sup.stop();
  });
});
