/**
 * The `cancel_task` and `send_message` tools in the Vercel AI SDK (package `ai`, version 6), through
 * `awaken-tasks/ai-sdk`'s `createTaskTools`. Their `parameters` are plain JSON Schema, handed to the
 * SDK unchanged; the model here is the SDK's own `MockLanguageModelV3` from `ai/test`, so the example runs offline —
 * swap in any provider's model (`openai('gpt-4o')`, …) and nothing else changes.
 *
 * Run it through its test: `npx vitest run examples/vercel-ai.test.ts`, or import `main`.
 */
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { createTaskSupervisor, type TaskSummary, TaskResult } from 'awaken-tasks';
import { dispatchOutbox, type ToolCallContext } from 'awaken-tasks/agent';
import { createTaskTools } from 'awaken-tasks/ai-sdk';

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
  // The runtime's two tools as AI SDK tools, bound to this run (awaken-tasks/ai-sdk).
  const { send_message, cancel_task } = createTaskTools(supervisor, ctx);
  const tools = { send_message, cancel_task };
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
