import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createBackgroundTasksPlugin,
  messageDeliveryStatus,
  recoverFailedMessagesTool,
  runAgentLoop,
  scriptedModel,
  sendMessageTool,
} from '../../src/agent/index.js';
import type { Message, ToolDefinition } from '../../src/agent/index.js';
import { createInbox, createTaskSupervisor } from '../../src/index.js';
import type { AgentTaskContext, Json, TaskSupervisor } from '../../src/index.js';
import { assertWithSeed, runsFor } from '../property/seed.js';
import { dataOf, freshSupervisors, gate, parked } from './helpers.js';

const { fresh } = freshSupervisors();

/** A sub-agent that records each message it receives until cancelled or its gate opens. */
function recorder(received: string[], done?: Promise<void>) {
  return async (ctx: AgentTaskContext): Promise<Json> => {
    const stop = new AbortController();
    void done?.then(() => stop.abort());
    ctx.signal.addEventListener('abort', () => stop.abort());
    for (;;) {
      const msg = (await ctx.inboxReceiver.recv(stop.signal)) as
        | { payload?: { content?: string } }
        | undefined;
      if (msg === undefined) return received.length;
      received.push(msg.payload?.content ?? '');
    }
  };
}

const eventKinds = (messages: readonly Message[]) =>
  messages.flatMap((m) => {
    const hit = /^<background-task-event kind="([^"]+)" task_id="([^"]+)">/.exec(m.content);
    return hit ? [[hit[1], hit[2]]] : [];
  });

describe('honest delivery: never queued and then dropped (issue 24)', () => {
  it('send_message to a finished task, a plain task and an unknown name says why at once and queues nothing', async () => {
    const s = fresh();
    const tool = sendMessageTool(s);
    const ctx = { threadId: 'thread-1', agentId: 'lead' };
    const done = await s.spawnAgent(
      { threadId: 'thread-1', name: 'researcher', description: 'r' },
      () => 'found',
    );
    await s.wait(done);
    const plain = await s.spawn(
      { threadId: 'thread-1', taskType: 'shell', description: 'p', name: 'build' },
      parked,
    );
    const send = async (name: string) =>
      dataOf(await tool.execute({ to: { relation: 'child', name }, message: 'hi' }, ctx));
    expect(await send('researcher')).toEqual({
      message_id: '',
      status: 'failed',
      error: 'recipient_unavailable',
      reason: 'recipient_finished',
      detail: `task ${done} already completed: it takes no more messages`,
    });
    expect(await send('build')).toMatchObject({
      status: 'failed',
      error: 'recipient_unavailable',
      reason: 'not_sub_agent',
      detail: `task ${plain} is a plain 'shell' task, not a sub-agent: it has no inbox for messages`,
    });
    expect(await send('nobody')).toEqual({ message_id: '', status: 'failed', error: 'recipient_not_found' });
    // The name of a finished task of another thread is still just not found (no leak across threads).
    expect(
      dataOf(
        await tool.execute(
          { to: { relation: 'child', name: 'researcher' }, message: 'x' },
          { threadId: 'other' },
        ),
      ),
    ).toEqual({ message_id: '', status: 'failed', error: 'recipient_not_found' });
    expect(await s.messages.pending('thread-1')).toEqual([]);
    s.cancel(plain);
  });

  it('a recipient that finishes between the call and the step end: dead letter with the reason, an event to the sender, status dead_letter', async () => {
    const inbox = createInbox();
    const s = createTaskSupervisor({ ownerInbox: inbox.sender });
    const stopKid = gate();
    const received: string[] = [];
    const kid = await s.spawnAgent(
      { threadId: 'thread-1', name: 'kid', description: 'k' },
      recorder(received, stopKid.promise),
    );
    // A tool of the same step that lets the kid finish (and waits for it) after send_message queued.
    const finishKid: ToolDefinition = {
      name: 'finish_kid',
      description: 'let the kid finish',
      parameters: { type: 'object', properties: {} },
      validate: () => undefined,
      async execute() {
        stopKid.open();
        await s.wait(kid);
        return { ok: true, data: null };
      },
    };
    const model = scriptedModel([
      {
        toolCalls: [
          {
            id: 'c1',
            name: 'send_message',
            args: { to: { relation: 'child', name: 'kid' }, message: 'too late' },
          },
          { id: 'c2', name: 'finish_kid', args: {} },
        ],
      },
      { text: 'noted' },
    ]);
    const outcome = await runAgentLoop({
      model,
      supervisor: s,
      threadId: 'thread-1',
      tools: [finishKid],
      inbox,
    });
    const receipt = JSON.parse(outcome.messages.find((m) => m.toolCallId === 'c1')!.content) as {
      message_id: string;
      status: string;
    };
    expect(receipt.status).toBe('queued');
    expect(received).toEqual([]);
    // The model's next step saw the dead letter as an event about the kid.
    const seen = model.requests[1]!.messages;
    expect(eventKinds(seen)).toContainEqual(['message_dead_letter', kid]);
    const event = seen.find((m) => m.content.includes('message_dead_letter'))!.content;
    expect(event).toContain(`"message_id":"${receipt.message_id}"`);
    expect(event).toContain('"reason":"recipient_finished"');
    const error = `recipient_finished: task ${kid} already completed: it takes no more messages`;
    expect(await messageDeliveryStatus(s.messages, 'thread-1', receipt.message_id)).toEqual({
      message_id: receipt.message_id,
      status: 'dead_letter',
      error,
    });
    const listed = dataOf(await recoverFailedMessagesTool(s).execute({}, { threadId: 'thread-1' }));
    expect(listed).toEqual({
      action: 'list',
      count: 1,
      messages: [
        {
          message_id: receipt.message_id,
          recipient_thread_id: 'thread-1',
          recipient_agent_id: null,
          error,
          task_id: kid,
        },
      ],
    });
    await s.stop();
  });

  it('delivery status goes queued → delivered for a message the sub-agent reads; unknown ids are unknown', async () => {
    const s = fresh();
    const received: string[] = [];
    const kid = await s.spawnAgent({ threadId: 't', name: 'kid', description: 'k' }, recorder(received));
    const { message_id } = dataOf(
      await sendMessageTool(s).execute(
        { to: { relation: 'child', name: 'kid' }, message: 'hello' },
        { threadId: 't' },
      ),
    ) as { message_id: string };
    expect(await messageDeliveryStatus(s.messages, 't', message_id)).toEqual({
      message_id,
      status: 'queued',
      attempts: 0,
    });
    await createBackgroundTasksPlugin(s).hooks.stepEnd({ threadId: 't' });
    expect(await messageDeliveryStatus(s.messages, 't', message_id)).toEqual({
      message_id,
      status: 'delivered',
    });
    expect(received).toEqual(['hello']);
    expect(await messageDeliveryStatus(s.messages, 't', 'nope')).toEqual({
      message_id: 'nope',
      status: 'unknown',
    });
    await expect(messageDeliveryStatus(s.messages, 't', 5 as never)).rejects.toThrow(
      'Expected `messageId` to be a string, got number',
    );
    s.cancel(kid);
  });

  it('property: every queued message ends delivered (and was read) or a dead letter (and was not), whatever finishes when', async () => {
    await assertWithSeed(
      'no message stays queued',
      fc.asyncProperty(
        fc.array(
          fc.record({
            kid: fc.integer({ min: 0, max: 2 }),
            // When the kid finishes relative to this send: never, before the call, or before the step end.
            finish: fc.constantFrom('never', 'before_call', 'before_dispatch'),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        async (ops) => {
          const s: TaskSupervisor = createTaskSupervisor();
          const tool = sendMessageTool(s);
          const plugin = createBackgroundTasksPlugin(s);
          const received: string[][] = [[], [], []];
          const stops = [gate(), gate(), gate()];
          const ids = await Promise.all(
            [0, 1, 2].map((k) =>
              s.spawnAgent(
                { threadId: 't', name: `kid${k}`, description: 'k' },
                recorder(received[k]!, stops[k]!.promise),
              ),
            ),
          );
          const finish = async (k: number) => {
            stops[k]!.open();
            await s.wait(ids[k]!);
          };
          const queued: Array<{ id: string; kid: number; text: string }> = [];
          for (const [i, op] of ops.entries()) {
            if (op.finish === 'before_call') await finish(op.kid);
            const text = `m${i}`;
            const r = dataOf(
              await tool.execute(
                { to: { relation: 'child', name: ids[op.kid]! }, message: text },
                { threadId: 't' },
              ),
            ) as { status: string; message_id: string; reason?: string };
            if (r.status === 'queued') queued.push({ id: r.message_id, kid: op.kid, text });
            else expect(r.reason).toBe('recipient_finished');
            if (op.finish === 'before_dispatch') await finish(op.kid);
            if (i % 3 === 2) await plugin.hooks.stepEnd({ threadId: 't' });
          }
          await plugin.hooks.stepEnd({ threadId: 't' });
          // Let the live kids read what was delivered, then end them.
          for (const k of [0, 1, 2]) await finish(k);
          for (const q of queued) {
            const status = await messageDeliveryStatus(s.messages, 't', q.id);
            expect(['delivered', 'dead_letter']).toContain(status.status);
            expect(received[q.kid]!.includes(q.text)).toBe(status.status === 'delivered');
          }
          expect(await s.messages.pending('t')).toEqual([]);
          await s.stop();
        },
      ),
      runsFor(40),
    );
  });
});

describe('revival of a finished sub-agent (opt-in by name)', () => {
  it('a finished revivable sub-agent messaged in a later turn answers with knowledge of its earlier result', async () => {
    const inbox = createInbox();
    const s = createTaskSupervisor({ ownerInbox: inbox.sender });
    const spawnResearcher: ToolDefinition = {
      name: 'start_researcher',
      description: 'start the researcher',
      parameters: { type: 'object', properties: {} },
      validate: () => undefined,
      async execute(_args, ctx) {
        const id = await s.spawnAgent(
          { threadId: ctx.threadId, name: 'researcher', description: 'finds numbers' },
          async () => ({ finding: 42 }),
        );
        return { ok: true, data: { task_id: id } };
      },
    };
    const model = scriptedModel([
      { toolCalls: [{ id: 'c1', name: 'start_researcher', args: {} }] },
      { text: 'researching' },
      // Turn 2, woken by the researcher's end: ask it a follow-up although it finished.
      {
        toolCalls: [
          {
            id: 'c2',
            name: 'send_message',
            args: { to: { relation: 'child', name: 'researcher' }, message: 'double it' },
          },
        ],
      },
      { text: 'asked' },
      // Turn 3, woken by the revived researcher's answer.
      { text: 'thanks' },
    ]);
    const outcome = await runAgentLoop({
      model,
      supervisor: s,
      threadId: 'thread-1',
      runId: 'run-1',
      tools: [spawnResearcher],
      inbox,
      untilIdle: { maxTurns: 5 },
      revivable: {
        researcher: async (ctx, previous) => {
          const msg = (await ctx.inboxReceiver.recv(ctx.signal)) as { payload: { content: string } };
          const earlier = (previous.result as { finding: number }).finding;
          return {
            answer: `${msg.payload.content}: ${earlier * 2}`,
            earlier,
            revived_from: previous.task_id,
          };
        },
      },
    });
    expect(outcome.until_idle).toEqual({ turns: 3, stopped_by: 'idle' });
    const receipt = JSON.parse(outcome.messages.find((m) => m.toolCallId === 'c2')!.content) as {
      status: string;
      revived_as: string;
    };
    expect(receipt.status).toBe('queued');
    const [first, second] = s.list('thread-1');
    expect(receipt.revived_as).toBe(second!.task_id);
    expect(second).toMatchObject({
      task_type: 'sub_agent',
      status: 'completed',
      result: { answer: 'double it: 84', earlier: 42, revived_from: first!.task_id },
      // The revived sub-agent keeps the first one's lineage.
      parent_context: { run_id: 'run-1', call_id: 'c1' },
    });
    expect(s.taskName(second!.task_id)).toBe('researcher');
    // Turn 3 saw exactly the revived researcher's answer.
    const last = model.requests[4]!.messages;
    expect(last.at(-1)!.content).toContain('"answer":"double it: 84"');
    await s.stop();
  });

  it('a finished sub-agent whose name is not registered stays finished and the message is refused', async () => {
    const s = fresh();
    const id = await s.spawnAgent({ threadId: 't', name: 'writer', description: 'w' }, () => 'draft');
    await s.wait(id);
    const tool = sendMessageTool(s, { revivable: { researcher: () => null } });
    expect(
      dataOf(
        await tool.execute(
          { to: { relation: 'child', name: 'writer' }, message: 'again' },
          { threadId: 't' },
        ),
      ),
    ).toMatchObject({ status: 'failed', reason: 'recipient_finished' });
    expect(s.list('t')).toHaveLength(1);
  });
});
