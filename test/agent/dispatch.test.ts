import { describe, expect, it } from 'vitest';
import {
  createBackgroundTasksPlugin,
  currentDurableMessageSink,
  dispatchOutbox,
  MAX_DURABLE_ATTEMPTS,
  recoverFailedMessagesTool,
  storeDurableMessageSink,
  withDurableMessageSink,
} from '../../src/agent/index.js';
import type { DurableMessageRequest, DurableMessageSink, OutboxEntry } from '../../src/agent/index.js';
import { MemoryTaskStore } from '../../src/index.js';
import type { AgentTaskContext, Json, TaskSupervisor } from '../../src/index.js';
import { dataOf, freshSupervisors, recordingSink } from './helpers.js';

const { fresh } = freshSupervisors();

const down: DurableMessageSink = {
  sendAgentMessage: async () => {
    throw new Error('sink down');
  },
};
const req = (id: string, thread = 'thread-2'): DurableMessageRequest => ({
  message_id: id,
  recipient_thread_id: thread,
  recipient_agent_id: null,
  sender_agent_id: 'sender',
  message: `text ${id}`,
});
const durable = (id: string): OutboxEntry => ({ id, route: { Durable: req(id) }, attempts: 0 });
/** Entry `c1`: `message` from `sender` to the sub-agent `taskId` of thread-1. */
const toChild = (taskId: string, sender: string, message: string): OutboxEntry => ({
  id: 'c1',
  route: { ChildInbox: { task_id: taskId, owner_thread_id: 'thread-1', sender_agent_id: sender, message } },
  attempts: 0,
});
const echo = async (ctx: AgentTaskContext): Promise<Json> =>
  (await ctx.inboxReceiver.recv(ctx.signal)) ?? null;
const stepEnd = (s: TaskSupervisor, sink?: DurableMessageSink) =>
  createBackgroundTasksPlugin(s, sink ? { durableSink: sink } : {}).hooks.stepEnd({ threadId: 'thread-1' });

describe('stepEnd dispatcher (P10–P16)', () => {
  it('P10 P11 a Durable entry reaches the sink once at step end with its message_id, and the outbox empties', async () => {
    const s = fresh();
    const sink = recordingSink();
    await s.messages.enqueue('thread-1', durable('m1'));
    expect(sink.requests).toEqual([]);
    expect(await stepEnd(s, sink)).toEqual({ has_pending: false });
    expect(sink.requests).toEqual([req('m1')]);
    expect(await s.messages.pending('thread-1')).toEqual([]);
  });

  it('P12 a ChildInbox entry goes to the live sub-agent ({from, content}), never to the sink; also with no sink', async () => {
    for (const sink of [recordingSink(), undefined]) {
      const s = fresh();
      const id = await s.spawnAgent({ threadId: 'thread-1', name: 'kid', description: 'k' }, echo);
      await s.messages.enqueue('thread-1', toChild(id, 'parent', 'hi'));
      await stepEnd(s, sink);
      expect((await s.wait(id, { timeoutMs: 5_000 })).result).toEqual({
        kind: 'custom',
        task_id: id,
        event_type: 'agent_message',
        payload: { from: 'parent', content: 'hi' },
      });
      expect(sink?.requests ?? []).toEqual([]);
      expect(await s.messages.pending('thread-1')).toEqual([]);
      expect(await s.messages.deadLetters('thread-1')).toEqual([]);
    }
  });

  it('P13 (changed, issue 24): a child that ended before dispatch makes the message a dead letter with the reason', async () => {
    const s = fresh();
    const id = await s.spawnAgent({ threadId: 'thread-1', name: 'kid', description: 'k' }, echo);
    await s.messages.enqueue('thread-1', toChild(id, '', 'late'));
    s.cancel(id);
    await s.wait(id, { timeoutMs: 5_000 });
    await stepEnd(s, recordingSink());
    expect(await s.messages.pending('thread-1')).toEqual([]);
    expect(await s.messages.deadLetters('thread-1')).toEqual([
      {
        request: {
          message_id: 'c1',
          recipient_thread_id: 'thread-1',
          recipient_agent_id: null,
          sender_agent_id: '',
          message: 'late',
        },
        error: `recipient_finished: task ${id} already completed: it takes no more messages`,
        task_id: id,
      },
    ]);
  });

  it('P14 at least once: a delivery whose removal never committed is redelivered with the same message_id', async () => {
    const s = fresh();
    const sink = recordingSink();
    await s.messages.enqueue('thread-1', durable('m1'));
    // Simulated crash: the sink delivered, then the process died before the outbox update.
    const crashing = s.messages.remove.bind(s.messages);
    s.messages.remove = async () => {
      throw new Error('crash');
    };
    await expect(
      dispatchOutbox({ supervisor: s, outbox: s.messages, threadId: 'thread-1', sink }),
    ).rejects.toThrow('crash');
    s.messages.remove = crashing;
    await dispatchOutbox({ supervisor: s, outbox: s.messages, threadId: 'thread-1', sink });
    expect(sink.requests.map((r) => r.message_id)).toEqual(['m1', 'm1']);
    expect(await s.messages.pending('thread-1')).toEqual([]);
  });

  it('P15 gap 3: a failed entry moves to the tail with attempts+1, later messages overtake it', async () => {
    const s = fresh();
    const seen: string[] = [];
    const flaky: DurableMessageSink = {
      async sendAgentMessage(r) {
        seen.push(r.message_id);
        if (r.message_id === 'm1') throw new Error('first one fails');
        return 'ok';
      },
    };
    for (const id of ['m1', 'm2', 'm3']) await s.messages.enqueue('thread-1', durable(id));
    await stepEnd(s, flaky);
    expect(seen).toEqual(['m1', 'm2', 'm3']); // one attempt per entry per step end
    expect(await s.messages.pending('thread-1')).toEqual([{ ...durable('m1'), attempts: 1 }]);
  });

  it('P16 the ambient sink: absent outside a scope, visible inside, gone after; it delivers when there is no explicit sink', async () => {
    const s = fresh();
    const ambient = recordingSink();
    expect(currentDurableMessageSink()).toBeUndefined();
    await s.messages.enqueue('thread-1', durable('m1'));
    await withDurableMessageSink(ambient, async () => {
      expect(currentDurableMessageSink()).toBe(ambient);
      await stepEnd(s);
    });
    expect(currentDurableMessageSink()).toBeUndefined();
    expect(ambient.requests).toEqual([req('m1')]);
    expect(await s.messages.deadLetters('thread-1')).toEqual([]);
  });

  it('P16 an explicit sink wins over the ambient one', async () => {
    const s = fresh();
    const ambient = recordingSink();
    const explicit = recordingSink();
    await s.messages.enqueue('thread-1', durable('m1'));
    await withDurableMessageSink(ambient, () => stepEnd(s, explicit));
    expect(explicit.requests.length).toBe(1);
    expect(ambient.requests).toEqual([]);
  });
});

describe('dead letters and recovery (Q)', () => {
  it(`Q1 a sink that always fails: ${MAX_DURABLE_ATTEMPTS} step ends, then exactly one dead letter with the sink's error`, async () => {
    const s = fresh();
    await s.messages.enqueue('thread-1', durable('m1'));
    for (let i = 1; i < MAX_DURABLE_ATTEMPTS; i++) {
      await stepEnd(s, down);
      expect(await s.messages.pending('thread-1')).toEqual([{ ...durable('m1'), attempts: i }]);
      expect(await s.messages.deadLetters('thread-1')).toEqual([]);
    }
    await stepEnd(s, down);
    expect(await s.messages.pending('thread-1')).toEqual([]);
    expect(await s.messages.deadLetters('thread-1')).toEqual([{ request: req('m1'), error: 'sink down' }]);
    expect(await s.messages.deadLetterCount()).toBe(1);
  });

  it('Q2 P16 gap 5: no sink at all dead-letters at once with "no durable transport configured", using no attempt', async () => {
    const s = fresh();
    await s.messages.enqueue('thread-1', durable('m1'));
    await stepEnd(s);
    expect(await s.messages.pending('thread-1')).toEqual([]);
    expect(await s.messages.deadLetters('thread-1')).toEqual([
      { request: req('m1'), error: 'no durable transport configured' },
    ]);
  });

  async function twoDeadLetters(): Promise<TaskSupervisor> {
    const s = fresh();
    for (const id of ['m1', 'm2']) await s.messages.enqueue('thread-1', durable(id));
    for (let i = 0; i < MAX_DURABLE_ATTEMPTS; i++) await stepEnd(s, down);
    expect((await s.messages.deadLetters('thread-1')).length).toBe(2);
    return s;
  }

  it('Q4 descriptor: name, description and schema as upstream; no validate step', () => {
    const tool = recoverFailedMessagesTool(fresh());
    expect(tool.name).toBe('recover_failed_messages');
    expect(tool.description).toBe(
      'Inspect and recover durable messages that failed delivery: list them, replay (re-enqueue all for delivery), or clear them.',
    );
    expect(tool.parameters).toEqual(
      JSON.parse(
        '{"type":"object","properties":{"action":{"type":"string","enum":["list","replay","clear"],"description":"list (default): show dead-lettered messages; replay: re-enqueue all for delivery; clear: discard all"}}}',
      ),
    );
    expect(tool.validate({ action: 'nope' })).toBeUndefined();
  });

  it('Q5 list reports the dead letters (no sender, no text) and changes nothing; a missing/null/non-string action is list', async () => {
    const s = await twoDeadLetters();
    const tool = recoverFailedMessagesTool(s);
    const expected = {
      action: 'list',
      count: 2,
      messages: ['m1', 'm2'].map((id) => ({
        message_id: id,
        recipient_thread_id: 'thread-2',
        recipient_agent_id: null,
        error: 'sink down',
      })),
    };
    for (const args of [{ action: 'list' }, {}, { action: null }, { action: 7 }, null]) {
      expect(dataOf(await tool.execute(args, { threadId: 'thread-1' }))).toEqual(expected);
    }
    expect((await s.messages.deadLetters('thread-1')).length).toBe(2);
  });

  it('Q6 replay re-enqueues both with their ids and a fresh budget, empties the dead letters, and delivers at step end', async () => {
    const s = await twoDeadLetters();
    expect(
      dataOf(await recoverFailedMessagesTool(s).execute({ action: 'replay' }, { threadId: 'thread-1' })),
    ).toEqual({ action: 'replay', count: 2 });
    expect(await s.messages.deadLetters('thread-1')).toEqual([]);
    expect(await s.messages.pending('thread-1')).toEqual([durable('m1'), durable('m2')]);
    const sink = recordingSink();
    await stepEnd(s, sink);
    expect(sink.requests.map((r) => r.message_id)).toEqual(['m1', 'm2']);
  });

  it('Q7 clear discards without enqueueing', async () => {
    const s = await twoDeadLetters();
    expect(
      dataOf(await recoverFailedMessagesTool(s).execute({ action: 'clear' }, { threadId: 'thread-1' })),
    ).toEqual({ action: 'clear', count: 2 });
    expect(await s.messages.deadLetters('thread-1')).toEqual([]);
    expect(await s.messages.pending('thread-1')).toEqual([]);
  });

  it('Q8 an unknown action is Invalid arguments: unknown action', async () => {
    const out = await recoverFailedMessagesTool(fresh()).execute(
      { action: 'nope' },
      { threadId: 'thread-1' },
    );
    expect(out).toEqual({ ok: false, error: "Invalid arguments: unknown action 'nope'" });
  });

  it('Q3 gap 8: dead letters are per thread; recovery on one thread leaves another thread alone', async () => {
    const s = await twoDeadLetters();
    await s.messages.enqueue('thread-9', durable('m9'));
    await createBackgroundTasksPlugin(s).hooks.stepEnd({ threadId: 'thread-9' });
    await recoverFailedMessagesTool(s).execute({ action: 'clear' }, { threadId: 'thread-1' });
    expect((await s.messages.deadLetters('thread-9')).map((l) => l.request.message_id)).toEqual(['m9']);
  });
});

describe('reference durable sink (P18, gap 6)', () => {
  it('P18 delivering returns a non-empty dispatch id; the recipient thread gets the message once, id-addressed, with its sender', async () => {
    const store = new MemoryTaskStore();
    const sink = storeDurableMessageSink(store.messages);
    const first = await sink.sendAgentMessage({ ...req('m1'), sender_agent_id: 'sender-agent' });
    expect(first).not.toBe('');
    expect(await sink.sendAgentMessage({ ...req('m1'), sender_agent_id: 'sender-agent' })).toBe(first);
    expect(await store.messages.delivered('thread-2')).toEqual([
      { ...req('m1'), sender_agent_id: 'sender-agent', dispatch_id: first },
    ]);
  });

  it('P18 errors when the store is closed (a failed attempt, no throw out of the dispatcher)', async () => {
    const store = new MemoryTaskStore();
    await store.close();
    await expect(storeDurableMessageSink(store.messages).sendAgentMessage(req('m1'))).rejects.toThrow(
      /closed/,
    );
  });
});
