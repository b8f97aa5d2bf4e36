/**
 * A chat over three turns with the Vercel AI SDK and `awaken-tasks/ai-sdk`:
 *   turn 1 — the model starts a background crawl (a `backgroundTaskTool`) and answers at once;
 *   turn 2 — the crawl's progress, merged into ONE message, is in the prompt; the model reports it;
 *   turn 3 — the model cancels the crawl with `cancel_task`.
 * The model is the SDK's `MockLanguageModelV3` (offline); swap in any provider's model.
 *
 * Run it through its test (`npx vitest run examples/ai-sdk-chat.test.ts`), or after `npm run build`
 * with Node ≥ 22.6: `node --experimental-strip-types examples/ai-sdk-chat.ts`.
 */
import { generateText, jsonSchema, type ModelMessage, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { createInbox, createTaskSupervisor, type Json, TaskResult, type TaskSummary } from 'awaken-tasks';
import { backgroundTaskTool, createTaskTools, inboxEventsToModelMessages } from 'awaken-tasks/ai-sdk';

type Script = (prompt: string) => { text: string } | { call: string; input: Json };

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** A mock model that answers each `doGenerate` with the next scripted step, given the prompt text. */
function scriptedModel(steps: Script[]) {
  const prompts: string[] = [];
  const model = new MockLanguageModelV3({
    doGenerate: async ({ prompt }) => {
      const text = JSON.stringify(prompt);
      prompts.push(text);
      const step = steps.shift();
      if (step === undefined) throw new Error('script exhausted');
      const out = step(text);
      return 'text' in out
        ? {
            content: [{ type: 'text' as const, text: out.text }],
            finishReason: { unified: 'stop' as const, raw: undefined },
            usage,
            warnings: [],
          }
        : {
            content: [
              {
                type: 'tool-call' as const,
                toolCallId: `call-${prompts.length}`,
                toolName: out.call,
                input: JSON.stringify(out.input),
              },
            ],
            finishReason: { unified: 'tool-calls' as const, raw: undefined },
            usage,
            warnings: [],
          };
    },
  });
  return { model, prompts };
}

/** What the chat observed, for its test. */
export interface ChatReport {
  replies: string[];
  /** The messages the runtime added before turns 2 and 3 (converted inbox events). */
  injected: ModelMessage[][];
  crawl: TaskSummary;
  prompts: string[];
}

/**
 * Runs the three-turn chat.
 *
 * @example
 * const { replies, crawl } = await main(() => {});
 * crawl.status; // 'cancelled'
 */
export async function main(log: (line: string) => void = console.log): Promise<ChatReport> {
  const inbox = createInbox();
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
  // One context per conversation: tasks started in any turn are this run's children.
  const context = {
    threadId: 'chat-1',
    runId: 'chat-1-run',
    agentId: 'assistant',
    runController: new AbortController(),
  };

  const crawl = backgroundTaskTool({
    supervisor,
    context,
    name: 'crawl',
    description: 'Crawl a website in the background; reports progress per page.',
    inputSchema: jsonSchema<{ url: string }>({
      type: 'object',
      properties: { url: { type: 'string' } },
      required: ['url'],
    }),
    taskName: () => 'crawler',
    run: async ({ url }, task) => {
      for (let page = 1; page <= 3 && !task.isCancelled(); page++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        task.emit('progress', { url, pages: page });
      }
      await task.cancelled(); // a real crawl would go on; this one waits to be stopped
      return TaskResult.cancelled();
    },
  });
  const tools = { ...createTaskTools(supervisor, context), crawl };

  const { model, prompts } = scriptedModel([
    () => ({ call: 'crawl', input: { url: 'https://example.com' } }),
    (p) => ({ text: `Started ${/\b(bg_\d+)\b/.exec(p)?.[1]}; I'll report back.` }),
    (p) => ({
      text: `Crawled ${/pages\\":(\d+)[^}]*}}\\n<\/background-task-progress>/.exec(p)?.[1]} pages so far.`,
    }),
    () => ({ call: 'cancel_task', input: { target: { relation: 'child', name: 'crawler' } } }),
    () => ({ text: 'Stopped the crawl.' }),
  ]);

  const history: ModelMessage[] = [];
  const injected: ModelMessage[][] = [];
  const replies: string[] = [];
  const turn = async (user: string) => {
    // Task events that arrived since the last turn go in first, one message per task's progress.
    const events = inboxEventsToModelMessages(inbox.receiver.drain());
    if (history.length > 0) injected.push(events);
    history.push(...events, { role: 'user', content: user });
    const result = await generateText({ model, tools, messages: history, stopWhen: stepCountIs(3) });
    history.push(...result.response.messages);
    replies.push(result.text);
    log(`user: ${user}\nassistant: ${result.text}`);
  };

  await turn('Crawl example.com for me.');
  // The user comes back once the crawl has made some progress.
  await waitFor(() => supervisor.stats().eventsDelivered >= 3);
  await turn('How is the crawl going?');
  await turn('Stop it.');

  const [taskId] = supervisor.list('chat-1').map((s) => s.task_id);
  const summary = await supervisor.wait(taskId!, { timeoutMs: 10_000 });
  injected.push(inboxEventsToModelMessages(inbox.receiver.drain()));
  log(`crawl ${summary.task_id}: ${summary.status}`);
  await supervisor.stop();
  return { replies, injected, crawl: summary, prompts };
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the crawl');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
