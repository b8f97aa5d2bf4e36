import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cancelTaskTool, recoverFailedMessagesTool, sendMessageTool } from '../../src/agent/index.js';
import type { ToolDefinition, ToolOutcome } from '../../src/agent/index.js';
import type { Json } from '../../src/index.js';
import { parked, setup } from './helpers.js';

const { supervisor, cleanup } = setup();
afterAll(cleanup);
await supervisor.spawnAgent({ threadId: 'thread-1', name: 'researcher', description: 'r' }, async (ctx) => {
  while ((await ctx.inboxReceiver.recv(ctx.signal)) !== undefined) {
    // Consume whatever the fuzzer delivers until cancelled.
  }
  return null;
});
await supervisor.spawn({ threadId: 'thread-1', taskType: 't', description: 'p', name: 'plain' }, parked);

/** Runs a property with a logged seed (override with FC_SEED) so a failure can be replayed. */
async function check(name: string, prop: fc.IAsyncProperty<[Json]> | fc.IAsyncProperty<[Json, Json]>) {
  const seed =
    process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() ^ (Math.random() * 2 ** 31);
  try {
    await fc.assert(prop as fc.IAsyncProperty<unknown[]>, { seed, numRuns: 300 });
  } catch (e) {
    console.error(`[${name}] fast-check seed ${seed} (replay with FC_SEED=${seed})`);
    throw e;
  }
}

const tools: ToolDefinition[] = [
  cancelTaskTool(supervisor),
  sendMessageTool(supervisor),
  recoverFailedMessagesTool(supervisor),
];
let run = 0;
const contexts = () => [
  { threadId: 'thread-1', agentId: 'a' },
  { threadId: 'thread-fuzz', runId: `fuzz-run-${run++}`, runController: new AbortController() },
  { threadId: 'thread-2', currentTaskId: 'bg_999', parentThreadId: 'p' },
];

/** The outcome is a validation error equal to `validate`, a known execution error, or a receipt. */
function assertShape(tool: ToolDefinition, args: Json, out: ToolOutcome) {
  const msg = tool.validate(args);
  if (msg !== undefined) {
    expect(out).toEqual({ ok: false, error: `Invalid arguments: ${msg}` });
    return;
  }
  if (!out.ok) {
    expect(out.error).toMatch(
      tool.name === 'recover_failed_messages'
        ? /^Invalid arguments: unknown action '/
        : /^Execution failed: current_task_unavailable$/,
    );
    return;
  }
  const data = out.data as Record<string, Json>;
  if (tool.name === 'recover_failed_messages') {
    expect(['list', 'replay', 'clear']).toContain(data.action);
    expect(data.count).toBe(0);
  } else if (tool.name === 'send_message') {
    expect(['queued', 'failed']).toContain(data.status);
    expect(typeof data.message_id).toBe('string');
  } else {
    expect(['accepted', 'failed']).toContain(data.status);
    expect(typeof data.cancelled_count).toBe('number');
  }
}

describe('fuzz: any JSON value as tool arguments', () => {
  for (const tool of tools) {
    it(`L8 M8 ${tool.name}: validate never throws, execute never rejects (any fc.jsonValue())`, async () => {
      await check(
        tool.name,
        fc.asyncProperty(fc.jsonValue() as fc.Arbitrary<Json>, async (args) => {
          for (const ctx of contexts()) assertShape(tool, args, await tool.execute(args, ctx));
        }),
      );
    });

    it(`L8 M8 ${tool.name}: well-shaped envelopes with arbitrary members`, async () => {
      const member = fc.oneof(
        fc.jsonValue(),
        fc.record({
          relation: fc.oneof(fc.constantFrom('self', 'child', 'parent', 'agent'), fc.jsonValue()),
          name: fc.oneof(fc.constantFrom('researcher', 'plain', 'bg_0', 'bg_1'), fc.jsonValue()),
          thread_id: fc.jsonValue(),
          agent_id: fc.jsonValue(),
        }),
      ) as fc.Arbitrary<Json>;
      await check(
        tool.name,
        fc.asyncProperty(member, fc.jsonValue() as fc.Arbitrary<Json>, async (m, message) => {
          const args: Json = tool.name === 'cancel_task' ? { target: m } : { to: m, message };
          for (const ctx of contexts()) assertShape(tool, args, await tool.execute(args, ctx));
        }),
      );
    });
  }

  it('execute with a missing context resolves too', async () => {
    for (const tool of tools) {
      // `{}` is invalid for the two messaging-free tools; for recovery it is the default `list`.
      const expected =
        tool.name === 'recover_failed_messages'
          ? { ok: true, data: { action: 'list', count: 0, messages: [] } }
          : { ok: false };
      await expect(tool.execute({}, undefined as never)).resolves.toMatchObject(expected);
    }
  });
});
