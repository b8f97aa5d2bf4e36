/**
 * The `streamUntilIdle` scenario shared by the AI SDK 6 and 7 tests: a mock streaming model starts
 * two background tasks in turn 1; task A ends while turn 1 finishes, task B while the continuation
 * turn for A runs. Imports `ai` / `ai/test` statically, so a test file's `vi.mock('ai', …)`
 * decides which SDK runs it.
 */
import {
  jsonSchema,
  readUIMessageStream,
  stepCountIs,
  streamText,
  ToolLoopAgent,
  type ToolSet,
  type UIMessageChunk,
} from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import {
  backgroundTaskTool,
  type StreamUntilIdleOptions,
  type StreamUntilIdleOutcome,
  streamUntilIdle,
  type TaskCard,
} from '../../src/adapters/ai-sdk/index.js';
import { createInbox, createTaskSupervisor } from '../../src/index.js';
import { gate } from '../helpers/async.js';

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

type Step = { text: string } | { calls: Array<{ name: string; input: unknown }> };

/** A mock model streaming the next scripted step per call; `onCall(n, prompt)` runs first. */
export function scriptedStreamingModel(
  steps: Array<(prompt: string) => Step>,
  onCall: (n: number, prompt: string) => void = () => {},
) {
  const prompts: string[] = [];
  const model = new MockLanguageModelV3({
    doStream: async ({ prompt }) => {
      const text = JSON.stringify(prompt);
      prompts.push(text);
      onCall(prompts.length, text);
      const step = steps.shift();
      if (step === undefined) throw new Error(`script exhausted at call ${prompts.length}`);
      const out = step(text);
      const parts =
        'text' in out
          ? [
              { type: 'text-start' as const, id: `t${prompts.length}` },
              { type: 'text-delta' as const, id: `t${prompts.length}`, delta: out.text },
              { type: 'text-end' as const, id: `t${prompts.length}` },
              { type: 'finish' as const, finishReason: { unified: 'stop' as const, raw: undefined }, usage },
            ]
          : [
              ...out.calls.map((c, i) => ({
                type: 'tool-call' as const,
                toolCallId: `call-${prompts.length}-${i}`,
                toolName: c.name,
                input: JSON.stringify(c.input),
              })),
              {
                type: 'finish' as const,
                finishReason: { unified: 'tool-calls' as const, raw: undefined },
                usage,
              },
            ];
      return {
        stream: convertArrayToReadableStream([{ type: 'stream-start' as const, warnings: [] }, ...parts]),
      };
    },
  });
  return { model, prompts };
}

/**
 * Runs `streamUntilIdle` to its end, each turn a `streamText` call (three steps at most) of `model`
 * with `tools`, and collects every chunk (with `snapshot`, a deep copy of each as it arrives). The
 * outcome is the one `onFinish` reports, `undefined` when `options` brings its own `onFinish`.
 */
export async function streamToEnd(
  model: ReturnType<typeof scriptedStreamingModel>['model'],
  tools: ToolSet,
  options: Omit<StreamUntilIdleOptions, 'stream'>,
  snapshot = false,
): Promise<{ outcome: StreamUntilIdleOutcome | undefined; chunks: UIMessageChunk[] }> {
  let outcome: StreamUntilIdleOutcome | undefined;
  const stream = streamUntilIdle({
    stream: ({ messages, abortSignal }) =>
      streamText({ model, tools, messages, stopWhen: stepCountIs(3), abortSignal }),
    onFinish: (o) => {
      outcome = o;
    },
    ...options,
  });
  const chunks: UIMessageChunk[] = [];
  for await (const c of stream as unknown as AsyncIterable<UIMessageChunk>)
    chunks.push(snapshot ? structuredClone(c) : c);
  return { outcome, chunks };
}

/** What the scenario observed. */
export interface ScenarioReport {
  chunks: UIMessageChunk[];
  /** The UI message `useChat` would hold at the end. */
  final: { parts: Array<{ type: string; id?: string; data?: unknown; text?: string }> };
  prompts: string[];
  outcome: StreamUntilIdleOutcome;
  ids: { a: string; b: string };
}

/**
 * Turn 1 starts tasks A and B; A ends as turn 1 finishes, B during turn 2 (the continuation for A).
 * Each turn is a `streamText` call, or a `ToolLoopAgent`'s `stream`.
 */
export async function runTwoTaskScenario(
  via: 'streamText' | 'agent' = 'streamText',
): Promise<ScenarioReport> {
  const inbox = createInbox();
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
  const context = { threadId: 'chat-1', runId: 'run-1', agentId: 'assistant' };
  const gates = { a: gate<void>(), b: gate<void>() };
  const research = backgroundTaskTool({
    supervisor,
    context,
    name: 'research',
    description: 'Research a topic in the background.',
    inputSchema: jsonSchema<{ topic: 'a' | 'b' }>({
      type: 'object',
      properties: { topic: { type: 'string', enum: ['a', 'b'] } },
      required: ['topic'],
    }),
    run: async ({ topic }, task) => {
      task.emit('progress', { topic, percent: 50 });
      await gates[topic].promise;
      task.emit('progress', { topic, percent: 100 });
      return { topic, findings: `all about ${topic}` };
    },
  });
  const { model, prompts } = scriptedStreamingModel(
    [
      () => ({
        calls: [
          { name: 'research', input: { topic: 'a' } },
          { name: 'research', input: { topic: 'b' } },
        ],
      }),
      () => ({ text: 'Started both.' }),
      () => ({ text: 'A is done.' }),
      () => ({ text: 'B is done.' }),
    ],
    (n) => {
      // Turn 1's second step: task A may end now (during or after turn 1). Turn 2: task B ends.
      if (n === 2) gates.a.open();
      if (n === 3) gates.b.open();
    },
  );
  let outcome: StreamUntilIdleOutcome | undefined;
  const stream = streamUntilIdle({
    supervisor,
    threadId: 'chat-1',
    inbox: inbox.receiver,
    messages: [{ role: 'user', content: 'Research a and b.' }],
    stream: ({ messages, abortSignal }) =>
      via === 'agent'
        ? new ToolLoopAgent({ model, tools: { research }, stopWhen: stepCountIs(3) }).stream({
            messages,
            abortSignal,
          })
        : streamText({ model, tools: { research }, messages, stopWhen: stepCountIs(3), abortSignal }),
    onFinish: (o) => {
      outcome = o;
    },
  });
  const [forChunks, forMessage] = stream.tee();
  const chunks: UIMessageChunk[] = [];
  const collect = (async () => {
    // A copy: reading the message reuses the first chunk of a part as the part and rewrites it.
    for await (const c of forChunks as unknown as AsyncIterable<UIMessageChunk>)
      chunks.push(structuredClone(c));
  })();
  let final: ScenarioReport['final'] | undefined;
  for await (const message of readUIMessageStream({ stream: forMessage })) final = message as never;
  await collect;
  const [a, b] = supervisor.list('chat-1').map((s) => s.task_id);
  await supervisor.stop();
  return { chunks, final: final!, prompts, outcome: outcome!, ids: { a: a!, b: b! } };
}

/** The data of the final message's `data-task` parts. */
export function cards(report: ScenarioReport): TaskCard[] {
  return report.final.parts.filter((p) => p.type === 'data-task').map((p) => p.data as TaskCard);
}
