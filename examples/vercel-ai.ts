/**
 * The `cancel_task` and `send_message` tools in the Vercel AI SDK (package `ai`, version 6).
 * Their `parameters` are plain JSON Schema, so `jsonSchema(parameters)` is all the SDK needs; the
 * model here is the SDK's own `MockLanguageModelV3` from `ai/test`, so the example runs offline —
 * swap in any provider's model (`openai('gpt-4o')`, …) and nothing else changes.
 *
 * Run it through its test: `npx vitest run examples/vercel-ai.test.ts`, or import `main`.
 */
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import type { JSONSchema7, Tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { cancelTaskTool, dispatchOutbox, sendMessageTool } from '../src/agent/index.js';
import type { ToolCallContext, ToolDefinition } from '../src/agent/index.js';
import { TaskResult, createTaskSupervisor, withToolLineage } from '../src/index.js';
import type { Json, TaskSummary } from '../src/index.js';

/**
 * Wraps one of our tools as an AI SDK tool. The SDK hands `execute` the call id; our tool gets the
 * run's context, runs inside the tool lineage (so tasks it spawns carry run and call ids), and its
 * outcome becomes the tool result the model sees: the receipt, or `{ error }`.
 *
 * @example
 * const tools = { cancel_task: toAiTool(cancelTaskTool(supervisor), ctx) };
 */
export function toAiTool(def: ToolDefinition, ctx: ToolCallContext): Tool<unknown, Json> {
  return tool<unknown, Json>({
    description: def.description,
    inputSchema: jsonSchema<unknown>(def.parameters as JSONSchema7),
    execute: async (input, { toolCallId }) => {
      const lineage =
        ctx.runId === undefined ? { call_id: toolCallId } : { run_id: ctx.runId, call_id: toolCallId };
      const out = await withToolLineage(lineage, () => def.execute(input, { ...ctx, callId: toolCallId }));
      return out.ok ? out.data : { error: out.error };
    },
  });
}

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/**
 * What `main` observed, for its test.
 *
 * @example
 * const { toolResults } = await main(); // [{ toolName: 'send_message', … }, { toolName: 'cancel_task', … }]
 */
export interface VercelAiReport {
  text: string;
  toolResults: Array<{ toolName: string; output: unknown }>;
  researcher: TaskSummary;
  crawler: TaskSummary;
  modelCalls: number;
  /** The tools as the provider received them: name → JSON Schema. */
  offeredTools: Record<string, unknown>;
}

/**
 * One `generateText` call in which the model messages a sub-agent and cancels a crawl.
 *
 * @example
 * const report = await main(() => {});
 * report.crawler.status; // 'cancelled'
 */
export async function main(log: (line: string) => void = console.log): Promise<VercelAiReport> {
  const supervisor = createTaskSupervisor();
  const threadId = 'chat-1';
  const runId = 'run-1';
  // Background work the conversation started earlier: a sub-agent that waits for instructions,
  // and a crawl that runs until cancelled. Both are roots of run `run-1`.
  const researcherId = await supervisor.spawnAgent(
    { threadId, name: 'researcher', description: 'literature review', parentContext: { run_id: runId } },
    async (ctx) => ({ instructions: (await ctx.inboxReceiver.recv(ctx.signal)) ?? null }),
  );
  const crawlerId = await supervisor.spawn(
    {
      threadId,
      taskType: 'crawl',
      name: 'crawler',
      description: 'crawl arxiv',
      parentContext: { run_id: runId },
    },
    async (ctx) => {
      await ctx.cancelled();
      return TaskResult.cancelled();
    },
  );

  const ctx: ToolCallContext = {
    threadId,
    runId,
    agentId: 'assistant',
    runController: new AbortController(),
  };
  const tools = {
    send_message: toAiTool(sendMessageTool(supervisor), ctx),
    cancel_task: toAiTool(cancelTaskTool(supervisor), ctx),
  };
  const model = new MockLanguageModelV3({
    doGenerate: [
      {
        content: [
          {
            type: 'tool-call',
            toolCallId: 'call-1',
            toolName: 'send_message',
            input: JSON.stringify({
              to: { relation: 'child', name: 'researcher' },
              message: 'Focus on 2024 papers.',
            }),
          },
          {
            type: 'tool-call',
            toolCallId: 'call-2',
            toolName: 'cancel_task',
            input: JSON.stringify({ target: { relation: 'child', name: 'crawler' } }),
          },
        ],
        finishReason: { unified: 'tool-calls', raw: undefined },
        usage,
        warnings: [],
      },
      {
        content: [{ type: 'text', text: 'Briefed the researcher and stopped the crawl.' }],
        finishReason: { unified: 'stop', raw: undefined },
        usage,
        warnings: [],
      },
    ],
  });

  const result = await generateText({
    model,
    tools,
    stopWhen: stepCountIs(3),
    // send_message only queues: deliver the step's messages when the step ends, as the plugin's loop does.
    onStepFinish: async () => {
      await dispatchOutbox({ supervisor, outbox: supervisor.messages, threadId });
    },
    prompt: 'Tell the researcher to focus on 2024 and stop the crawler.',
  });
  const toolResults = result.steps
    .flatMap((s) => s.toolResults)
    .map((r) => ({ toolName: r.toolName, output: r.output }));
  for (const r of toolResults) log(`${r.toolName} → ${JSON.stringify(r.output)}`);
  log(`model: ${result.text}`);

  const researcher = await supervisor.wait(researcherId, { timeoutMs: 10_000 });
  const crawler = await supervisor.wait(crawlerId, { timeoutMs: 10_000 });
  log(`researcher ${researcher.status}, crawler ${crawler.status}`);
  await supervisor.stop();
  const offeredTools = Object.fromEntries(
    (model.doGenerateCalls[0]?.tools ?? []).map((t) => [
      t.name,
      t.type === 'function' ? t.inputSchema : t.type,
    ]),
  );
  return {
    text: result.text,
    toolResults,
    researcher,
    crawler,
    modelCalls: model.doGenerateCalls.length,
    offeredTools,
  };
}
