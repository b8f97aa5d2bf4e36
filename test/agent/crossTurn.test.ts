import { describe, expect, it } from 'vitest';
import {
  cancelTaskTool,
  dispatchOutbox,
  runAgentLoop,
  scriptedModel,
  sendMessageTool,
} from '../../src/agent/index.js';
import type { Message } from '../../src/agent/index.js';
import type { AgentTaskContext, Json, TaskSummary } from '../../src/index.js';
import { dataOf, freshSupervisors, parked, spawnTool } from './helpers.js';

const { fresh } = freshSupervisors();
const CANCEL_RESEARCH = { target: { relation: 'child', name: 'research' } };

/** A parked task of type `taskType` on `threadId`, named `name`, under `parentContext`. */
const spawnParked = (
  s: ReturnType<typeof fresh>,
  threadId: string,
  name: string,
  parentContext: { run_id: string; task_id?: string },
  description: string,
  taskType = 't',
) => s.spawn({ threadId, taskType, description, name, parentContext }, parked);
/** A tool-call context of run `runId` on thread-1. */
const runContext = (runId: string) => ({ threadId: 'thread-1', runId, runController: new AbortController() });

/** The tool results the loop recorded for `toolName`, parsed. */
function toolResults(messages: readonly Message[], callId: string): Json {
  const m = messages.find((x) => x.role === 'tool' && x.toolCallId === callId);
  if (m === undefined) throw new Error(`no tool result for ${callId}`);
  return JSON.parse(m.content) as Json;
}

describe('cross-turn cancel and message in Run scope (documented difference from upstream L11)', () => {
  it('L11x three-turn chat: turn 1 starts a task, turn 3 cancels it by name; another thread task with the same name is untouched', async () => {
    const s = fresh();
    const tools = [spawnTool(s, parked, { name: 'research' }), cancelTaskTool(s)];
    // Another conversation has its own task named 'research'.
    const foreign = await spawnParked(s, 'thread-2', 'research', { run_id: 'run-x' }, 'theirs', 'worker');

    // Turn 1: the model starts the research.
    const turn1 = await runAgentLoop({
      model: scriptedModel([
        { toolCalls: [{ id: 'c1', name: 'spawn_task', args: {} }] },
        { text: 'started' },
      ]),
      supervisor: s,
      threadId: 'thread-1',
      runId: 'run-1',
      tools,
    });
    const started = s.list('thread-1').find((t) => t.status === 'running') as TaskSummary;
    expect(started.parent_context?.run_id).toBe('run-1');

    // Turn 2: small talk, no tools.
    const turn2 = await runAgentLoop({
      model: scriptedModel([{ text: 'it is still running' }]),
      supervisor: s,
      threadId: 'thread-1',
      runId: 'run-2',
      messages: turn1.messages,
      tools,
    });

    // Turn 3: "stop the research you started".
    const turn3 = await runAgentLoop({
      model: scriptedModel([
        { toolCalls: [{ id: 'c3', name: 'cancel_task', args: CANCEL_RESEARCH }] },
        { text: 'stopped' },
      ]),
      supervisor: s,
      threadId: 'thread-1',
      runId: 'run-3',
      messages: turn2.messages,
      tools,
    });
    expect(toolResults(turn3.messages, 'c3')).toEqual({
      status: 'accepted',
      root_task_id: started.task_id,
      cancelled_count: 1,
    });
    expect((await s.wait(started.task_id, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect(s.get(foreign)?.status).toBe('running');
  });

  it('L11x by id too; the current run root wins over an earlier run task; another thread task is never found', async () => {
    const s = fresh();
    const tool = cancelTaskTool(s);
    const earlier = await spawnParked(s, 'thread-1', 'old', { run_id: 'run-1' }, 'e');
    // A task whose id is the name 'old' cannot exist, but a current-run root addressed by id must
    // win: name the current run's root after the earlier task's id.
    const current = await spawnParked(s, 'thread-1', earlier, { run_id: 'run-3' }, 'c');
    const theirs = await spawnParked(s, 'thread-2', 'x', { run_id: 'run-1' }, 'x');
    const ctx = runContext('run-3');
    // `earlier` is the id of the earlier task and the name of the current run's root: the current run wins.
    expect(dataOf(await tool.execute({ target: { relation: 'child', name: earlier } }, ctx))).toMatchObject({
      status: 'accepted',
      root_task_id: current,
    });
    expect(s.get(earlier)?.status).toBe('running');
    // Now only the earlier run has it: found by id.
    await s.wait(current, { timeoutMs: 5_000 });
    expect(dataOf(await tool.execute({ target: { relation: 'child', name: earlier } }, ctx))).toMatchObject({
      status: 'accepted',
      root_task_id: earlier,
    });
    for (const name of [theirs, 'x']) {
      expect(dataOf(await tool.execute({ target: { relation: 'child', name } }, ctx))).toMatchObject({
        status: 'failed',
        error: 'task_not_found',
      });
    }
    expect(s.get(theirs)?.status).toBe('running');
  });

  it('L11x a nested task of an earlier run is not a child of the run: not found by cancel_task', async () => {
    const s = fresh();
    const root = await spawnParked(s, 'thread-1', 'root', { run_id: 'run-1' }, 'r');
    await spawnParked(s, 'thread-1', 'nested', { run_id: 'run-1', task_id: root }, 'n');
    const ctx = runContext('run-2');
    expect(
      dataOf(await cancelTaskTool(s).execute({ target: { relation: 'child', name: 'nested' } }, ctx)),
    ).toMatchObject({
      status: 'failed',
      error: 'task_not_found',
    });
  });

  it('M1x send_message in a later run reaches a sub-agent an earlier run started, by name; never another thread', async () => {
    const s = fresh();
    const echo = async (ctx: AgentTaskContext): Promise<Json> =>
      (await ctx.inboxReceiver.recv(ctx.signal)) ?? null;
    const mine = await s.spawnAgent(
      { threadId: 'thread-1', name: 'helper', description: 'h', parentContext: { run_id: 'run-1' } },
      echo,
    );
    const theirs = await s.spawnAgent(
      { threadId: 'thread-2', name: 'other', description: 'o', parentContext: { run_id: 'run-1' } },
      echo,
    );
    const tool = sendMessageTool(s);
    const ctx = runContext('run-2');
    expect(
      dataOf(await tool.execute({ to: { relation: 'child', name: 'helper' }, message: 'hi' }, ctx)),
    ).toMatchObject({
      status: 'queued',
    });
    // Queued now, delivered when the plugin's stepEnd dispatches the thread's outbox.
    await dispatchOutbox({ supervisor: s, outbox: s.messages, threadId: 'thread-1' });
    expect((await s.wait(mine, { timeoutMs: 5_000 })).status).toBe('completed');
    for (const name of ['other', theirs]) {
      expect(dataOf(await tool.execute({ to: { relation: 'child', name }, message: 'hi' }, ctx))).toEqual({
        message_id: '',
        status: 'failed',
        error: 'recipient_not_found',
      });
    }
    expect(s.get(theirs)?.status).toBe('running');
  });
});
